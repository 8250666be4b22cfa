"""The end-to-end harness: Alma's side in the test process, the bridge as a real subprocess.

`alma_side` starts what the demo starts (`entrypoints.demo.servers`): the fake Alma under uvicorn
and an asyncssh SFTP server with a pinned host key, both on 127.0.0.1 random ports, in the
test's event loop, and writes the demo's conf.json (`entrypoints.demo.setup`) beside a migrated
SQLite ledger. `ServiceProcess` runs `python -m entrypoints.cli serve` on a free port with that
conf.json and ledger, waits for `/health` with a deadline, and stops it with SIGTERM (or kills
it with SIGKILL). Tests then act as Alma does: files on the SFTP server, signed webhooks, and
the SCF desk through the fake's REST API; they observe only through the service's HTTP API, the
fake's state and the files.

Every wait polls with a deadline (`until`); none sleeps a fixed time. Leases are not in the HTTP
API, so `LedgerInbox` reads the inbox's rows straight from the bridge's ledger (read-only), and
`wait_taken_up` measures rule W8: how long after a kill a live process holds the dead one's work.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from rich.console import Console
from sqlalchemy import select

from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.database_url import ENVIRONMENT_VARIABLE as DATABASE_URL_ENV
from adapters.ledger.engine import READ_ONLY, create_ledger_engine
from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import rows as sql_rows
from adapters.ledger.tables import inbox_messages
from application.shared.ledger_records import InboxMessage, InboxStatus
from domain.scf.signature import SIGNATURE_HEADER, sign
from entrypoints.demo import webhooks
from entrypoints.demo.alma_files import PublishedItem, PublishedRecord
from entrypoints.demo.scenario import Demo
from entrypoints.demo.scf_desk import ScfDesk
from entrypoints.demo.servers import LOOPBACK, SftpEndpoint, http_server, sftp_server
from entrypoints.demo.setup import (
    API_KEYS,
    SCF,
    SCF_DESK,
    SCF_LIBRARY,
    SFTP_USER,
    DemoPaths,
    DemoSecrets,
    conf_document,
    service_environ,
    write_conf,
)
from entrypoints.http.auth import ADMIN_TOKEN_ENV

REPOSITORY = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"
LEASE_ENV = "ALMABRIDGE_WORKER_LEASE_SECONDS"
"""The service's own setting of the worker's inbox lease (entrypoints/worker_runtime.py)."""

_MIGRATIONS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
"""Alembic's command API keeps module globals: two upgrades at once in one process collide."""

START_DEADLINE = 30.0
STOP_DEADLINE = 20.0
POLL = 0.1
W8_SECONDS = 30.0
"""Rule W8: a dead worker's message is taken up again within this long, with default settings."""


async def until(
    condition: Callable[[], Awaitable[bool]], seconds: float, what: str, poll: float = POLL
) -> None:
    """Poll `condition` until it holds; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(poll)


def free_port() -> int:
    """A port nothing listens on right now (the service binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def clean_environment() -> dict[str, str]:
    """The caller's environment without any almabridge setting that could win over conf.json."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ALMABRIDGE_") and key not in ("CONFIG_FILE", LEASE_ENV)
    }


def seed_remote_storage(
    state: FakeAlmaState,
    institution: str,
    place: tuple[str, str],
    barcodes: Sequence[str],
    *,
    bibs: int,
    title: str,
) -> list[PublishedRecord]:
    """Items of a member in remote storage (`place` = library, location), seeded at the member
    on `bibs` bibs of equal share (titled `{title} {n} /`), and their publishing records."""
    library, location = place
    per_bib = len(barcodes) // bibs
    records = []
    for number in range(bibs):
        mms_id: str | None = None
        for barcode in barcodes[number * per_bib : (number + 1) * per_bib]:
            item = state.seed_item(
                institution,
                barcode=barcode,
                library=library,
                location=location,
                mms_id=mms_id,
                title=f"{title} {number} /",
            )
            mms_id = item.mms_id
        assert mms_id is not None
        published = tuple(
            PublishedItem(barcode, library, location)
            for barcode in barcodes[number * per_bib : (number + 1) * per_bib]
        )
        records.append(PublishedRecord(mms_id, f"{title} {number} /", published))
    return records


@dataclass
class AlmaSide:
    """One consortium: the fake Alma's state and URL, the SFTP server, the bridge's files."""

    paths: DemoPaths
    state: FakeAlmaState
    gateway: str
    sftp: SftpEndpoint
    secrets: DemoSecrets
    client: httpx.AsyncClient
    demo: Demo
    faults: FaultInjector
    """The fake's fault injector (no fault unless a test scripts one; Alma's thresholds on)."""
    ledger_url: str | None = None
    """The bridge's ledger when not the SQLite file beside conf.json (e.g. a PostgreSQL schema)."""

    @property
    def database_url(self) -> str:
        """The ledger URL the bridge's processes are given (ALMABRIDGE_DATABASE_URL)."""
        return self.ledger_url or self.paths.database_url

    @property
    def desk(self) -> ScfDesk:
        """The SCF's circulation desk, over the fake's REST API."""
        return ScfDesk(self.client, self.gateway, API_KEYS[SCF], SCF_LIBRARY, SCF_DESK)


@contextlib.asynccontextmanager
async def alma_side(
    root: Path, state: FakeAlmaState | None = None, *, database_url: str | None = None
) -> AsyncIterator[AlmaSide]:
    """The fake Alma (the demo consortium, or `state`) and the SFTP server, with the bridge's
    conf.json and migrated ledger in `root` (or at `database_url`, migrated too); everything
    stops on leaving the block."""
    paths = DemoPaths(root)
    paths.make()
    # Demo gives the consortium's state and its file-dropping scenario steps; nothing prints.
    demo = Demo(paths, Console(file=io.StringIO()))
    if state is not None:
        demo.state = state
    secrets = demo.secrets
    faults = FaultInjector(FaultConfig(), clock=demo.state.clock, seed=demo.state.seed)
    async with contextlib.AsyncExitStack() as stack:
        gateway = await stack.enter_async_context(
            http_server(create_fake_alma_app(demo.state, faults))
        )
        sftp = await stack.enter_async_context(
            sftp_server(paths.sftp_root, SFTP_USER, secrets.sftp_password)
        )
        document = conf_document(paths, gateway, sftp.port, sftp.fingerprint, secrets)
        document["log_backup"] = {"enabled": False}
        write_conf(paths, document)
        async with _MIGRATIONS.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
            await upgrade(database_url or paths.database_url)
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0))
        yield AlmaSide(
            paths, demo.state, gateway, sftp, secrets, client, demo, faults, database_url
        )


@dataclass
class ServiceProcess:
    """`almabridge serve` as a subprocess over one AlmaSide's conf.json and ledger."""

    side: AlmaSide
    admin_token: str | None = ADMIN_TOKEN
    lease_seconds: float | None = None
    """Set: the service runs with this inbox lease (ALMABRIDGE_WORKER_LEASE_SECONDS)."""
    extra_environment: dict[str, str] = field(default_factory=dict)
    """More environment variables (e.g. $ALMABRIDGE_WORKFLOWS for scheduled runs)."""
    process: asyncio.subprocess.Process | None = None
    port: int = 0
    starts: int = 0
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def owner(self) -> str:
        """The name the process's worker leases messages under (`hostname:pid`, its default)."""
        assert self.process is not None
        return f"{socket.gethostname()}:{self.process.pid}"

    def _command(self) -> list[str]:
        module = "entrypoints.cli"
        return [
            sys.executable,
            "-m",
            module,
            "serve",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--log-level",
            "info",
        ]

    def _environment(self) -> dict[str, str]:
        environment = {
            **clean_environment(),
            **service_environ(self.side.paths),
            "PYTHONPATH": str(REPOSITORY),
            DATABASE_URL_ENV: self.side.database_url,
        }
        if self.admin_token is not None:
            environment[ADMIN_TOKEN_ENV] = self.admin_token
        if self.lease_seconds is not None:
            environment[LEASE_ENV] = str(self.lease_seconds)
        return {**environment, **self.extra_environment}

    async def start(self) -> None:
        """Start the service and wait until `/health` answers 200; retries a lost port race."""
        for _ in range(3):
            self.port = free_port()
            self.starts += 1
            log = self.side.paths.root / f"service-{self.starts}.log"
            self.logs.append(log)
            with log.open("wb") as output:
                self.process = await asyncio.create_subprocess_exec(
                    *self._command(),
                    cwd=self.side.paths.root,
                    env=self._environment(),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if await self._healthy():
                return
            if self.process.returncode != 2 or "cannot listen" not in self.log_text():
                break
        raise AssertionError(f"the service did not become healthy:\n{self.log_text()}")

    async def _healthy(self) -> bool:
        deadline = time.monotonic() + START_DEADLINE
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.returncode is not None:
                    return False
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get(f"{self.url}/health")).status_code == 200:
                        return True
                await asyncio.sleep(POLL)
        return False

    def log_text(self, tail: int = 6000) -> str:
        """The end of the current run's output (for failure messages)."""
        if not self.logs:
            return ""
        return self.logs[-1].read_text(errors="replace")[-tail:]

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no lease released, nothing flushed."""
        process = self.process
        assert process is not None
        if process.returncode is None:
            process.kill()
        await asyncio.wait_for(process.wait(), STOP_DEADLINE)

    async def stop(self) -> int | None:
        """SIGTERM and wait; a service that will not stop, or a stop that is itself
        interrupted, is killed, so that nothing is left running."""
        process = self.process
        if process is None or process.returncode is not None:
            return None if process is None else process.returncode
        process.terminate()
        try:
            return await asyncio.wait_for(process.wait(), STOP_DEADLINE)
        except TimeoutError:
            await self.kill()
            raise AssertionError(f"the service ignored SIGTERM:\n{self.log_text()}") from None
        except BaseException:
            process.kill()
            raise


@dataclass
class WorkerProcess(ServiceProcess):
    """`almabridge worker` (the inbox worker alone, no HTTP) as a subprocess over one AlmaSide's
    conf.json and ledger; `start` returns once the process runs (there is no /health to ask),
    and `stop`, `kill` and `log_text` work as for the service."""

    name: str = "worker"
    """Names its log files (`{name}-{start}.log`): several workers may run side by side."""

    def _command(self) -> list[str]:
        return [sys.executable, "-m", "entrypoints.cli", "worker", "--log-level", "info"]

    async def start(self) -> None:
        self.starts += 1
        log = self.side.paths.root / f"{self.name}-{self.starts}.log"
        self.logs.append(log)
        with log.open("wb") as output:
            self.process = await asyncio.create_subprocess_exec(
                *self._command(),
                cwd=self.side.paths.root,
                env=self._environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_ready(self, seconds: float = 60.0) -> None:
        """Until the worker has built its bridge and claims ("inbox worker … ready" in its
        log): a test that shares work between processes starts it only then."""

        async def ready() -> bool:
            return " ready: " in self.logs[-1].read_text(errors="replace")

        await until(ready, seconds, f"{self.name} to be ready", poll=0.05)


class LedgerInbox:
    """The bridge's inbox rows, read straight from its ledger in read-only transactions."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_ledger_engine(database_url)

    async def messages(self) -> list[InboxMessage]:
        async with self._engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})
            rows = (await conn.execute(select(inbox_messages))).all()
        return [sql_rows.inbox_message(row) for row in rows]

    async def held_by_others(self, owner: str) -> list[InboxMessage]:
        """Messages in processing under a lease of another owner than `owner`."""
        return [
            message
            for message in await self.messages()
            if message.status is InboxStatus.PROCESSING and message.lock_owner != owner
        ]

    async def close(self) -> None:
        await self._engine.dispose()


async def wait_taken_up(
    inbox: LedgerInbox, live: ServiceProcess, killed_at: float, seconds: float = W8_SECONDS
) -> float:
    """Seconds from `killed_at` (time.monotonic) until no message is held by another owner than
    the live process any more (rule W8); fails naming the holders after `seconds`."""
    held: list[InboxMessage] = []

    async def taken_up() -> bool:
        nonlocal held
        held = await inbox.held_by_others(live.owner)
        return not held

    try:
        await until(taken_up, seconds - (time.monotonic() - killed_at), "W8", poll=0.05)
    except AssertionError:
        holders = [(m.id, m.lock_owner, m.lease_until) for m in held]
        raise AssertionError(
            f"W8: {seconds:.0f} s after the kill, messages are still held by the dead process:"
            f" {holders}\n{live.log_text()}"
        ) from None
    return time.monotonic() - killed_at


@contextlib.asynccontextmanager
async def running_service(
    side: AlmaSide, *, admin_token: str | None = ADMIN_TOKEN, lease_seconds: float | None = None
) -> AsyncIterator[ServiceProcess]:
    """A started service, stopped (or killed, if it will not stop) on leaving the block."""
    service = ServiceProcess(side, admin_token, lease_seconds)
    try:
        await service.start()
        yield service
    finally:
        await service.stop()


class BridgeApi:
    """The service's HTTP API as a test uses it: webhooks, health and the admin routes."""

    def __init__(self, client: httpx.AsyncClient, service: ServiceProcess, secret: str) -> None:
        self._client = client
        self._service = service
        self._secret = secret

    @property
    def url(self) -> str:
        return self._service.url

    async def post_webhook(self, raw: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """POST raw bytes to /webhook with exactly these headers."""
        return await self._client.post(f"{self.url}/webhook", content=raw, headers=dict(headers))

    async def send(self, body: dict[str, Any]) -> bytes:
        """Sign and send a webhook as Alma does (the demo's sender); the raw body sent."""
        await webhooks.send(self._client, f"{self.url}/webhook", self._secret, body)
        return json.dumps(body).encode()

    def signed(self, raw: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self._secret, raw)}

    async def admin(self, path: str, **params: str) -> Any:
        """GET an admin route with the token; its JSON (or text for /metrics)."""
        answer = await self._client.get(
            f"{self.url}{path}",
            params=params,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        answer.raise_for_status()
        return answer.text if path == "/metrics" else answer.json()

    async def item_history(self, institution: str, barcode: str) -> Any:
        """`/ledger/items/{inst}/{barcode}`, the barcode percent-encoded."""
        return await self.admin(f"/ledger/items/{institution}/{quote(barcode, safe='')}")

    async def inbox(self) -> dict[str, int]:
        """Inbox depth by status, from /health (no token needed)."""
        report = (await self._client.get(f"{self.url}/health")).json()
        inbox: dict[str, int] = report["inbox"]
        return inbox

    async def events(self, **filters: str) -> list[dict[str, Any]]:
        """Every ledger event matching the filters, oldest first (all pages)."""
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self.admin("/ledger/events", **filters, limit="1000", offset=str(offset))
            found.extend(page["events"])
            if page["next_offset"] is None:
                return found
            offset = page["next_offset"]

    async def processed(self) -> list[dict[str, Any]]:
        """The worker's `webhook.process` events."""
        return await self.events(action="webhook.process")

    async def wait_processed(self, count: int, seconds: float = 30.0) -> list[dict[str, Any]]:
        """Wait until `count` messages are done and the inbox is empty; the done events."""

        async def settled() -> bool:
            inbox = await self.inbox()
            return inbox["pending"] + inbox["processing"] == 0 and inbox["done"] >= count

        try:
            await until(settled, seconds, f"{count} processed webhooks")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self._service.log_text()}") from None
        return await self.processed()

    async def metric(self, name: str, **labels: str) -> float:
        """One sample of /metrics (0 when absent)."""
        wanted = name
        if labels:
            inner = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
            wanted = f"{name}{{{inner}}}"
        for line in (await self.admin("/metrics")).splitlines():
            sample, _, value = line.rpartition(" ")
            if sample == wanted or _same_sample(sample, name, labels):
                return float(value)
        return 0.0


def _same_sample(sample: str, name: str, labels: Mapping[str, str]) -> bool:
    if not sample.startswith(name + "{"):
        return False
    inner = sample[len(name) + 1 : -1]
    pairs = dict(part.split("=", 1) for part in inner.split(",") if "=" in part)
    return all(pairs.get(key) == f'"{value}"' for key, value in labels.items()) and len(
        pairs
    ) == len(labels)
