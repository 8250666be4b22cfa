"""The WEST export's test rig: a seeded fake Alma reached over HTTP (the wiring's own workflow,
`WestHoldingsJob`, over an ASGI transport) or through the in-memory twins (`ExportHoldings` built
as the wiring builds it), a workflows configuration file, and the `JobRunner` on a ledger backend.

The catalogue (`seed_catalog`): five bibs of institution AB in input order, with
* bib 0: two holdings with a 583 (kept), the first with a migrated 001 and Alma's 005 after 009;
* bib 1: one holding with a 583 (kept) and one without (skipped ``no 583``, H4);
* bib 2: no holdings (skipped ``no holdings``, H2);
* bib 3: one holding with a 583 (kept);
* bib 4: one holding without a 583 (skipped).
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, Literal, cast
from xml.sax.saxutils import escape

import httpx

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.fake_alma import (
    CallRecord,
    FakeAlmaState,
    FaultConfig,
    FaultInjector,
    ManualClock,
    create_fake_alma_app,
    state_from_file,
)
from adapters.fake_alma.memory_roles import MemoryHoldingsReader, MemorySetMembers
from adapters.transfer import LocalFileTransfer
from adapters.west.alma_answers import ReadableHoldings
from adapters.west.export_files import AlmaHoldingMarc, WestFiles
from adapters.west.id_files import FileIdSource
from application.ports.ledger import Ledger
from application.ports.runs import WorkflowLock
from application.shared.run_context import Workflow
from application.shared.run_records import JobRun, RunRecord
from application.shared.runs import JobRunner, RunResult
from application.shared.workflow_settings import AlmaInstitution
from application.west.export_holdings import ExportHoldings, WestExportSettings
from application.west.id_sources import SetIdSource
from application.west.ports import MmsIdSource
from application.west.upload import RemoteFolderUpload
from entrypoints.west_wiring import SET_FLAG, WestHoldingsJob, WestJobOptions
from entrypoints.workflow_registry import WorkflowSetup
from tests.integration.ledger.support import Backend

AlmaName = Literal["memory", "http"]
AB = "01AAA_AB"
KEY = "ab-example-key"
GATEWAY_URL = "http://fake-alma"

FAST_RETRY = RetryPolicy(
    attempts=12,
    budget_seconds=30.0,
    wait_initial=0.001,
    wait_max=0.005,
    wait_jitter=0.0,
    rate_limit_pause=0.005,
)
"""Retries that cost milliseconds: a test waits on them, never on a fixed sleep."""

STAMP_005 = re.compile(rb"(?<=<controlfield tag=\"005\">)\d{14}\.0|\d{14}\.0(?=\x1e)")


def holding_xml(
    library: str,
    location: str,
    *,
    retention: str | None,
    old_001: str = "",
    note: str = "",
) -> str:
    """A holdings record as Alma keeps it: its own (perhaps migrated) 001 and 004, a 005 after
    009 (Alma's order), an 852 naming where it is and, when ``retention``, a WEST 583."""
    fields = [
        f'<controlfield tag="001">{old_001 or "h-migrated"}</controlfield>',
        '<controlfield tag="004">old-bib-id</controlfield>',
        '<controlfield tag="008">1511020l||||||||4   uu</controlfield>',
        '<controlfield tag="009">kat</controlfield>',
        '<controlfield tag="005">20181109134730.0</controlfield>',
        '<datafield ind1="0" ind2=" " tag="852">'
        f'<subfield code="b">{library}</subfield><subfield code="c">{location}</subfield>'
        "</datafield>",
    ]
    if retention is not None:
        fields.append(
            '<datafield ind1="1" ind2=" " tag="583">'
            f'<subfield code="a">{escape(retention)}</subfield><subfield code="f">WEST</subfield>'
            "</datafield>"
        )
    if note:
        fields.append(
            f'<datafield ind1=" " ind2=" " tag="866"><subfield code="a">{note}</subfield>'
            "</datafield>"
        )
    return f"<record><leader>00384nx  a2200145ui 4500</leader>{''.join(fields)}</record>"


@dataclass
class Catalog:
    """What `seed_catalog` made: the MMS ids in input order and the holdings of each."""

    ids: list[str]
    holdings: dict[str, list[str]]
    kept: list[tuple[str, str]]

    @property
    def all_holdings(self) -> list[str]:
        return [h for mms_id in self.ids for h in self.holdings[mms_id]]


def seed_catalog(state: FakeAlmaState, *, bibs: int = 5) -> Catalog:
    """The catalogue of the module text; ``bibs`` > 5 repeats the pattern (for a longer run)."""
    ids: list[str] = []
    holdings: dict[str, list[str]] = {}
    kept: list[tuple[str, str]] = []
    for index in range(bibs):
        pattern = index % 5
        mms_id = state.create_bib(AB, title=f"WEST title {index}").mms_id
        ids.append(mms_id)
        plans: dict[int, list[tuple[str, str, str | None]]] = {
            0: [("ABRS", "stacks", "committed to retain"), ("ABMAIN", "main", "retain 2035")],
            1: [("ABRS", "stacks", "committed"), ("ABMAIN", "main", None)],
            2: [],
            3: [("ABRS", "stacks", "committed & reviewed")],
            4: [("ABMAIN", "main", None)],
        }
        plan = plans[pattern]
        holdings[mms_id] = []
        for number, (library, location, retention) in enumerate(plan):
            record = holding_xml(
                library,
                location,
                retention=retention,
                old_001=f"h{index}-{number}",
                note=f"v.{index}",
            )
            holding = state.seed_holding_record(AB, mms_id, record)
            holdings[mms_id].append(holding.holding_id)
            if retention is not None:
                kept.append((mms_id, holding.holding_id))
    return Catalog(ids, holdings, kept)


class Closing(httpx.AsyncBaseTransport):
    """A transport that remembers being closed (the client closes it with itself)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.closed = True
        await self.inner.aclose()


@dataclass
class FakeAlma:
    """A fake Alma and how the export reaches it."""

    name: AlmaName
    state: FakeAlmaState
    clock: ManualClock
    faults: FaultInjector
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] = lambda inner: inner
    """Tests put a transport around the fake's (a corrupted answer, a kill)."""
    clients: list[Closing] = field(default_factory=list)
    """The transport of every client the wiring asked for, to check it was closed."""

    def client(self, institution: AlmaInstitution) -> AlmaHttpClient:
        """What the wiring's `ClientFactory` gives: here over the fake app, retries fast."""
        app = create_fake_alma_app(self.state, self.faults)
        return AlmaHttpClient(
            institution.url,
            # The throttle's spacing is real time: negligible here (the bench measures the rate).
            rate_per_second=1000,
            retry=FAST_RETRY,
            transport=self._track(self.wrap(httpx.ASGITransport(app=app))),
        )

    def _track(self, inner: httpx.AsyncBaseTransport) -> Closing:
        tracked = Closing(inner)
        self.clients.append(tracked)
        return tracked

    def calls(self, fragment: str = "") -> list[CallRecord]:
        """The HTTP calls the fake served, on paths containing ``fragment``."""
        return [r for r in self.state.call_log if fragment in r.path]

    def holding_record_calls(self) -> list[str]:
        """The holding ids whose record was asked for, in order (HTTP only)."""
        return [r.path.rsplit("/", 1)[-1] for r in self.calls("/holdings/")]

    def list_calls(self) -> list[str]:
        """The MMS ids whose holdings were listed, in order (HTTP only)."""
        return [r.path.split("/")[-2] for r in self.calls() if r.path.endswith("/holdings")]


@asynccontextmanager
async def fake_alma(name: AlmaName) -> AsyncIterator[FakeAlma]:
    """The demo-seeded fake; thresholds off (the frozen clock would put every call in one
    second; the 429 storm test scripts its own)."""
    clock = ManualClock()
    state = state_from_file(clock=clock)
    faults = FaultInjector(FaultConfig(enforce_thresholds=False), clock=clock, seed=state.seed)
    yield FakeAlma(name, state, clock, faults)


@dataclass
class Rig:
    """One ledger backend, one fake Alma, one configuration file, and a folder to work in."""

    backend: Backend
    alma: FakeAlma
    root: Path
    west: dict[str, Any] = field(default_factory=dict)
    remotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    rate: int = 25

    def __post_init__(self) -> None:
        self.ledger: Ledger = self.backend.open()

    @property
    def config_path(self) -> Path:
        return self.root / "workflows.toml"

    def write_config(self) -> WorkflowSetup:
        """The workflows file: ``[alma.AB]``, ``[west_holdings]`` and any ``[remotes.*]``."""
        lines = [
            f"[alma.{AB}]",
            f'url = "{GATEWAY_URL}"',
            f'apikey = "{KEY}"',
            f"rate_limit_per_second = {self.rate}",
            "",
            "[west_holdings]",
            *(f"{key} = {json.dumps(value)}" for key, value in self.west.items()),
        ]
        for name, table in self.remotes.items():
            lines += ["", f"[remotes.{name}]"]
            lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
        self.config_path.write_text("\n".join(lines) + "\n")
        return WorkflowSetup(tomllib.loads(self.config_path.read_text()), self.config_path)

    def settings(self) -> WestExportSettings:
        return WestExportSettings(
            prefix=self.west.get("prefix", "wau"),
            org_code=self.west.get("org_code") or None,
            stamp_005=bool(self.west.get("stamp_005", False)),
            require_tags=tuple(self.west.get("require_tags", ("583",))),
        )

    def job(self, source: str, value: str | Path) -> Workflow:
        """The workflow as `almabridge run west-holdings SOURCE VALUE` would run it: the wiring's
        `WestHoldingsJob` over HTTP, or the same parts over the memory twins."""
        setup = self.write_config()
        upload_to = self.west.get("upload_to") or None
        options = WestJobOptions(AB, source, str(value), self.settings(), upload_to)
        if self.alma.name == "http":
            return WestHoldingsJob(options, setup, connect_alma=self.alma.client, environ={})
        return self._memory_job(options)

    def _memory_job(self, options: WestJobOptions) -> Workflow:
        state = self.alma.state
        id_source: MmsIdSource
        if options.source == SET_FLAG:
            id_source = SetIdSource(MemorySetMembers(state, AB), options.input)
        else:
            id_source = FileIdSource(Path(options.input), options.source)
        upload = None
        if options.upload_to:
            name, _, path = options.upload_to.partition(":")
            folder = str(Path(self.remotes[name]["url"].removeprefix("file://")) / path)
            upload = RemoteFolderUpload(lambda: LocalFileTransfer("/"), folder, options.upload_to)
        return ExportHoldings(
            id_source,
            ReadableHoldings(MemoryHoldingsReader(state, AB)),
            AlmaHoldingMarc(),
            WestFiles(),
            options.settings,
            concurrency=4,
            upload=upload,
            zone=UTC,
        )

    def runner(self) -> JobRunner:
        lock = cast(WorkflowLock, self.ledger)  # both ledgers try locks
        return JobRunner(self.ledger, self.backend.clock, lock)

    async def run(self, workflow: Workflow, out: Path, *, dry_run: bool = False) -> RunResult:
        return await self.runner().run(workflow, out_dir=out, options={}, dry_run=dry_run)

    async def records(self, run_id: int) -> list[RunRecord]:
        async with self.ledger.unit_of_work() as uow:
            return await uow.runs.records_of(run_id)

    async def get_run(self, run_id: int) -> JobRun:
        async with self.ledger.unit_of_work() as uow:
            found = await uow.runs.get_run(run_id)
        assert found is not None
        return found

    def ids_file(self, ids: Sequence[str], name: str = "ids.txt") -> Path:
        path = self.root / name
        path.write_text("".join(f"{mms_id}\n" for mms_id in ids))
        return path

    def local_day(self) -> str:
        """The day in the output names: the run's clock in the zone the export uses (B3)."""
        now = self.backend.clock.now()
        local = now.astimezone(UTC) if self.alma.name == "memory" else now.astimezone()
        return f"{local:%Y%m%d}"


def outputs(folder: Path, prefix: str, day: str) -> tuple[Path, Path, Path]:
    """The three H5 files of a run in ``folder``."""
    stem = folder / f"{prefix}.alma.archived.{day}"
    return (
        stem.with_name(stem.name + ".xml"),
        stem.with_name(stem.name + ".mrc"),
        stem.with_name(stem.name + ".report.csv"),
    )


def report_lines(path: Path) -> list[list[str]]:
    """The report's rows (header first)."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def without_005(data: bytes) -> bytes:
    """Output bytes with every 005 stamp blanked: what B5 allows a resumed run to differ in."""
    return STAMP_005.sub(b"00000000000000.0", data)


def by_kind(records: Sequence[RunRecord]) -> Mapping[str, dict[str, RunRecord]]:
    """A run's records by kind, then key."""
    found: dict[str, dict[str, RunRecord]] = {}
    for record in records:
        found.setdefault(record.kind, {})[record.key] = record
    return found
