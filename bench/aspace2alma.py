"""Benchmark of ArchivesSpace to Alma (issue 18, part 5): wall time, ArchivesSpace and Alma calls
and their rates, and peak RSS of `almabridge run aspace2alma`, at the default ``concurrency`` and
at a second one, beside a model of the upstream job, which fetches one resource at a time and
sleeps 0.25 s after each. Not a test; not run in CI.

**The fake ArchivesSpace** runs out of this process, as an operator would start it: ``python -m
entrypoints.cli fake-archivesspace --resources N --latency-ms MS`` (``--resources`` default 2,000,
``--latency`` default 0.1 s a call) on 127.0.0.1, seeded by `build_state` (`seed_many`: every
resource of repository 3 with valid MARCXML, an 856 and no excluded call number, so each is
written, and 3 ReCAP top containers with distinct barcodes). Its call log is read from its
control API (``/_fake_archivesspace/calls``) run by run; its CPU from ``/proc/PID/stat``.

**The fake Alma** runs under uvicorn on 127.0.0.1 in this process (its state frozen out of the
collector), on a socket made with ``IPPROTO_TCP`` (as bench/course_loading.py: asyncio then sets
``TCP_NODELAY``), enforcing its threshold of 25 calls a second and answering after
``--alma-latency`` seconds a call (default 0.1: the issue gives one latency, ArchivesSpace's).
It holds the set of known barcodes: ``--barcodes`` members (default 50,000, 500 pages of 100),
the barcodes of nine containers in ten of the fake ArchivesSpace (the tenth is new to Alma and
becomes a 949) and made-up others. The CPU this process spends while a run lasts is the fake
Alma's (it does nothing else then): printed per call and as a share of the wall time, as the fake
ArchivesSpace's is, and the bench says so when either may be setting the pace.

**The runs.** Each run is a child process (this script with a hidden ``--child`` flag, started
with `asyncio.create_subprocess_exec`), with the options `almabridge run aspace2alma --config F
--institution 01AAA_AB --no-upload` stores, the workflow `AspaceJob` with its own
`AlmaHttpClient` at ``rate_limit_per_second = 25`` and its own `HttpArchivesSpace` at
``[aspace2alma.archivesspace] concurrency``: left out (the default, 4) for the first run,
``--second-concurrency`` (default 8) for the second. Each run has a fresh SQLite ledger (migrated
by this process, so Alembic is not in a child's peak; on tmpfs when there is one) and output
folder. The ArchivesSpace client is wrapped in a pass-through that notes when each resource call
returns, so the report can say what ArchivesSpace did while the Alma set was read. The wall time
is `JobRunner.run` from call to return; peak RSS is the child's ``VmHWM`` (not ``ru_maxrss``,
which Linux carries over the exec from this big parent), no baseline subtracted, the RSS after
the child's set-up printed beside it. The records are counted from the ledger by kind and
outcome, the items from their details and ``MARC_out.xml``, and checked against the data.

**The upstream model** (research seed-workflows §a; pulibrary/lib_jobs `SendMarcxmlToAlmaJob`,
`AlmaDuplicateBarcodeCheck`). Resources: log in, list the repositories and resource ids, then
per resource one at a time GET its MARCXML, GET its top container search, process it (here: our
parse, rules 1-17 and the record's MARCXML) and ``sleep 0.25``; run for real, one call at a time
(`HttpArchivesSpace` at ``concurrency = 1``) against the same fake ArchivesSpace, on ``--sample``
resources (default 40) spread evenly over the ids; its seconds per resource are scaled to every
resource, the listing added once. The Alma set: upstream asks offset 0 for the count, then
offsets 0 to the count by 100 (501 pages for 50,000: its range includes the count), each in a
thread, starting one more while fewer than 5 are alive and sleeping a whole second when 5 are.
This is computed, not measured: its best time (5 in flight, never above 25/s: one latency plus
max(pages / 25, pages / 5 x latency)) goes into the model, in upstream's favour; the time of the
code as written (5 pages, then a 1 s sleep) is printed beside it. The model's time over a run's
wall time is the speed-up.

The speed-up has an arithmetic ceiling: each resource is 2 ArchivesSpace calls, so a run takes at
least 2 x resources x latency / concurrency, against upstream's 2 x latency + 0.25 s a resource:
concurrency x (2 x latency + 0.25) / (2 x latency), 9x at the default 4 and 0.1 s, below the
issue's 10x whatever else the run does; 18x at 8. It is printed beside each run's figure (from
the measured model). The set-read line of each run says when the Alma set was read and how many
ArchivesSpace calls returned meanwhile: the set's pages are asked for together (paced by the
client's throttle) and the ArchivesSpace fetches run ahead while it is read.

Target: >= 10x the model, judged on the run at ``concurrency = 8`` (configured in
``[aspace2alma.archivesspace]``): at the default 4 the ceiling above is 9.4x at 0.1 s, so that
run's figure is printed and its ceiling beside it, not judged. Prints the figures, then a
PASS/FAIL line for the target and one for the runs' counts; exits 1 on a miss. When the target
is missed, the arithmetic of why is printed.

Run from the repository root: ``.venv/bin/python bench/aspace2alma.py`` (about 5 minutes at the
defaults); ``--quick`` for a smoke run of under a minute (200 resources, 5,000 barcodes, 10
sampled).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import platform
import random
import re
import resource
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
REPOSITORY = SCRIPT.parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

import httpx  # noqa: E402

import entrypoints  # noqa: E402, F401  (its warning filters go in before asyncssh is imported)
from adapters.alma_http.client import AlmaHttpClient  # noqa: E402
from adapters.aspace.http_client import HttpArchivesSpace  # noqa: E402
from adapters.aspace.marc_out import record_xml  # noqa: E402
from adapters.aspace.resource_marc import AspaceResourceMarc  # noqa: E402
from adapters.fake_alma import (  # noqa: E402
    FakeAlmaState,
    FaultConfig,
    FaultInjector,
    create_fake_alma_app,
)
from adapters.fake_archivesspace import DEFAULT_PASSWORD, DEFAULT_USER, build_state  # noqa: E402
from adapters.ledger.clock import SystemClock  # noqa: E402
from adapters.ledger.migrate import upgrade  # noqa: E402
from adapters.ledger.sql import SqlLedger  # noqa: E402
from application.aspace.export_collection import ASPACE2ALMA  # noqa: E402
from application.aspace.ports import ArchivesSpace, Repository  # noqa: E402
from application.shared.connections import Secret  # noqa: E402
from application.shared.run_context import RunProgress  # noqa: E402
from application.shared.runs import JobRunner  # noqa: E402
from application.shared.workflow_settings import (  # noqa: E402
    AlmaInstitution,
    ArchivesSpaceConnection,
)
from domain.aspace.containers import TopContainer  # noqa: E402
from domain.aspace.transform import Transformed, transform_record  # noqa: E402
from domain.shared.aspace_rules import PRINCETON_RULES  # noqa: E402
from entrypoints.aspace_wiring import (  # noqa: E402
    ASPACE2ALMA_ENTRY,
    AspaceJob,
    AspaceJobOptions,
    archivesspace_client,
)
from entrypoints.demo.servers import http_server  # noqa: E402
from entrypoints.workflow_entries import read_config  # noqa: E402

AB, KEY, RATE = "01AAA_AB", "ab-example-key", 25
SET_ID = "9100000000018101"
DEFAULT_CONCURRENCY = ArchivesSpaceConnection().concurrency
CONTAINERS = 3
"""Top containers per resource (`seed_many`'s default, as the CLI seeds)."""
NEW_EVERY = 10
"""One container in this many has a barcode Alma's set does not hold (a new item, a 949)."""
PAGE = 100
UPSTREAM_SLEEP = 0.25
UPSTREAM_THREADS = 5
TARGET_RATIO = 10.0
JUDGED_CONCURRENCY = 8
"""The run the target is judged on: ``[aspace2alma.archivesspace] concurrency = 8``."""
FAKE_BOUND = 0.5
"""A fake's CPU share of a run's wall time above which it may be setting the pace."""
SEED = 18
CHILD_FLAG = "--child"
SETS_PATH = "/almaws/v1/conf/sets/"
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 - the children's ledgers
"""tmpfs when there is one: a disk's fsync per committed record would time the disk."""
RECORD = re.compile(rb"<(?:[\w.-]+:)?record[\s>]")
ITEM_FIELD = re.compile(rb'tag="949"')


@dataclass(frozen=True)
class Sizes:
    resources: int
    barcodes: int
    sample: int


FULL = Sizes(2_000, 50_000, 40)
QUICK = Sizes(200, 5_000, 10)


# ---- the data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Data:
    """What the fakes hold, as far as the checks need it."""

    resources: list[tuple[int, int]]
    containers: int
    new_items: int
    members: list[tuple[str, str]]
    """The set's members: (item id, barcode)."""

    @property
    def known(self) -> set[str]:
        return {barcode for _, barcode in self.members}


def make_data(sizes: Sizes) -> Data:
    """The fake ArchivesSpace's resources as the CLI seeds them (`build_state`, the same
    arguments give the same records), and the Alma set (see the module text)."""
    state = build_state(resources=sizes.resources)
    resources = [(repo, rid) for repo, ids in state.resources.items() for rid in sorted(ids)]
    barcodes = [
        str(json.loads(str(doc["json"])).get("barcode", ""))
        for repo in state.repositories
        for doc in state.container_docs(repo)
    ]
    known = [b for i, b in enumerate(barcodes) if i % NEW_EVERY != 0]
    if sizes.barcodes < len(known):
        raise SystemExit(f"--barcodes {sizes.barcodes} is too few: {len(known)} are the fake's")
    others = [f"3210{900_000_000 + i:010d}" for i in range(sizes.barcodes - len(known))]
    chosen = known + others
    random.Random(SEED).shuffle(chosen)  # noqa: S311 - a benchmark's data
    members = [(f"23{i + 1:012d}6421", barcode) for i, barcode in enumerate(chosen)]
    return Data(resources, len(barcodes), len(barcodes) - len(known), members)


# ---- the fakes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class AspaceCalls:
    """The fake ArchivesSpace's call log as its control API lists it."""

    calls: list[dict[str, Any]]
    max_in_flight: int


class FakeArchivesSpaceProcess:
    """``almabridge fake-archivesspace`` in a process of its own, its log and CPU read."""

    def __init__(self, process: asyncio.subprocess.Process, url: str) -> None:
        self.process = process
        self.url = url
        self._http = httpx.AsyncClient(base_url=url, timeout=30.0)

    async def calls(self) -> AspaceCalls:
        answer = await self._http.get("/_fake_archivesspace/calls")
        answer.raise_for_status()
        body = answer.json()
        return AspaceCalls(list(body["calls"]), int(body["max_in_flight"]))

    def cpu(self) -> float:
        """The process's CPU seconds so far (user and system), from ``/proc/PID/stat``."""
        stat = Path(f"/proc/{self.process.pid}/stat")
        if not stat.is_file():
            return math.nan
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def aclose(self) -> None:
        await self._http.aclose()


@contextlib.asynccontextmanager
async def fake_archivesspace(
    resources: int, latency: float
) -> AsyncIterator[FakeArchivesSpaceProcess]:
    """The CLI's fake on a free port of 127.0.0.1, ready when its control API answers."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "entrypoints.cli",
        "fake-archivesspace",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--resources",
        str(resources),
        "--latency-ms",
        f"{latency * 1000:g}",
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    fake = FakeArchivesSpaceProcess(process, f"http://127.0.0.1:{port}")
    try:
        async with asyncio.timeout(60):
            while True:
                if process.returncode is not None:
                    err = await process.stderr.read() if process.stderr else b""
                    sys.stderr.write(err.decode(errors="replace"))
                    raise SystemExit("the fake ArchivesSpace did not start")
                with contextlib.suppress(httpx.HTTPError):
                    await fake.calls()
                    break
                await asyncio.sleep(0.1)
        yield fake
    finally:
        await fake.aclose()
        if process.returncode is None:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await process.wait()
        if process.returncode is None:
            process.kill()
            await process.wait()


# ---- the child: one measured run ---------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak RSS so far: Linux's ``VmHWM`` (not ``ru_maxrss``, which Linux carries
    over an exec from the parent)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ledger_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'ledger.db'}"


class TimedArchivesSpace:
    """The run's own ArchivesSpace client, passed through, noting when each resource call (its
    MARCXML, its container search) returns (``time.time()``)."""

    def __init__(self, inner: ArchivesSpace) -> None:
        self.inner = inner
        self.returned: list[float] = []

    async def repositories(self) -> list[Repository]:
        return await self.inner.repositories()

    async def resource_ids(self, repo_id: int) -> list[int]:
        return await self.inner.resource_ids(repo_id)

    async def resource_marcxml(self, repo_id: int, resource_id: int) -> bytes:
        data = await self.inner.resource_marcxml(repo_id, resource_id)
        self.returned.append(time.time())
        return data

    async def top_containers(self, repo_id: int, resource_id: int) -> list[TopContainer]:
        found = await self.inner.top_containers(repo_id, resource_id)
        self.returned.append(time.time())
        return found

    async def aclose(self) -> None:
        await self.inner.aclose()


def run_records(database: Path, run_id: int) -> dict[str, Any]:
    """The run's records by kind and outcome, and the items of its written resources."""
    by_kind: dict[str, dict[str, int]] = {}
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT kind, outcome, count(*) FROM run_records WHERE run_id = ? "
            "GROUP BY kind, outcome",
            (run_id,),
        )
        for kind, outcome, count in rows:
            by_kind.setdefault(str(kind), {})[str(outcome)] = int(count)
        (items,) = connection.execute(
            "SELECT coalesce(sum(json_extract(detail, '$.items')), 0) FROM run_records "
            "WHERE run_id = ? AND kind = 'resource' AND outcome = 'ok'",
            (run_id,),
        ).fetchone()
    return {"records": by_kind, "items": int(items)}


async def child(config: Path, folder: Path) -> None:
    """In the child: the run as `almabridge run aspace2alma --config F --institution 01AAA_AB
    --no-upload` builds it (the ArchivesSpace client timed); one JSON line of figures."""
    setup = read_config(config)
    options = ASPACE2ALMA_ENTRY.options(["--institution", AB, "--no-upload"], setup)
    clients: list[AlmaHttpClient] = []
    archives: list[TimedArchivesSpace] = []

    def connect_alma(institution: AlmaInstitution) -> AlmaHttpClient:
        clients.append(
            AlmaHttpClient(institution.url, rate_per_second=institution.rate_limit_per_second)
        )
        return clients[-1]

    def connect_aspace(connection: ArchivesSpaceConnection) -> ArchivesSpace:
        archives.append(TimedArchivesSpace(archivesspace_client(connection)))
        return archives[-1]

    job = AspaceJob(
        AspaceJobOptions.read(ASPACE2ALMA, options),
        setup,
        connect_alma=connect_alma,
        connect_aspace=connect_aspace,
        environ={},
    )
    ledger = SqlLedger.from_url(ledger_url(folder), SystemClock())
    messages: list[tuple[float, str]] = []

    def progress(update: RunProgress) -> None:
        if update.message:
            messages.append((time.time(), update.message))

    runner = JobRunner(ledger, SystemClock(), ledger, on_progress=progress)
    out = folder / "out"
    try:
        await ledger.check_ready()
        gc.collect()
        setup_mb = peak_rss_mb()
        cpu = cpu_seconds()
        started_at = time.time()
        started = time.perf_counter()
        result = await runner.run(job, out_dir=out, options=options)
        wall = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        peak_mb = peak_rss_mb()
    finally:
        await ledger.close()
    run = result.run
    marc_out = out / "MARC_out.xml"
    document = marc_out.read_bytes() if marc_out.is_file() else b""
    figures = {
        "status": run.status.value,
        "reason": run.reason,
        "counts": [run.counts.ok, run.counts.skipped, run.counts.failed],
        "started_at": started_at,
        "wall": wall,
        "cpu": cpu,
        "setup_mb": setup_mb,
        "peak_mb": peak_mb,
        "retries": sum(c.retries for c in clients),
        "messages": messages,
        "returned": [t for a in archives for t in a.returned],
        "file_records": len(RECORD.findall(document)),
        "file_items": len(ITEM_FIELD.findall(document)),
        "file_mb": len(document) / 1e6,
        **run_records(folder / "ledger.db", run.id),
    }
    print(json.dumps(figures))


# ---- the parent: the runs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One run in its child, and what both fakes saw of it."""

    concurrency: int
    configured: bool
    status: str
    reason: str | None
    counts: tuple[int, int, int]
    started_at: float
    wall: float
    cpu: float
    setup_mb: float
    peak_mb: float
    retries: int
    messages: list[tuple[float, str]]
    returned: list[float]
    records: dict[str, dict[str, int]]
    items: int
    file_records: int
    file_items: int
    file_mb: float
    aspace_calls: int
    aspace_by_kind: dict[str, int]
    aspace_failed: int
    aspace_max_in_flight: int
    aspace_cpu: float
    alma_calls: int
    alma_pages: int
    alma_refused: int
    set_first: float
    set_last: float
    alma_cpu: float

    @property
    def resource_calls(self) -> int:
        return self.aspace_by_kind.get("marc21", 0) + self.aspace_by_kind.get("top_containers", 0)

    def returned_by(self, moment: float) -> int:
        return sum(1 for t in self.returned if t <= moment)


def aspace_kind(call: dict[str, Any]) -> str:
    path = str(call["path"])
    if "/resources/marc21/" in path:
        return "marc21"
    if path.endswith("/top_containers/search"):
        return "top_containers"
    if path.endswith("/login"):
        return "login"
    if path == "/logout":
        return "logout"
    return "listing"


def write_config(folder: Path, alma_url: str, aspace_url: str, concurrency: int | None) -> Path:
    """The run's ``--config`` file: ``concurrency`` left out when None (the default)."""
    config = folder / "workflows.toml"
    lines = [
        f"[alma.{AB}]",
        f'url = "{alma_url}"',
        f'apikey = "{KEY}"',
        f"rate_limit_per_second = {RATE}",
        "",
        "[remotes.drop]",  # the default target; --no-upload never touches it
        f'url = "file://{folder / "drop"}"',
        "",
        "[aspace2alma]",
        f'barcode_set = "{SET_ID}"',
        "",
        "[aspace2alma.archivesspace]",
        f'url = "{aspace_url}"',
        f'user = "{DEFAULT_USER}"',
        f'password = "{DEFAULT_PASSWORD}"',
    ]
    if concurrency is not None:
        lines.append(f"concurrency = {concurrency}")
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


async def measure(
    concurrency: int | None,
    alma: FakeAlmaState,
    aspace: FakeArchivesSpaceProcess,
    alma_url: str,
) -> Measured:
    with tempfile.TemporaryDirectory(prefix="aspace2alma-", dir=SCRATCH) as name:
        folder = Path(name)
        await upgrade(ledger_url(folder))
        config = write_config(folder, alma_url, aspace.url, concurrency)
        aspace_before = len((await aspace.calls()).calls)
        alma_before = len(alma.call_log)
        aspace_cpu = aspace.cpu()
        alma_cpu = time.process_time()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            CHILD_FLAG,
            str(config),
            str(folder),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        alma_cpu = time.process_time() - alma_cpu
        aspace_cpu = aspace.cpu() - aspace_cpu
    lines = out.decode().strip().splitlines()
    if process.returncode != 0 or not lines:
        sys.stderr.write(err.decode())
        raise SystemExit(f"the run at concurrency {concurrency} failed (exit {process.returncode})")
    figures = json.loads(lines[-1])
    logged = await aspace.calls()
    aspace_log = logged.calls[aspace_before:]
    alma_log = [c for c in list(alma.call_log)[alma_before:] if c.path.startswith("/almaws/")]
    admitted = [c for c in alma_log if c.status != 429]
    pages = [c for c in admitted if c.path.startswith(SETS_PATH)]
    return Measured(
        concurrency=concurrency or DEFAULT_CONCURRENCY,
        configured=concurrency is not None,
        status=str(figures["status"]),
        reason=figures["reason"],
        counts=(int(figures["counts"][0]), int(figures["counts"][1]), int(figures["counts"][2])),
        started_at=float(figures["started_at"]),
        wall=float(figures["wall"]),
        cpu=float(figures["cpu"]),
        setup_mb=float(figures["setup_mb"]),
        peak_mb=float(figures["peak_mb"]),
        retries=int(figures["retries"]),
        messages=[(float(at), str(text)) for at, text in figures["messages"]],
        returned=[float(t) for t in figures["returned"]],
        records=figures["records"],
        items=int(figures["items"]),
        file_records=int(figures["file_records"]),
        file_items=int(figures["file_items"]),
        file_mb=float(figures["file_mb"]),
        aspace_calls=len(aspace_log),
        aspace_by_kind=dict(Counter(aspace_kind(c) for c in aspace_log)),
        aspace_failed=sum(1 for c in aspace_log if not 200 <= int(c["status"]) < 300),
        aspace_max_in_flight=logged.max_in_flight,
        aspace_cpu=aspace_cpu,
        alma_calls=len(admitted),
        alma_pages=len(pages),
        alma_refused=len(alma_log) - len(admitted),
        set_first=pages[0].time.timestamp() if pages else math.nan,
        set_last=pages[-1].time.timestamp() if pages else math.nan,
        alma_cpu=alma_cpu,
    )


# ---- the parent: the upstream model ------------------------------------------------------------


@dataclass(frozen=True)
class Serial:
    """Upstream's resources, one at a time, on a sample."""

    resources: int
    calls: int
    listing_calls: int
    listing_wall: float
    wall: float
    items: int
    aspace_cpu: float

    @property
    def per_resource(self) -> float:
        return self.wall / self.resources


def spread(items: Sequence[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """``count`` items spread evenly over ``items``."""
    if count <= 0 or not items:
        return []
    step = len(items) / min(count, len(items))
    return [items[int(i * step)] for i in range(min(count, len(items)))]


async def serial(aspace: FakeArchivesSpaceProcess, data: Data, sample: int) -> Serial:
    """Upstream's loop (see the module text) on ``sample`` resources of the fake."""
    client = HttpArchivesSpace(aspace.url, DEFAULT_USER, Secret(DEFAULT_PASSWORD), concurrency=1)
    marc = AspaceResourceMarc()
    known = data.known
    chosen = spread(data.resources, sample)
    before = len((await aspace.calls()).calls)
    cpu = aspace.cpu()  # the control API's answers (the whole log) are kept out of this window
    items = 0
    try:
        started = time.perf_counter()
        for repository in await client.repositories():  # the login, then the listing
            await client.resource_ids(repository.repo_id)
        listing_wall = time.perf_counter() - started
        started = time.perf_counter()
        for repo_id, resource_id in chosen:
            uri = f"/repositories/{repo_id}/resources/{resource_id}"
            xml = await client.resource_marcxml(repo_id, resource_id)
            containers = await client.top_containers(repo_id, resource_id)
            result = transform_record(marc.parse(xml, uri), containers, known, PRINCETON_RULES)
            if isinstance(result, Transformed):
                record_xml(result.record)
                known.update(item.barcode for item in result.items)
                items += len(result.items)
            await asyncio.sleep(UPSTREAM_SLEEP)
        wall = time.perf_counter() - started
    finally:
        await client.aclose()
    cpu = aspace.cpu() - cpu
    kinds = Counter(aspace_kind(c) for c in (await aspace.calls()).calls[before:])
    return Serial(
        resources=len(chosen),
        calls=kinds["marc21"] + kinds["top_containers"],
        listing_calls=kinds["login"] + kinds["listing"],
        listing_wall=listing_wall,
        wall=wall,
        items=items,
        aspace_cpu=cpu,
    )


def upstream_pages(members: int) -> int:
    """Upstream's set calls: offset 0 for the count, then offsets 0 to the count by 100."""
    return 1 + (members // PAGE + 1)


def set_read_best(members: int, latency: float) -> float:
    """Upstream's set read at its best: the count first, then the pages 5 in flight, never
    above the threshold."""
    pages = upstream_pages(members) - 1
    return latency + max(pages / RATE, math.ceil(pages / UPSTREAM_THREADS) * latency)


def set_read_as_written(members: int, latency: float) -> float:
    """Upstream's set read as its code is written: the count first; then a thread per page
    while fewer than 5 are alive, else ``sleep 1`` and look again; then every thread joined."""
    pages = upstream_pages(members) - 1
    now = latency
    alive: list[float] = []
    for _ in range(pages):
        while sum(1 for end in alive if end > now) >= UPSTREAM_THREADS:
            now += 1.0
        alive.append(now + latency)
    return max(alive, default=now)


@dataclass(frozen=True)
class Upstream:
    resources: float
    listing: float
    set_best: float
    set_written: float

    @property
    def seconds(self) -> float:
        return self.resources + self.listing + self.set_best

    @property
    def as_written(self) -> float:
        return self.resources + self.listing + self.set_written


# ---- the report --------------------------------------------------------------------------------


def fake_line(name: str, cpu: float, calls: int, wall: float) -> str:
    share = cpu / wall
    verdict = (
        f"  << the fake {name} may be setting the pace, not the bridge"
        if share >= FAKE_BOUND
        else " (not the bottleneck)"
    )
    return (
        f"the fake {name}'s CPU {cpu:.1f} s = {share:.0%} of the wall time, "
        f"{cpu / max(1, calls) * 1000:.2f} ms per call{verdict}"
    )


def report_run(run: Measured, data: Data, latency: float, alma_latency: float) -> None:
    how = "configured" if run.configured else "the default, not in the file"
    print(f"-- concurrency {run.concurrency} ({how}; child process, SQLite ledger on {SCRATCH})")
    reason = f" ({run.reason})" if run.reason else ""
    print(
        f"run {run.status}{reason}: ok {run.counts[0]:,}, skipped {run.counts[1]:,}, failed "
        f"{run.counts[2]:,}; by kind: "
        + "; ".join(
            f"{kind} " + ", ".join(f"{o} {n:,}" for o, n in sorted(outcomes.items()))
            for kind, outcomes in sorted(run.records.items())
        )
        + f"; items (949s) {run.items:,}"
    )
    print(
        f"MARC_out.xml: {run.file_records:,} records, {run.file_items:,} 949s, {run.file_mb:.1f} MB"
    )
    print(
        f"wall {run.wall:.1f} s; the run's own CPU {run.cpu:.1f} s; peak RSS {run.peak_mb:.0f} MB "
        f"(the child's VmHWM; {run.setup_mb:.0f} MB after its set-up)"
    )
    kinds = ", ".join(f"{k} {n:,}" for k, n in sorted(run.aspace_by_kind.items()))
    print(
        f"ArchivesSpace calls {run.aspace_calls:,} ({kinds}; {run.aspace_failed} not 2xx) = "
        f"{run.aspace_calls / run.wall:.1f} calls/s over the wall time; "
        f"{run.resource_calls / len(data.resources):.2f} per resource; most in flight at the "
        f"fake so far {run.aspace_max_in_flight}"
    )
    print(
        f"Alma calls {run.alma_calls:,} ({run.alma_pages:,} set pages; 429s {run.alma_refused}, "
        f"client retries {run.retries}) = {run.alma_calls / run.wall:.2f} calls/s over the wall "
        f"time = {run.alma_calls / run.wall / RATE:.3f} of {RATE}/s"
    )
    span = run.set_last - run.set_first
    end = run.set_last + alma_latency
    by_end = run.returned_by(end)
    after = max(1e-9, run.started_at + run.wall - end)
    print(
        f"set read: {run.alma_pages} pages from +{run.set_first - run.started_at:.1f} s to "
        f"+{end - run.started_at:.1f} s ({span + alma_latency:.1f} s = "
        f"{run.alma_pages / (span + alma_latency):.1f} pages/s); ArchivesSpace resource calls "
        f"returned by then {by_end:,}, the other "
        f"{len(run.returned) - by_end:,} in the {after:.1f} s after it = "
        f"{(len(run.returned) - by_end) / after:.1f}/s (at most {run.concurrency} / {latency:g} s "
        f"= {run.concurrency / latency:.0f}/s)"
    )
    print(fake_line("ArchivesSpace", run.aspace_cpu, run.aspace_calls, run.wall))
    print(fake_line("Alma", run.alma_cpu, run.alma_calls, run.wall))


def explain_miss(run: Measured, model: Upstream, latency: float, alma_latency: float) -> None:
    """The arithmetic of a missed target: calls x latency / concurrency, and the set read."""
    needed = model.seconds / TARGET_RATIO
    fetch = run.resource_calls * latency / run.concurrency
    pages = run.alma_pages * alma_latency
    rest = run.resource_calls * latency / run.concurrency
    print(
        f"  missed by {run.wall - needed:.1f} s: 10x needs a wall time <= {needed:.1f} s, the run "
        f"took {run.wall:.1f} s ({run.wall / needed:.2f} times that)"
    )
    print(
        f"  why, 1: ArchivesSpace alone is {run.resource_calls:,} calls x {latency:g} s / "
        f"concurrency {run.concurrency} = {fetch:.1f} s "
        + ("> " if fetch > needed else "<= ")
        + f"{needed:.1f} s: {model.seconds / fetch:.2f}x at best, with nothing else in the run"
        + (" (below 10x at this concurrency whatever else is done)" if fetch > needed else "")
    )
    print(
        f"  the Alma set: {run.alma_pages} pages read beside the fetches ({pages:.1f} s of "
        f"latency one at a time); the rest of the ArchivesSpace calls {rest:.1f} s"
    )
    hidden = math.ceil(run.resource_calls * latency / needed)
    print(
        f"  10x at this latency needs concurrency >= {hidden} with the set read hidden behind the "
        f"fetches, and more with it serial in front of them"
    )


def report(
    data: Data,
    sizes: Sizes,
    latency: float,
    alma_latency: float,
    runs: Sequence[Measured],
    model: Serial,
    upstream: Upstream,
) -> bool:
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {sys.platform}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"fake ArchivesSpace: `python -m entrypoints.cli fake-archivesspace --resources "
        f"{sizes.resources} --latency-ms {latency * 1000:g}` in its own process on 127.0.0.1: "
        f"{len(data.resources):,} resources, {data.containers:,} ReCAP top containers "
        f"({data.new_items:,} with a barcode new to Alma)"
    )
    print(
        f"fake Alma: uvicorn on 127.0.0.1 in the bench's process, {alma_latency * 1000:g} ms per "
        f"call, threshold {RATE}/s; set {SET_ID} of {len(data.members):,} barcodes "
        f"({math.ceil(len(data.members) / PAGE)} pages of {PAGE})"
    )
    for run in runs:
        report_run(run, data, latency, alma_latency)
    print(
        f"upstream model, measured: {model.resources} resources spread over the ids, "
        f"{model.calls} calls, one at a time with a {UPSTREAM_SLEEP:g} s sleep each, in "
        f"{model.wall:.1f} s = {model.per_resource:.4f} s per resource (bare: 2 x {latency:g} + "
        f"{UPSTREAM_SLEEP:g} = {2 * latency + UPSTREAM_SLEEP:.4f}); {model.items} items; login "
        f"and listing {model.listing_calls} calls {model.listing_wall:.2f} s; the fake "
        f"ArchivesSpace's CPU "
        f"{model.aspace_cpu / (model.calls + model.listing_calls + 1) * 1000:.2f} ms per call"
    )
    pages = upstream_pages(len(data.members))
    print(
        f"upstream's set read, computed: {pages} calls (the count, then offsets 0 to "
        f"{len(data.members):,} by {PAGE}); at its best (5 in flight, never above {RATE}/s) "
        f"{upstream.set_best:.1f} s; as written (5 threads, then `sleep 1` while 5 are alive) "
        f"{upstream.set_written:.1f} s"
    )
    print(
        f"upstream for every resource: {len(data.resources):,} x {model.per_resource:.4f} s = "
        f"{upstream.resources:.0f} s + listing {upstream.listing:.1f} s + set read at its best "
        f"{upstream.set_best:.1f} s = {upstream.seconds:.0f} s ({upstream.seconds / 60:.1f} min); "
        f"{upstream.as_written:.0f} s with the set read as written"
    )
    for run in runs:
        ceiling = upstream.seconds / (run.resource_calls * latency / run.concurrency)
        print(
            f"speed-up at concurrency {run.concurrency}: {upstream.seconds:.0f} s / "
            f"{run.wall:.1f} s = {upstream.seconds / run.wall:.2f}x "
            f"({upstream.as_written / run.wall:.2f}x against the set read as written); ceiling "
            f"{ceiling:.2f}x (the model over {run.resource_calls:,} calls x {latency:g} s / "
            f"{run.concurrency}: ArchivesSpace's latency alone, nothing else in the run)"
        )

    ok = True
    judged = next((run for run in runs if run.concurrency == JUDGED_CONCURRENCY), runs[-1])
    ratio = upstream.seconds / judged.wall
    hit = ratio >= TARGET_RATIO
    ok &= hit
    print(
        f"{'PASS' if hit else 'FAIL'}  speed-up {ratio:.2f}x the upstream model at concurrency "
        f"{judged.concurrency} (target >= {TARGET_RATIO:g}x; "
        f"{upstream.as_written / judged.wall:.2f}x against the set read as written)"
    )
    if not hit:
        explain_miss(judged, upstream, latency, alma_latency)
    for run in runs:
        if run is judged:
            continue
        other = upstream.seconds / run.wall
        ceiling = upstream.seconds / (run.resource_calls * latency / run.concurrency)
        print(
            f"      at concurrency {run.concurrency} (the default): {other:.2f}x, ceiling "
            f"{ceiling:.2f}x by its calls x latency / concurrency (reported, not judged)"
        )
    checks: dict[str, bool] = {}
    resources = len(data.resources)
    for run in runs:
        at = f"c{run.concurrency}"
        checks[f"{at} run ok"] = run.status == "ok"
        checks[f"{at} every resource written"] = run.records.get("resource") == {"ok": resources}
        checks[f"{at} set read once"] = run.records.get("known_barcodes") == {"ok": 1}
        checks[f"{at} items as generated"] = run.items == data.new_items == run.file_items
        checks[f"{at} file"] = run.file_records == resources
        checks[f"{at} 2 calls a resource"] = run.resource_calls == 2 * resources
        checks[f"{at} no 429"] = run.alma_refused == 0
    checks["model 2 calls a resource"] = model.calls == 2 * model.resources
    hit = all(checks.values())
    ok &= hit
    print(
        f"{'PASS' if hit else 'FAIL'}  runs ok, counts as generated ({resources:,} resources "
        f"written, {data.new_items:,} items): "
        + ", ".join(f"{name} {'yes' if good else 'NO'}" for name, good in checks.items())
    )
    return ok


async def bench(sizes: Sizes, latency: float, alma_latency: float, second: int) -> bool:
    started = time.perf_counter()
    data = make_data(sizes)
    alma = FakeAlmaState(seed=SEED)
    alma.add_institution(AB, api_keys=[KEY], per_second_threshold=RATE)
    alma.add_set(AB, data.members, set_id=SET_ID, name="SC barcodes", content="ITEM")
    print(f"data made in {time.perf_counter() - started:.1f} s")
    faults = FaultInjector(FaultConfig(latency=alma_latency), seed=alma.seed)
    app = create_fake_alma_app(alma, faults)
    gc.collect()
    gc.freeze()  # the fake's state and the data out of the collector
    try:
        async with (
            fake_archivesspace(sizes.resources, latency) as aspace,
            http_server(app) as alma_url,
        ):
            runs = [
                await measure(concurrency, alma, aspace, alma_url) for concurrency in (None, second)
            ]
            model = await serial(aspace, data, sizes.sample)
    finally:
        gc.unfreeze()
    upstream = Upstream(
        resources=model.per_resource * len(data.resources),
        listing=model.listing_wall,
        set_best=set_read_best(len(data.members), alma_latency),
        set_written=set_read_as_written(len(data.members), alma_latency),
    )
    return report(data, sizes, latency, alma_latency, runs, model, upstream)


def main(argv: Sequence[str] | None = None) -> None:
    summary = __doc__.split("\n\n", 1)[0].replace("\n", " ") if __doc__ else None
    parser = argparse.ArgumentParser(description=summary)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of about a minute: "
        + ", ".join(f"{k} {v:,}" for k, v in QUICK.__dict__.items()),
    )
    parser.add_argument("--resources", type=int, help=f"resources ({FULL.resources:,})")
    parser.add_argument("--barcodes", type=int, help=f"the Alma set's members ({FULL.barcodes:,})")
    parser.add_argument("--sample", type=int, help=f"resources of the model ({FULL.sample})")
    parser.add_argument(
        "--latency", type=float, default=0.1, help="ArchivesSpace's seconds per call (0.1)"
    )
    parser.add_argument(
        "--alma-latency", type=float, default=0.1, help="Alma's seconds per call (0.1)"
    )
    parser.add_argument(
        "--second-concurrency",
        type=int,
        default=8,
        help="[aspace2alma.archivesspace] concurrency of the second run (8)",
    )
    parser.add_argument(CHILD_FLAG, nargs=2, metavar="ARG", help=argparse.SUPPRESS)
    given = parser.parse_args(argv)
    if given.child:
        config, folder = given.child
        asyncio.run(child(Path(config), Path(folder)))
        return
    base = QUICK if given.quick else FULL
    sizes = Sizes(
        resources=given.resources or base.resources,
        barcodes=given.barcodes or base.barcodes,
        sample=given.sample or base.sample,
    )
    ok = asyncio.run(bench(sizes, given.latency, given.alma_latency, given.second_concurrency))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
