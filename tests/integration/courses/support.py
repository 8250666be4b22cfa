"""Leganto course loading's test rig (rules L1–L8, B1–B9): a seeded fake Alma reached over an
ASGI transport by the wiring's own workflow (`CoursesJob`) or through the in-memory twins, CEM
files on a ``file://`` remote, a workflows configuration file, and the `JobRunner` on a ledger
backend.

The runner's clock is fixed (`NOW`), so the loader file's name (``{YYYYmmddHHMMSS}.txt`` in this
machine's local time, B3) and the day whose CEM file is fetched (L1) are known in advance.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import socket
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import httpx
import uvicorn
from aiosmtpd.controller import Controller
from starlette.types import ASGIApp

from adapters.alma_http.client import AlmaHttpClient
from adapters.courses.cem_csv import CemCsvReader
from adapters.courses.loader_tsv import LoaderFiles, read_loader_file
from adapters.fake_alma import (
    CallRecord,
    FakeAlmaState,
    FaultConfig,
    FaultInjector,
    ManualClock,
    create_fake_alma_app,
    state_from_file,
)
from adapters.fake_alma.memory_roles import MemoryCourseCatalog
from adapters.transfer import LocalFileTransfer
from adapters.workflow_config.loader import load_workflow_settings
from application.courses.cem_courses import CourseRules
from application.courses.cem_sources import RemoteCemSource
from application.courses.course_lookup import CourseLookup
from application.courses.load_courses import COURSE_LOADING
from application.courses.loader_push import RemoteLoaderPush
from application.courses.loader_wait import LoaderWait
from application.courses.rollover_report import RolloverReport
from application.ports.ledger import Ledger
from application.ports.runs import RunNotifications, WorkflowLock
from application.shared.run_records import JobRun, RunRecord
from application.shared.runs import JobRunner, RunResult
from application.shared.workflow_settings import AlmaInstitution, WorkflowSettings
from domain.courses.cem import REQUIRED_COLUMNS, ROLLOVER_COLUMNS
from domain.courses.loader_row import LoaderRow
from domain.courses.transform import MergeOn
from domain.shared.asu_course_tables import ASU_TABLES
from entrypoints.courses_wiring import CourseJobOptions, CoursesJob
from entrypoints.scheduling import notifications_for
from entrypoints.workflow_entries import WorkflowSetup
from tests.integration.ledger.support import Backend
from tests.integration.notify.servers import Mailbox
from tests.integration.west.support import FAST_RETRY, Closing

AB = "01AAA_AB"
KEY = "ab-example-key"
GATEWAY_URL = "http://fake-alma"

NOW = datetime(2026, 9, 1, 14, 30, 5, tzinfo=UTC)
"""The runner's clock: mid-year, so that this machine's local day is in 2026 whatever its zone."""
THIS_YEAR = NOW.year
LAST_YEAR = NOW.year - 1

CEM_COLUMNS = (*REQUIRED_COLUMNS, *ROLLOVER_COLUMNS)
"""The CEM header as ASU's export writes it (research §d)."""


def code(subject: str, sln: str, year: int = THIS_YEAR) -> str:
    """A course code as the CEM writes MYASU_COURSE_IDSTRING: ``2026Fall-X-HIS101-30001``."""
    return f"{year}Fall-X-{subject}-{sln}"


@dataclass(frozen=True)
class Cem:
    """One CEM row, every column as the campus writes it; ``code`` defaults from ``subject``."""

    subject: str
    sln: str
    status: str = "APPROVED"
    title: str = "A course"
    instructor: str = "jdoe1"
    college: str = "AS"
    campus: str = "POLY"
    course_id: str = ""
    term: str = "7"
    year: str = str(THIS_YEAR)
    start: str = f"{THIS_YEAR}-08-20 00:00:00.000000000"
    end: str = f"{THIS_YEAR}-12-11 00:00:00.000000000"
    copy_sln: str = ""
    copy_year: str = ""
    copy_course_id: str = ""
    copy_term: str = ""
    code: str = ""

    @property
    def course_code(self) -> str:
        return self.code or code(self.subject, self.sln.replace("-", ""), int(self.year))

    @property
    def section(self) -> str:
        return self.sln.replace("-", "")

    @property
    def key(self) -> str:
        """The course's record key (L4): code and section."""
        return f"{self.course_code} {self.section}"

    def values(self) -> dict[str, str]:
        return {
            "MYASU_COURSE_IDSTRING": self.course_code,
            "COURSE_STATUS": self.status,
            "COURSE_NAME": self.title,
            "SLN": self.sln,
            "ASURITEID": self.instructor,
            "COLLEGE_OR_DIVISION_CODE": self.college,
            "CAMPUS": self.campus,
            "COURSE_ID": self.course_id or self.subject,
            "TERM": self.term,
            "YEAR": self.year,
            "START_SYNC_DATE": self.start,
            "END_SYNC_DATE": self.end,
            "COPY_COURSE_SLN": self.copy_sln,
            "COPY_COURSE_SEMESTER_YEAR": self.copy_year,
            "COPY_COURSE_ID": self.copy_course_id,
            "COPY_COURSE_SEMESTER_TERM": self.copy_term,
        }


def cem_lines(rows: Sequence[Cem], columns: Sequence[str] = CEM_COLUMNS) -> list[str]:
    """The CSV lines (each ending LF) of the header and ``rows``, only ``columns`` written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = row.values()
        writer.writerow([values[column] for column in columns])
    return buffer.getvalue().splitlines(keepends=True)


def cem_bytes(
    rows: Sequence[Cem], columns: Sequence[str] = CEM_COLUMNS, encoding: str = "iso-8859-1"
) -> bytes:
    """The CEM file of ``rows`` in the campus's encoding (L2)."""
    return "".join(cem_lines(rows, columns)).encode(encoding)


# ---- the fake Alma ----------------------------------------------------------------------------


def seed_course(
    state: FakeAlmaState,
    course_code: str,
    section: str,
    year: int,
    *,
    searchable_ids: Sequence[str] = (),
    lists: int = 0,
) -> str:
    """A course of institution AB with ``lists`` reading lists; its id."""
    course = state.add_course(
        AB,
        {
            "code": course_code,
            "name": f"Course {course_code}",
            "section": section,
            "year": str(year),
            "searchable_id": list(searchable_ids),
        },
    )
    for number in range(lists):
        state.add_reading_list(
            AB, course.course_id, code=f"RL-{section}-{number}", name=f"List {number}"
        )
    return course.course_id


@dataclass
class FakeAlma:
    """A fake Alma and how a run reaches it."""

    state: FakeAlmaState
    clock: ManualClock
    faults: FaultInjector
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] = lambda inner: inner
    """Tests put a transport around the fake's (a kill)."""
    clients: list[Closing] = field(default_factory=list)

    def client(self, institution: AlmaInstitution) -> AlmaHttpClient:
        """The wiring's `ClientFactory`: over the fake app, retries fast (B4)."""
        app = create_fake_alma_app(self.state, self.faults)
        tracked = Closing(self.wrap(httpx.ASGITransport(app=app)))
        self.clients.append(tracked)
        return AlmaHttpClient(
            institution.url, rate_per_second=1000, retry=FAST_RETRY, transport=tracked
        )

    def calls(self, fragment: str = "") -> list[CallRecord]:
        """The HTTP calls the fake served, on paths containing ``fragment``."""
        return [r for r in self.state.call_log if fragment in r.path]

    def course_reads(self, since: int = 0) -> list[str]:
        """The course ids whose full record (reading lists, L5/L8) was asked for, in order."""
        return [r.path.rsplit("/", 1)[-1] for r in self.calls()[since:] if "/courses/" in r.path]


def fake_alma() -> FakeAlma:
    """The demo-seeded fake; thresholds off (its frozen clock would put every call in one
    second)."""
    clock = ManualClock()
    state = state_from_file(clock=clock)
    faults = FaultInjector(FaultConfig(enforce_thresholds=False), clock=clock, seed=state.seed)
    return FakeAlma(state, clock, faults)


# ---- servers in a thread (for the command line, which runs its own event loop) ----------------


@contextlib.contextmanager
def served_in_thread(app: ASGIApp) -> Iterator[str]:
    """``app`` under uvicorn on 127.0.0.1 in a thread of its own; yields its base URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


class _Loopback(Controller):
    """aiosmtpd's Controller on a port the kernel picks (as the notifier suite's)."""

    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def login_smtp_server(mailbox: Mailbox) -> Iterator[int]:
    """A plain SMTP server on 127.0.0.1 that offers AUTH without TLS and checks the login
    against the notifier suite's USER and PASSWORD (`Mailbox.authenticate`); yields its port."""
    controller = _Loopback(
        mailbox,
        hostname="127.0.0.1",
        port=0,
        auth_require_tls=False,
        authenticator=mailbox.authenticate,
    )
    controller.start()
    try:
        yield int(controller.port)
    finally:
        controller.stop()


# ---- the rig ----------------------------------------------------------------------------------


class RecordingSleep:
    """A sleep that returns at once, remembering each wait, and moves `monotonic` on by it."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.elapsed = 0.0

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.elapsed += seconds

    def monotonic(self) -> float:
        return self.elapsed


def _toml(value: Any) -> str:
    return json.dumps(value)


@dataclass
class Rig:
    """One ledger backend, one fake Alma, a workflows file and the remotes' folders."""

    backend: Backend
    alma: FakeAlma
    root: Path
    courses: dict[str, Any] = field(default_factory=dict)
    """``[course_loading]`` keys beyond ``source`` and ``target``."""
    notify: dict[str, dict[str, Any]] = field(default_factory=dict)
    """``[notify.NAME]`` tables."""
    remotes: dict[str, dict[str, Any]] = field(default_factory=dict)
    rate: int = 25

    def __post_init__(self) -> None:
        self.ledger: Ledger = self.backend.open()
        self.backend.clock.current = NOW
        self.campus.mkdir(parents=True, exist_ok=True)
        self.remotes.setdefault("campus", {"url": f"file://{self.campus}"})
        self.remotes.setdefault("alma", {"url": f"file://{self.target}"})

    # ---- places and names ----

    @property
    def campus(self) -> Path:
        """The ``campus`` remote's folder, where CEM files arrive (L1)."""
        return self.root / "campus"

    @property
    def target(self) -> Path:
        """The ``alma`` remote's folder, where loader files go (L7)."""
        return self.root / "alma"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def config_path(self) -> Path:
        return self.root / "workflows.toml"

    def local_now(self) -> datetime:
        """The runner's clock in this machine's zone (B3)."""
        return self.backend.clock.now().astimezone()

    @property
    def day(self) -> date:
        return self.local_now().date()

    @property
    def loader_name(self) -> str:
        """The loader file's name at the runner's clock now (L6)."""
        return f"{self.local_now():%Y%m%d%H%M%S}.txt"

    @property
    def report_name(self) -> str:
        """The rollover report's name at the runner's clock now (L8)."""
        return f"rollover_{self.local_now():%Y%m%d%H%M%S}.txt"

    def put_cem(self, content: bytes | Sequence[Cem], suffix: str = "_0700.csv") -> Path:
        """A CEM file of today on the ``campus`` remote (L1)."""
        data = content if isinstance(content, bytes) else cem_bytes(content)
        path = self.campus / f"leganto_export_{self.day:%Y%m%d}{suffix}"
        path.write_bytes(data)
        return path

    def cem_file(self, content: bytes | Sequence[Cem], name: str = "cem.csv") -> Path:
        """A CEM file for ``--cem``."""
        data = content if isinstance(content, bytes) else cem_bytes(content)
        path = self.root / name
        path.write_bytes(data)
        return path

    # ---- configuration ----

    def write_config(self) -> WorkflowSetup:
        lines = [
            f"[alma.{AB}]",
            f'url = "{GATEWAY_URL}"',
            f'apikey = "{KEY}"',
            f"rate_limit_per_second = {self.rate}",
        ]
        for name, table in self.remotes.items():
            lines += ["", f"[remotes.{name}]"]
            lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
        courses = {"source": "campus:leganto_export_{YYYYMMDD}*", "target": "alma", **self.courses}
        lines += ["", "[course_loading]"]
        lines += [f"{key} = {_toml(value)}" for key, value in courses.items()]
        for name, table in self.notify.items():
            lines += ["", f"[notify.{name}]"]
            lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
        self.config_path.write_text("\n".join(lines) + "\n")
        return WorkflowSetup(tomllib.loads(self.config_path.read_text()), self.config_path)

    def settings(self) -> WorkflowSettings:
        self.write_config()
        return load_workflow_settings(self.config_path, {})

    def notifications(self) -> RunNotifications | None:
        """The ``[notify.*]`` channels as the command line wires them (B7)."""
        return notifications_for(self.settings().notify)

    # ---- workflows ----

    def job(
        self, workflow: str = COURSE_LOADING, *, cem: Path | None = None, push: bool = True
    ) -> CoursesJob:
        """The workflow as ``almabridge run WORKFLOW --institution AB`` builds it: the wiring's
        `CoursesJob` over the fake Alma's HTTP app."""
        setup = self.write_config()
        settings = load_workflow_settings(self.config_path, {})
        courses = settings.course_loading
        options = CourseJobOptions(
            workflow,
            AB,
            self.day,
            None if cem is None else str(cem),
            push,
            courses.date_format,
            MergeOn(courses.merge_on),
            courses.cem_encoding,
        )
        return CoursesJob(options, setup, connect_alma=self.alma.client, environ={})

    def push(self) -> RemoteLoaderPush:
        """The push to the ``alma`` remote, as the wiring makes it (L7)."""
        return RemoteLoaderPush(lambda: LocalFileTransfer("/"), str(self.target), "alma")

    def report(self, wait: LoaderWait) -> RolloverReport:
        """The rollover report built directly over the memory twins, with ``wait`` (L8)."""
        source = RemoteCemSource(
            lambda: LocalFileTransfer("/"),
            str(self.campus),
            "leganto_export_{YYYYMMDD}*",
            "campus:leganto_export_{YYYYMMDD}*",
        )
        lookup = CourseLookup(MemoryCourseCatalog(self.alma.state, AB), concurrency=4)
        return RolloverReport(
            source,
            CemCsvReader(),
            lookup,
            LoaderFiles(),
            CourseRules(ASU_TABLES),
            wait,
            day=self.day,
            concurrency=4,
        )

    def runner(self, notifications: RunNotifications | None = None) -> JobRunner:
        lock = cast(WorkflowLock, self.ledger)  # both ledgers try locks
        return JobRunner(self.ledger, self.backend.clock, lock, notifications)

    async def run(
        self,
        workflow: CoursesJob | RolloverReport,
        *,
        dry_run: bool = False,
        notifications: RunNotifications | None = None,
        out: Path | None = None,
    ) -> RunResult:
        options = workflow.options.stored() if isinstance(workflow, CoursesJob) else {}
        return await self.runner(notifications).run(
            workflow, out_dir=out or self.out, options=options, dry_run=dry_run
        )

    async def records(self, run_id: int) -> list[RunRecord]:
        async with self.ledger.unit_of_work() as uow:
            return await uow.runs.records_of(run_id)

    async def kinds(self, run_id: int) -> Mapping[str, dict[str, RunRecord]]:
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

    def advance(self, seconds: float) -> None:
        self.backend.clock.advance(seconds=seconds)


def loader_rows(path: Path) -> list[LoaderRow]:
    """The rows of a loader file (or rollover report) read back (L6)."""
    return read_loader_file(path.read_bytes(), name=path.name)


def body_text(message: EmailMessage) -> str:
    """The plain-text body of an e-mail received."""
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def by_key(rows: Sequence[LoaderRow]) -> dict[str, LoaderRow]:
    return {f"{row.course_code} {row.section_id}": row for row in rows}


def files(folder: Path) -> list[str]:
    """The names in ``folder``, sorted; none when it does not exist."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def local_stamp(moment: datetime) -> str:
    return f"{moment.astimezone():%Y%m%d%H%M%S}"


def yesterday(day: date) -> date:
    return day - timedelta(days=1)
