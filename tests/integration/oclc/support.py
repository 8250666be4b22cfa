"""The OCLC merge's test rig: the reference inputs, a workflows file, the fake Alma reached over
HTTP (the wiring's own workflow, `OclcSyncJob`, over an ASGI transport) and the `JobRunner` on a
ledger backend (memory, SQLite, PostgreSQL).

Time never passes for real: the job's polls (O8) go through the rig's `sleep`, which moves the
rig's own `monotonic` clock and records each wait.

The reference folder is `../shared/reference/joint_oclc_data_sync/`: Carleton's and Western's
reports give `expected_outputs_833d31b/`; the manual Analytics export is the doublecheck of
their DIFF ids; `Do_not_change.xlsx` is upstream's template (no id).
"""

from __future__ import annotations

import asyncio
import json
import tomllib
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import openpyxl

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
from application.ports.ledger import Ledger
from application.ports.runs import WorkflowLock
from application.shared.run_context import RunProgress, Workflow
from application.shared.run_records import JobRun, RunRecord
from application.shared.runs import JobRunner, RunResult
from application.shared.workflow_settings import AlmaInstitution
from domain.oclc.doublecheck import HEADINGS
from entrypoints.oclc_wiring import OCLC_SYNC_ENTRY, OclcJobOptions, OclcSyncJob
from entrypoints.workflow_entries import WorkflowSetup
from tests.conftest import SHARED_REFERENCE
from tests.integration.ledger.support import Backend

REFERENCE = SHARED_REFERENCE / "joint_oclc_data_sync"
INPUTS = REFERENCE / "inputs"
EXPECTED = REFERENCE / "expected_outputs_833d31b"
CEF = INPUTS / "CEFtestfile.txt"
UWO = INPUTS / "UWOtestfile.txt"
DO_NOT_CHANGE = INPUTS / "Do_not_change.xlsx"
DO_NOT_CHANGE_MMS_IZ = INPUTS / "Do_not_change_ernieejo.xlsx"
MANUAL = REFERENCE / "analytics" / "OCLC-doublecheck_manual_export_642c02a.xlsx"
MISALIGNED = REFERENCE / "analytics" / "OCLC-doublecheck_api_misaligned_833d31b.xlsx"
PATH = "/shared/UTON Network 01OCUL_NETWORK/Reports/OCLC Identifiers/OCLC-doublecheck"
COLUMN_ORDER = [HEADINGS[i] for i in (3, 4, 2, 0, 1)]

NZ = "01AAA_AB"
"""The fake's institution standing in for the Network Zone (its key is the demo seed's)."""
KEY = "ab-example-key"
GATEWAY_URL = "http://fake-alma"
JOB = "M9001"
"""``normalize_job_id`` of the rig's configuration: "Move OCLC 035 $a to $z"."""

FAST_RETRY = RetryPolicy(
    attempts=4,
    budget_seconds=10.0,
    wait_initial=0.001,
    wait_max=0.005,
    wait_jitter=0.0,
    rate_limit_pause=0.005,
)
"""Retries that cost milliseconds: a test waits on them, never on a fixed sleep."""

REPORT_COUNTS = {
    "do_not_change": 0,
    "update by job": 107,
    "updated records": 2,
    "records for review": 14,
    "not in analytics": 6,
    "conflicts": 10,
}
"""Rows of each sheet of the identifier report for the reference inputs and the manual export
(the conflicts sheet: 5 conflicts of 2 rows)."""


def sheet_cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every sheet's cell values, row by row."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Workbook contains no default style", UserWarning)
        workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return {
            sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in workbook.worksheets
        }
    finally:
        workbook.close()


def export_rows() -> list[dict[str, str]]:
    """The manual export's rows as the fake's report rows: heading → text, empty as ``""``."""
    headings, *rows = next(iter(sheet_cells(MANUAL).values()))
    assert tuple(headings) == HEADINGS
    return [{h: v or "" for h, v in zip(HEADINGS, row, strict=True)} for row in rows]


def write_sheet(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """A workbook of one sheet written by openpyxl (not by the adapter under test)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def toml_value(value: Any) -> str:
    """A TOML value: strings and numbers as JSON writes them, arrays, inline tables."""
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


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
class OclcRig:
    """One ledger backend, the fake Alma, a workflows file and a folder to work in."""

    backend: Backend
    root: Path
    oclc: dict[str, Any] = field(default_factory=dict)
    """``[oclc_sync]`` keys beyond ``normalize_job_id`` (which is `JOB`)."""
    members_per_call: int = 1000
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] = lambda inner: inner
    """Tests put a transport around the fake's (an answer lost)."""

    def __post_init__(self) -> None:
        self.ledger: Ledger = self.backend.open()
        self.clock = ManualClock()
        self.state: FakeAlmaState = state_from_file(clock=self.clock)
        # Thresholds off: the fake's clock is frozen, which would put every call in one second.
        self.faults = FaultInjector(
            FaultConfig(enforce_thresholds=False), clock=self.clock, seed=self.state.seed
        )
        self.clients: list[Closing] = []
        self.slept: list[float] = []
        self.elapsed = 0.0
        self.messages: list[str] = []

    # ---- time, without waiting --------------------------------------------------------------

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.elapsed += seconds
        await asyncio.sleep(0)

    def monotonic(self) -> float:
        return self.elapsed

    # ---- the fake Alma --------------------------------------------------------------------------

    def client(self, institution: AlmaInstitution) -> AlmaHttpClient:
        """What the wiring's `ClientFactory` gives: here over the fake app, retries fast."""
        app = create_fake_alma_app(self.state, self.faults)
        transport = Closing(self.wrap(httpx.ASGITransport(app=app)))
        self.clients.append(transport)
        return AlmaHttpClient(
            institution.url, rate_per_second=1000, retry=FAST_RETRY, transport=transport
        )

    def serve_export(self, **knobs: Any) -> None:
        """The NZ's Analytics serving the manual export's rows at `PATH`: pages of 25, columns
        in another order, empty cells left out (O5)."""
        settings = {"page_size": 25, "column_order": COLUMN_ORDER, "omit_empty": True, **knobs}
        self.state.add_report(NZ, PATH, HEADINGS, export_rows(), **settings)

    def add_job(self, *statuses: str) -> None:
        """The normalisation job, its instances going through ``statuses``."""
        script = statuses or ("QUEUED", "RUNNING", "COMPLETED_SUCCESS")
        self.state.add_job(NZ, JOB, name="Move OCLC 035 $a to $z", run_statuses=script)

    def calls(self, fragment: str = "", method: str | None = None) -> list[CallRecord]:
        """The HTTP calls the fake served on paths containing ``fragment``."""
        return [
            r
            for r in self.state.call_log
            if fragment in r.path and (method is None or r.method == method)
        ]

    # ---- configuration, workflow, runner ----------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.root / "workflows.toml"

    def setup(self) -> WorkflowSetup:
        """The workflows file: ``[alma.NZ]`` and ``[oclc_sync]``."""
        table = {"normalize_job_id": JOB, **self.oclc}
        lines = [
            f"[alma.{NZ}]",
            f'url = "{GATEWAY_URL}"',
            f'apikey = "{KEY}"',
            "rate_limit_per_second = 25",
            "",
            "[oclc_sync]",
            *(f"{key} = {toml_value(value)}" for key, value in table.items()),
        ]
        self.config_path.write_text("\n".join(lines) + "\n")
        return WorkflowSetup(tomllib.loads(self.config_path.read_text()), self.config_path)

    def options(self, *args: str | Path) -> dict[str, Any]:
        """The options `almabridge run oclc-sync ARGS` stores."""
        return dict(OCLC_SYNC_ENTRY.options([str(a) for a in args], self.setup()))

    def job(self, *args: str | Path) -> OclcSyncJob:
        """The workflow as `almabridge run oclc-sync ARGS` builds it, over the rig's fake."""
        options = OclcJobOptions.read(self.options(*args))
        return self.built(options)

    def built(self, options: OclcJobOptions) -> OclcSyncJob:
        return OclcSyncJob(
            options,
            self.setup(),
            connect_alma=self.client,
            sleep=self.sleep,
            monotonic=self.monotonic,
            members_per_call=self.members_per_call,
            environ={},
        )

    def runner(self) -> JobRunner:
        lock = cast(WorkflowLock, self.ledger)  # both ledgers try locks
        return JobRunner(self.ledger, self.backend.clock, lock, on_progress=self._progress)

    def _progress(self, progress: RunProgress) -> None:
        if progress.message:
            self.messages.append(progress.message)

    async def run(
        self, workflow: Workflow, *, out: Path | None = None, dry_run: bool = False
    ) -> RunResult:
        """Run the workflow as the CLI does, options stored with the run (B5)."""
        options: Mapping[str, Any] = {}
        if isinstance(workflow, OclcSyncJob):
            options = workflow.options.stored()
        return await self.runner().run(
            workflow, out_dir=out or self.out, options=options, dry_run=dry_run
        )

    async def resume(self, run_id: int) -> RunResult:
        original = await self.get_run(run_id)
        workflow = self.built(OclcJobOptions.read(original.options))
        return await self.runner().resume(run_id, workflow)

    @property
    def out(self) -> Path:
        return self.root / "out"

    async def records(self, run_id: int) -> list[RunRecord]:
        async with self.ledger.unit_of_work() as uow:
            return await uow.runs.records_of(run_id)

    async def by_kind(self, run_id: int) -> dict[str, dict[str, RunRecord]]:
        """A run's records by kind, then key."""
        found: dict[str, dict[str, RunRecord]] = {}
        for record in await self.records(run_id):
            found.setdefault(record.kind, {})[record.key] = record
        return found

    async def get_run(self, run_id: int) -> JobRun:
        async with self.ledger.unit_of_work() as uow:
            found = await uow.runs.get_run(run_id)
        assert found is not None
        return found

    def local_day(self) -> str:
        """The day of the report's name: the run's clock in this machine's zone (B3)."""
        return f"{self.backend.clock.now().astimezone():%Y-%m-%d}"

    def report_path(self, out: Path | None = None) -> Path:
        return (out or self.out) / f"NZ-OCLC-Identifier-report_{self.local_day()}.xlsx"
