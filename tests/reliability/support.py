"""What the reliability scenarios share: a bridge over the fake Alma on a real HTTP port, a
ledger (PostgreSQL when `ALMABRIDGE_TEST_DATABASE_URL` is set, else a SQLite file), the inbox
worker the service runs, fault counting from the fake's call log, and deadlines.

Every wait here polls against a deadline; nothing sleeps a fixed time waiting for something.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.call_log import CallLog
from adapters.fake_alma.faults import Decision, FaultConfig, FaultInjector
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger import tables
from adapters.ledger.engine import create_ledger_engine
from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from adapters.scf.alma_directory import HttpAlmaDirectory
from adapters.scf.formats.publishing import MarcPublishingFiles
from adapters.scf.formats.request_xml import XmlRequestFiles
from adapters.scf.reports.csv_reports import MemoryFailureReports
from adapters.transfer.memory import InMemoryFileTransfer, MemoryFiles
from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.file_batches import member_folder
from application.scf.inbox.worker import InboxWorker, RetryBackoff
from application.scf.ports import PublishingFiles
from application.scf.settings import Settings
from application.shared.ledger_records import LedgerEvent, TransferKind
from application.shared.metrics import Metrics
from domain.scf.webhooks import dedupe_key
from entrypoints.bridge_wiring import BridgePorts, bridge_handlers
from entrypoints.demo.servers import http_server
from tests.integration.ledger.support import TEST_DATABASE_ENV, FakeClock, database
from tests.scenarios.world import example_settings

LEDGER_KIND = "postgres" if os.environ.get(TEST_DATABASE_ENV) else "sqlite"
"""CI sets the PostgreSQL URL, so the suite runs on the production database there."""

FAULT_KINDS = ("error", "drop", "stall", "per_second", "daily")

PRODUCTION_LIKE_RETRY = RetryPolicy(
    attempts=RetryPolicy().attempts,  # the production number of tries (8)
    budget_seconds=60,
    wait_initial=0.01,
    wait_max=0.2,
    wait_jitter=0.02,
    rate_limit_pause=0.1,
)
"""The production retry policy (rule A3: 8 attempts, exponential backoff with jitter, a budget,
a pause after a per-second 429) with its waits scaled down so a storm fits the CI's time: the
429 pause is a tenth of production's 1 s, as the storm's 429 bursts are a tenth of Alma's 1 s
window."""


# ---- faults -----------------------------------------------------------------------------------


class StormInjector(FaultInjector):
    """The fake's injector plus random bursts of 429 `PER_SECOND_THRESHOLD`: on a seeded draw
    per call, the institution's window is full for `burst_seconds`, and every call it makes
    meanwhile is refused, as Alma refuses calls while its per-second window is full."""

    def __init__(
        self,
        config: FaultConfig,
        *,
        seed: int,
        burst_rate: float,
        burst_seconds: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, seed=seed, **kwargs)
        self._bursts = random.Random(seed + 1)  # fault draws, replayable by seed
        self._burst_rate = burst_rate
        self._burst_seconds = burst_seconds
        self._full_until: dict[str, float] = {}
        self.bursts = 0

    def admit(self, institution: str, path: str) -> Decision:
        now = self.clock.now().timestamp()
        if self._bursts.random() < self._burst_rate:
            self.bursts += 1
            self._full_until[institution] = now + self._burst_seconds
        if now < self._full_until.get(institution, 0.0):
            return Decision("per_second", 429, self.remaining(institution))
        return super().admit(institution, path)


class LateResets:
    """Connection resets *after* the fake Alma carried a write out: the effect is made, its
    answer lost, so the adapter's retry (A3) meets what its first attempt did. The fake's own
    `drop` fault resets before the call is served; real networks do both.

    An ASGI wrapper around the fake's app; `rate` of the writes matching `paths` (method and
    path regular expressions) get their answer replaced by a cut-off one. With `first_of_each`,
    the first write matching each pattern is cut off whatever the draw, so a storm surely covers
    every kind of write (`per_pattern` counts the resets by pattern).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float,
        seed: int,
        paths: Iterable[tuple[str, str]],
        limit: int | None = None,
        first_of_each: bool = False,
    ) -> None:
        self.app = app
        self._limit = limit
        self._rate = rate
        self._rng = random.Random(seed)  # fault draws, replayable by seed
        self._paths = [(method, re.compile(pattern)) for method, pattern in paths]
        self._first_of_each = first_of_each
        self._seen: set[str] = set()
        self.resets: list[tuple[str, str, int]] = []
        self.per_pattern: Counter[str] = Counter()

    def _target(self, scope: Scope) -> str | None:
        """The first pattern the call matches, if any."""
        method, path = scope["method"], str(scope["path"])
        for m, p in self._paths:
            if m == method and p.search(path):
                return p.pattern
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        spent = self._limit is not None and len(self.resets) >= self._limit
        pattern = self._target(scope) if scope["type"] == "http" and not spent else None
        if pattern is None:
            await self.app(scope, receive, send)
            return
        first = self._first_of_each and pattern not in self._seen
        self._seen.add(pattern)
        # Drawn for every targeted write, forced or not, so a seed replays the same draws.
        if self._rng.random() >= self._rate and not first:
            await self.app(scope, receive, send)
            return
        status = 0

        async def swallow(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])

        await self.app(scope, receive, swallow)
        self.resets.append((scope["method"], str(scope["path"]), status))
        self.per_pattern[pattern] += 1
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"64")]}
        )
        await send({"type": "http.response.body", "body": b'{"pid":', "more_body": True})
        raise ConnectionResetError("injected: reset after the write was carried out")


def faults_seen(log: CallLog) -> Counter[str]:
    """Faults the fake injected, by kind, read back from its call log."""
    return Counter(r.fault for r in log if r.fault in FAULT_KINDS)


# ---- the bridge -------------------------------------------------------------------------------


@dataclass
class Rig:
    """One bridge over the fake Alma served on a real port, a ledger and a file server."""

    state: FakeAlmaState
    faults: FaultInjector
    bridge: BridgePorts
    clock: FakeClock
    remote: MemoryFiles
    url: str
    database_url: str
    client: AlmaHttpClient
    worker_backoff: RetryBackoff = field(
        default_factory=lambda: RetryBackoff(
            initial=timedelta(seconds=1), maximum=timedelta(seconds=4), jitter=0.0
        )
    )

    @property
    def ledger(self) -> Ledger:
        return self.bridge.ledger

    @property
    def settings(self) -> Settings:
        return self.bridge.settings

    def folder(self, institution: str, kind: str) -> str:
        main_folder = self.bridge.settings.file_server.main_folder
        return member_folder(main_folder, institution, TransferKind(kind))

    def put(self, institution: str, kind: str, name: str, data: bytes) -> str:
        path = f"{self.folder(institution, kind)}/{name}"
        self.remote.put(path, data)
        return path

    async def store_webhook(self, raw: bytes) -> int:
        """Store a verified webhook in the inbox as the HTTP receiver does (rule W3)."""
        async with self.ledger.unit_of_work() as uow:
            added = await uow.inbox.add(dedupe_key(raw), raw, self.clock.now())
            await uow.commit()
        return added.id

    def worker(self) -> InboxWorker:
        """The service's inbox worker over this bridge (its handlers, its retries)."""
        return InboxWorker(
            self.ledger,
            bridge_handlers(self.bridge),
            lambda: self.settings.consortium,
            self.clock,
            Metrics(),
            owner="reliability",
            lease=timedelta(minutes=10),
            max_attempts=8,
            backoff=self.worker_backoff,
        )

    async def drain(self, worker: InboxWorker, seconds: float) -> int:
        """Run worker rounds until the inbox has nothing pending; the rounds that claimed work.

        A message that failed waits for its retry time: the ledger's clock is moved on to it
        (time the production worker would spend waiting), never slept through.
        """
        rounds = 0
        try:
            async with asyncio.timeout(seconds):
                while True:
                    if await worker.run_once():
                        rounds += 1
                        continue
                    depth = await self.ledger.inbox_depth()
                    if depth.backlog == 0:
                        return rounds
                    self.clock.advance(seconds=self.worker_backoff.maximum.total_seconds() + 1)
        except TimeoutError:
            depth = await self.ledger.inbox_depth()
            raise AssertionError(f"inbox not drained after {seconds} s: {depth}") from None

    async def events(self, **filters: Any) -> list[LedgerEvent]:
        return await self.ledger.events(limit=100_000, **filters)


@contextlib.asynccontextmanager
async def open_rig(
    tmp_path: Path,
    state: FakeAlmaState,
    faults: FaultInjector,
    *,
    retry: RetryPolicy = PRODUCTION_LIKE_RETRY,
    rate_per_second: int = 500,
    http_timeout: httpx.Timeout | None = None,
    files: Callable[[MemoryFiles], FileTransfer] | None = None,
    publishing: PublishingFiles | None = None,
    settings_overrides: dict[str, Any] | None = None,
    wrap: Callable[[ASGIApp], ASGIApp] | None = None,
) -> AsyncIterator[Rig]:
    """The fake Alma under uvicorn on 127.0.0.1, and a bridge calling it over HTTP."""
    clock = FakeClock()
    remote = MemoryFiles()
    tmp_path.mkdir(parents=True, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        app: ASGIApp = create_fake_alma_app(state, faults)
        url = await stack.enter_async_context(http_server(wrap(app) if wrap else app))
        settings = example_settings(gateway=url, **(settings_overrides or {}))
        client = AlmaHttpClient(
            url, rate_per_second=rate_per_second, retry=retry, timeout=http_timeout
        )
        stack.push_async_callback(client.aclose)
        database_url = await stack.enter_async_context(database(LEDGER_KIND, tmp_path))
        assert database_url is not None
        await upgrade(database_url)
        ledger = SqlLedger.from_url(database_url, clock)
        stack.push_async_callback(ledger.close)
        transfer = files(remote) if files else InMemoryFileTransfer(remote)
        stack.push_async_callback(transfer.aclose)
        bridge = BridgePorts(
            settings=settings,
            alma=HttpAlmaDirectory(settings, client),
            ledger=ledger,
            files=transfer,
            publishing=publishing or MarcPublishingFiles(),
            request_files=XmlRequestFiles(),
            reports=MemoryFailureReports(),
            clock=clock,
            work_dir=tmp_path / "work",
        )
        yield Rig(state, faults, bridge, clock, remote, url, database_url, client)


def duplicates(values: Iterable[Any]) -> list[Any]:
    """The values seen more than once."""
    return [value for value, n in Counter(values).items() if n > 1]


async def table_rows(database_url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every ledger table (`adapters/ledger/tables.py`), as plain dicts."""
    engine = create_ledger_engine(database_url)
    try:
        async with engine.connect() as connection:
            return {
                table.name: [dict(row._mapping) for row in await connection.execute(select(table))]
                for table in tables.metadata.sorted_tables
            }
    finally:
        await engine.dispose()
