"""Webhook ingest throughput of the HTTP service (issue 6, item 7): acknowledged/s and latency.

Serves the real application under uvicorn in a subprocess on a random port, with a migrated
SQLite ledger in a temporary folder (the inbox worker off unless ``--with-worker``), then sends N
signed webhooks, each with its own id, ``--concurrency`` at a time over keep-alive connections.
Every acknowledgement means the body was committed to the inbox first (rule W3), so afterwards
every id is looked up in the ledger.

The load comes from a minimal HTTP/1.1 client on asyncio streams by default: on this 2-core
machine an httpx client spends about 1.7 ms of CPU per request and saturates its core near 520
requests/s even against the trivial challenge route, so it would measure itself. ``--client
httpx`` sends the same load with httpx. Prints acknowledged/s, p50/p90/p99/max latency; exits 1
when a webhook was not acknowledged or not stored, or the target (≥ 500/s, p99 < 100 ms) is missed.

Run from the repository root: ``/work/venv/bin/python bench/webhook_ingest.py [-n 2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from adapters.ledger.migrate import upgrade  # noqa: E402
from domain.scf.signature import SIGNATURE_HEADER, sign  # noqa: E402

SECRET = "bench-webhook-secret"  # noqa: S105 (a throwaway secret of the benchmark's own service)
BODY = (
    REPOSITORY
    / "tests/fixtures/alma"
    / "lulibrary-alma-webhook-handler__loan_returned_event.body.json"
)
TARGET_RATE, TARGET_P99_MS = 500.0, 100.0

LAUNCHER = """
import sys, uvicorn
from entrypoints.container import Container
from entrypoints.http import create_app
app = create_app(Container(), run_worker=sys.argv[3] == "1")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level=sys.argv[2])
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def bodies(count: int, prefix: str) -> list[tuple[str, bytes]]:
    """Real Alma loan-return webhooks, each with its own id (so none is a duplicate)."""
    template = json.loads(BODY.read_bytes())
    result = []
    for n in range(count):
        template["id"] = f"{prefix}{n:08d}"
        result.append((template["id"], json.dumps(template, separators=(",", ":")).encode()))
    return result


async def wait_until_serving(port: int, server: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(200):
            if server.poll() is not None:
                raise SystemExit(f"the service exited with {server.returncode} before serving")
            try:
                if (await client.get("/webhook")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("the service did not start within 10 s")


class RawConnection:
    """One keep-alive HTTP/1.1 connection that POSTs and reads a Content-Length answer."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self._port)
        reader, writer = self._streams
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        return status, await reader.readexactly(length)

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            await self._streams[1].wait_closed()


async def send_all(
    port: int, batch: list[tuple[str, bytes]], concurrency: int, client_kind: str
) -> tuple[list[float], list[str], float]:
    """Latencies (s) of acknowledged webhooks, ids not acknowledged, wall time (s)."""
    latencies: list[float] = []
    refused: list[str] = []
    queue = iter(batch)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30.0)

    async def sender() -> None:
        raw = RawConnection(port)
        try:
            for webhook_id, body in queue:  # a shared iterator: each sender takes the next one
                headers = {SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"}
                started = time.perf_counter()
                if client_kind == "raw":
                    status, text = await raw.post("/webhook", body, headers)
                else:
                    response = await client.post("/webhook", content=body, headers=headers)
                    status, text = response.status_code, response.content
                elapsed = time.perf_counter() - started
                if status == 200 and text == b"Got message":
                    latencies.append(elapsed)
                else:
                    refused.append(f"{webhook_id}: {status}")
        finally:
            await raw.close()

    async with client:
        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        return latencies, refused, time.perf_counter() - started


def server_stack() -> str:
    """Which event loop and HTTP parser uvicorn picks: uvloop and httptools when installed."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop} loop, {parser} parser"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stored_keys(ledger: Path) -> set[str]:
    with sqlite3.connect(ledger) as connection:
        return {row[0] for row in connection.execute("SELECT dedupe_key FROM inbox_messages")}


async def run(count: int, concurrency: int, with_worker: bool, client_kind: str) -> int:
    folder = Path(tempfile.mkdtemp(prefix="almabridge-bench-"))
    ledger = folder / "ledger.db"
    conf = json.loads((REPOSITORY / "examples/conf.json").read_text())
    conf.update(webhook_secret=SECRET, main_local_folder=str(folder / "work"))
    (folder / "conf.json").write_text(json.dumps(conf))
    await upgrade(f"sqlite:///{ledger}")
    port = free_port()
    env = {
        **os.environ,
        "CONFIG_FILE": str(folder / "conf.json"),
        "ALMABRIDGE_DATABASE_URL": f"sqlite:///{ledger}",
        "PYTHONPATH": str(REPOSITORY),
    }
    command = [sys.executable, "-c", LAUNCHER, str(port), "warning", "1" if with_worker else "0"]
    # The service runs for the whole measurement; started here, stopped in `finally`.
    server = subprocess.Popen(command, env=env, cwd=folder)  # noqa: S603, ASYNC220
    try:
        await wait_until_serving(port, server)
        warm_up = bodies(min(100, count), "warm")
        await send_all(port, warm_up, concurrency, client_kind)
        measured = bodies(count, "bench")
        cpu_before = cpu_seconds(server.pid)
        latencies, refused, wall = await send_all(port, measured, concurrency, client_kind)
        server_cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(timeout=30)
    keys = stored_keys(ledger)
    missing = [webhook_id for webhook_id, _ in measured + warm_up if webhook_id not in keys]
    print(
        f"webhook ingest: {count} signed webhooks, {concurrency} concurrent, {client_kind} client, "
        f"SQLite ledger, worker {'on' if with_worker else 'off'}, "
        f"uvicorn (1 process, {server_stack()})"
    )
    print(f"  service CPU      {server_cpu / count * 1000:.2f} ms per webhook (all its threads)")
    return report(count + len(warm_up), latencies, refused, wall, missing)


def report(
    sent: int,
    latencies: list[float],
    refused: list[str],
    wall: float,
    missing: list[str],
) -> int:
    ms = sorted(latency * 1000 for latency in latencies)
    cuts = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    rate = len(ms) / wall
    p50, p90, p99 = cuts[49], cuts[89], cuts[98]
    print(f"  acknowledged     {len(ms)} in {wall:.2f} s = {rate:.0f}/s (after a warm-up)")
    print(f"  latency ms       p50 {p50:.1f}  p90 {p90:.1f}  p99 {p99:.1f}  max {ms[-1]:.1f}")
    print(f"  in the inbox     {sent - len(missing)} of {sent} sent (warm-up included)")
    ok = not refused and not missing and rate >= TARGET_RATE and p99 < TARGET_P99_MS
    print(
        f"  target           >= {TARGET_RATE:.0f}/s and p99 < {TARGET_P99_MS:.0f} ms, "
        f"every one stored: {'met' if ok else 'MISSED'}"
    )
    for line in (refused + [f"not stored: {m}" for m in missing])[:10]:
        print(f"  ! {line}")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=2000, help="webhooks (default 2000)")
    parser.add_argument("-c", "--concurrency", type=int, default=20, help="in flight (20)")
    parser.add_argument("--with-worker", action="store_true", help="run the inbox worker too")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw", help="load client")
    options = parser.parse_args()
    outcome = run(options.count, options.concurrency, options.with_worker, options.client)
    sys.exit(asyncio.run(outcome))


if __name__ == "__main__":
    main()
