"""The workflows layer of the state: sets, Analytics reports, jobs, reading lists, and holdings
seeded with a MARC record of the test's choosing.

These are what the batch workflows read from Alma (rules H1, H2, O5, O8, L5, L8, AS3). Each has
knobs a test sets when seeding: a report's page size, column order, omitted empty cells and a
number of "still loading" answers; a job instance's scripted status sequence; a holding whose
answer comes without its ``<record>``. Routes (``routes_sets``, ``routes_analytics``,
``routes_jobs``, ``routes_courses``, ``routes_bibs``) and the in-memory twins
(``memory_roles``) both call these methods, so they see one behaviour.

Error codes here are the fake's own where no real sample shows Alma's (marked *unverified*);
the analytics ones are copied from ``ref:scriptotek-php-alma-client__*``.
"""

from __future__ import annotations

import copy
import random
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.fake_alma import errors, marc
from adapters.fake_alma.model import Holding
from adapters.fake_alma.state_patrons import PatronState

RUN_STATUSES = ("QUEUED", "RUNNING", "COMPLETED_SUCCESS")
"""What an instance started by ``op=run`` goes through, one status per read, unless scripted."""
FINISHED_STATUSES = frozenset(
    {
        "COMPLETED_SUCCESS",
        "COMPLETED_NO_BULKS",
        "COMPLETED_WARNINGS",
        "COMPLETED_FAILED",
        "FAILED",
        "ABORTED",
        "SYSTEM_ABORTED",
        "MANUAL_ABORTED",
        "SKIPPED",
    }
)
WAITING_STATUSES = frozenset({"QUEUED", "PENDING"})
STATUS_DESCRIPTIONS = {
    "QUEUED": "Queued",
    "PENDING": "Pending",
    "INITIALIZING": "Initializing",
    "RUNNING": "Running",
    "FINALIZING": "Finalizing",
    "COMPLETED_SUCCESS": "Completed Successfully",  # as the job instance sample
    "COMPLETED_NO_BULKS": "Completed No Bulks",
    "COMPLETED_WARNINGS": "Completed with Warnings",
    "COMPLETED_FAILED": "Completed with Errors",  # as research §5 (JOB_END webhook)
    "FAILED": "Failed",
}
SAW_TYPES = {
    "varchar": "xsd:string",
    "integer": "xsd:int",
    "double": "xsd:double",
    "timestamp": "xsd:dateTime",
    "date": "xsd:date",
}
"""Analytics column types (``saw-sql:type``) and their XML schema types, as in the samples."""


# ---- errors the workflows' endpoints answer ---------------------------------------------------


def set_not_found(set_id: str) -> errors.AlmaError:
    """Unknown set id. Code and text are *unverified* (modelled on 402203)."""
    return errors.AlmaError("402460", f"Input parameters setId {set_id} is not valid.")


def report_not_found(path: str) -> errors.AlmaError:
    """Unknown report path: code and text as ``ref:…report_not_found_response.xml`` (the HTTP
    status, absent from the sample, is the fake's 400)."""
    return errors.AlmaError("INTERNAL_SERVER_ERROR", f"Path not found ({path})")


def no_more_rows() -> errors.AlmaError:
    """A token asked for again after its report finished (``ref:…analytics_response_part4``)."""
    return errors.AlmaError("420033", "No more rows to fetch")


def token_not_valid(token: str) -> errors.AlmaError:
    """A resumption token the fake never gave. Code and text are *unverified*."""
    return errors.AlmaError("420034", f"Resumption token {token} is not valid.")


def job_not_found(job_id: str) -> errors.AlmaError:
    """Unknown job id. Code and text are *unverified*."""
    return errors.AlmaError("402470", f"Input parameters jobId {job_id} is not valid.")


def job_instance_not_found(instance_id: str) -> errors.AlmaError:
    """Unknown job instance. Code and text are *unverified*."""
    return errors.AlmaError("402471", f"Input parameters instanceId {instance_id} is not valid.")


# ---- records ----------------------------------------------------------------------------------


@dataclass
class FakeSet:
    """An itemized set; ``members`` are ``{"id", "description", "link"?}`` in Alma's order."""

    set_id: str
    name: str
    content: str
    members: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ReportColumn:
    """One column of a report's schema: ``ColumnN``, its heading and its ``saw-sql`` type."""

    name: str
    heading: str
    saw_type: str = "varchar"
    formula: str = ""


@dataclass
class FakeReport:
    """An Analytics report: its rows keyed by heading, and the knobs of how Alma serves it.

    * ``page_size``: rows per page whatever ``limit`` the client sent (None: the limit);
    * ``column_order``: the headings in ``Column1…`` order (None: ``headings``' order), so a
      test can show that rows are read by heading, not position;
    * ``omit_empty``: leave empty cells out of a row, as Alma does (else ``<ColumnN/>``);
    * ``still_loading_polls`` answers of "still loading" (``IsFinished`` false, no rows, no
      token), served once ``still_loading_after_page`` pages have been (0: before the first,
      so the client asks again with the path; 1: after it, with the token, as the php spec);
    * ``rowset_namespace``: whether ``<rowset>`` carries ``urn:…:xml-analysis:rowset``.
    """

    path: str
    headings: list[str]
    rows: list[dict[str, str]]
    page_size: int | None = None
    column_order: list[str] | None = None
    omit_empty: bool = True
    still_loading_polls: int = 0
    still_loading_after_page: int = 0
    rowset_namespace: bool = True
    column_types: dict[str, str] = field(default_factory=dict)
    loading_left_at_start: int = 0

    def columns(self) -> list[ReportColumn]:
        """Column0 (Alma's constant ``0``), then one per heading in ``column_order``."""
        order = self.column_order or self.headings
        found = [ReportColumn("Column0", "0", "integer", "s_0")]
        for number, heading in enumerate(order, start=1):
            saw_type = self.column_types.get(heading, "varchar")
            found.append(ReportColumn(f"Column{number}", heading, saw_type, f"s_{number}"))
        return found


@dataclass
class ReportRun:
    """One reading of a report behind a resumption token (Alma keeps the cursor server-side)."""

    token: str
    report: FakeReport
    page_size: int
    position: int = 0
    pages_served: int = 0
    loading_left: int = 0
    finished: bool = False


@dataclass(frozen=True)
class ReportPage:
    """What one ``GET /analytics/reports`` answers: rendered by ``routes_analytics``.

    ``rows`` hold ``(ColumnN, value)`` pairs in column order (empty cells already dropped when
    the report omits them); ``columns`` is the schema, sent on the first page with rows only.
    """

    finished: bool
    token: str | None
    columns: tuple[ReportColumn, ...] | None
    rows: tuple[tuple[tuple[str, str], ...], ...]
    rowset_namespace: bool
    col_names: bool


@dataclass
class FakeJob:
    """A job (``GET /conf/jobs/{id}``) and the status script of the instances ``op=run`` starts."""

    job_id: str
    name: str
    description: str
    type: tuple[str, str]
    category: tuple[str, str]
    content: tuple[str, str] | None
    run_statuses: tuple[str, ...] = RUN_STATUSES


@dataclass
class FakeJobInstance:
    """An instance of a job. Each read (alone or in a listing) shows the next status of its
    script, the last one staying: ``["QUEUED", "RUNNING", "COMPLETED_SUCCESS"]`` is queued on
    the first read, running on the second, finished from the third on."""

    instance_id: str
    external_id: str
    job_id: str
    name: str
    statuses: tuple[str, ...]
    counters: list[tuple[str, str, str]]
    submitted: datetime
    submitted_by: tuple[str, str] = ("exl_api", "Ex Libris, API")
    parameters: dict[str, str] = field(default_factory=dict)
    reads: int = 0
    started: datetime | None = None
    ended: datetime | None = None

    @property
    def status(self) -> str:
        """The status of the latest read (the first status before any read)."""
        return self.statuses[min(max(self.reads - 1, 0), len(self.statuses) - 1)]

    @property
    def finished(self) -> bool:
        """Whether the latest read's status is a final one."""
        return self.status in FINISHED_STATUSES

    @property
    def progress(self) -> int:
        """0 while waiting, 50 while running, 100 once finished (Alma's runs from 0 to 100)."""
        if self.finished:
            return 100
        return 0 if self.status in WAITING_STATUSES else 50


@dataclass
class WorkflowData:
    """What one institution holds for the workflows."""

    rng: random.Random
    serial: int
    suffix: str
    sets: dict[str, FakeSet] = field(default_factory=dict)
    reports: dict[str, FakeReport] = field(default_factory=dict)
    runs: dict[str, ReportRun] = field(default_factory=dict)
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    instances: dict[str, FakeJobInstance] = field(default_factory=dict)
    reading_lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    withheld_records: set[str] = field(default_factory=set)

    def next_id(self) -> str:
        """A fresh id in Alma's style: a serial, then ``0`` and the institution number."""
        self.serial += 1
        return f"{self.serial}{self.suffix}"


class WorkflowState(PatronState):
    """Sets, Analytics reports, jobs and reading lists, per institution."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._workflow_data: dict[str, WorkflowData] = {}

    def _workflows(self, institution: str) -> WorkflowData:
        inst = self.institution(institution)
        data = self._workflow_data.get(inst.code)
        if data is None:
            # Seeded per institution, like IdFactory, so two runs of one seed give the same ids.
            rng = random.Random(f"{self.seed}:{inst.number}:workflows")  # noqa: S311 - ids only
            serial = rng.randrange(10**9, 2 * 10**9)
            data = WorkflowData(rng=rng, serial=serial, suffix=f"0{inst.number}")
            self._workflow_data[inst.code] = data
        return data

    # ---- sets (H1, AS3) -----------------------------------------------------------------------

    def add_set(
        self,
        institution: str,
        members: Iterable[str | tuple[str, str] | Mapping[str, str]],
        *,
        set_id: str | None = None,
        name: str = "",
        content: str = "BIB_MMS",
    ) -> FakeSet:
        """An itemized set. A member is an id, ``(id, description)`` or a member object; a
        ``BIB_MMS`` or ``USER`` member without a link gets Alma's link to the record."""
        data = self._workflows(institution)
        set_id = set_id or data.next_id()
        if set_id in data.sets:
            raise ValueError(f"set {set_id} is defined twice in {institution}")
        listed: list[dict[str, str]] = []
        for member in members:
            if isinstance(member, str):
                entry = {"id": member}
            elif isinstance(member, tuple):
                entry = {"id": member[0], "description": member[1]}
            else:
                entry = {str(k): str(v) for k, v in member.items()}
            listed.append(entry)
        made = FakeSet(set_id, name or f"Set {set_id}", content, listed)
        data.sets[set_id] = made
        return made

    def set_of(self, institution: str, set_id: str) -> FakeSet:
        """A set, or Alma's error."""
        found = self._workflows(institution).sets.get(set_id)
        if found is None:
            raise set_not_found(set_id)
        return found

    # ---- Analytics reports (O5) ----------------------------------------------------------------

    def add_report(
        self,
        institution: str,
        path: str,
        headings: Sequence[str],
        rows: Iterable[Mapping[str, str]],
        *,
        page_size: int | None = None,
        column_order: Sequence[str] | None = None,
        omit_empty: bool = True,
        still_loading_polls: int = 0,
        still_loading_after_page: int = 0,
        rowset_namespace: bool = True,
        column_types: Mapping[str, str] | None = None,
    ) -> FakeReport:
        """A report at ``path``: ``rows`` map headings to values (a heading left out is empty).
        The knobs are `FakeReport`'s."""
        data = self._workflows(institution)
        if column_order is not None and sorted(column_order) != sorted(headings):
            raise ValueError("column_order must name every heading once")
        if still_loading_after_page < 0 or still_loading_polls < 0:
            raise ValueError("still-loading knobs count answers and pages: 0 or more")
        report = FakeReport(
            path=path,
            headings=list(headings),
            rows=[{h: str(row.get(h) or "") for h in headings} for row in rows],
            page_size=page_size,
            column_order=list(column_order) if column_order is not None else None,
            omit_empty=omit_empty,
            still_loading_polls=still_loading_polls,
            still_loading_after_page=still_loading_after_page,
            rowset_namespace=rowset_namespace,
            column_types=dict(column_types or {}),
        )
        report.loading_left_at_start = still_loading_polls if still_loading_after_page == 0 else 0
        data.reports[path] = report
        return report

    def analytics_page(
        self,
        institution: str,
        *,
        path: str | None,
        token: str | None,
        limit: int,
        col_names: bool = True,
    ) -> ReportPage:
        """``GET /analytics/reports?path=|token=&limit=&col_names=``: the next page of a report
        (a token wins over a path, as in Alma, where later calls may send both)."""
        data = self._workflows(institution)
        if token:
            run = data.runs.get(token)
            if run is None:
                raise token_not_valid(token)
            if run.finished:
                raise no_more_rows()
        else:
            if not path:
                raise errors.mandatory_field_missing("path")
            report = data.reports.get(path)
            if report is None:
                raise report_not_found(path)
            if report.loading_left_at_start > 0:
                # Still loading before any row: no token yet, so the client asks with the path.
                report.loading_left_at_start -= 1
                return _loading_page(report, col_names)
            run = ReportRun(
                token=f"{data.rng.getrandbits(256):064X}",
                report=report,
                page_size=report.page_size or limit,
                loading_left=report.still_loading_polls if report.still_loading_after_page else 0,
            )
            data.runs[run.token] = run
        return _next_page(run, col_names)

    # ---- jobs (O8, L8) -------------------------------------------------------------------------

    def add_job(
        self,
        institution: str,
        job_id: str,
        *,
        name: str,
        description: str | None = None,
        type: tuple[str, str] = ("MANUAL", "Manual"),
        category: tuple[str, str] = ("NORMALIZATION", "Normalization"),
        content: tuple[str, str] | None = None,
        run_statuses: Sequence[str] = RUN_STATUSES,
    ) -> FakeJob:
        """A job; ``run_statuses`` scripts the instances ``op=run`` starts."""
        data = self._workflows(institution)
        if job_id in data.jobs:
            raise ValueError(f"job {job_id} is defined twice in {institution}")
        if not run_statuses:
            raise ValueError("a status script needs at least one status")
        job = FakeJob(
            job_id, name, description or name, type, category, content, tuple(run_statuses)
        )
        data.jobs[job_id] = job
        return job

    def job(self, institution: str, job_id: str) -> FakeJob:
        """A job, or Alma's error."""
        found = self._workflows(institution).jobs.get(job_id)
        if found is None:
            raise job_not_found(job_id)
        return found

    def add_job_instance(
        self,
        institution: str,
        job_id: str,
        statuses: Sequence[str],
        *,
        counters: Mapping[str, str | int] | None = None,
        name: str | None = None,
        instance_id: str | None = None,
        submitted: datetime | None = None,
    ) -> FakeJobInstance:
        """An instance of a job with a scripted status sequence; ``counters`` map a counter
        type code to its value (its description is the code)."""
        job = self.job(institution, job_id)
        data = self._workflows(institution)
        if not statuses:
            raise ValueError("a status script needs at least one status")
        instance = FakeJobInstance(
            instance_id=instance_id or data.next_id(),
            external_id=data.next_id(),
            job_id=job.job_id,
            name=name or job.name,
            statuses=tuple(statuses),
            counters=[(k, k, str(v)) for k, v in (counters or {}).items()],
            submitted=submitted or self._now(),
        )
        if instance.instance_id in data.instances:
            raise ValueError(f"job instance {instance.instance_id} is defined twice")
        data.instances[instance.instance_id] = instance
        return instance

    def read_job_instance(self, institution: str, job_id: str, instance_id: str) -> FakeJobInstance:
        """``GET /conf/jobs/{id}/instances/{instance}``: one read, which moves its script on."""
        self.job(institution, job_id)
        instance = self._workflows(institution).instances.get(instance_id)
        if instance is None or instance.job_id != job_id:
            raise job_instance_not_found(instance_id)
        self._read(instance)
        return instance

    def read_job_instances(
        self, institution: str, job_id: str, *, limit: int, offset: int
    ) -> tuple[list[FakeJobInstance], int]:
        """``GET /conf/jobs/{id}/instances``: a page of instances, newest submitted first (the
        fake's choice; Alma's order is unverified), each read once; and the total."""
        self.job(institution, job_id)
        every = [i for i in self._workflows(institution).instances.values() if i.job_id == job_id]
        # Newest first; on equal times the later-made instance first (a frozen test clock).
        ordered = [i for _, i in sorted(enumerate(every), key=lambda p: (p[1].submitted, p[0]))]
        ordered.reverse()
        page = ordered[offset : offset + limit]
        for instance in page:
            self._read(instance)
        return page, len(ordered)

    def peek_job_instance(self, institution: str, instance_id: str) -> FakeJobInstance:
        """An instance as it stands, without a read (for tests; no route calls this)."""
        instance = self._workflows(institution).instances.get(instance_id)
        if instance is None:
            raise job_instance_not_found(instance_id)
        return instance

    def run_job(
        self, institution: str, job_id: str, parameters: Mapping[str, str]
    ) -> FakeJobInstance:
        """``POST /conf/jobs/{id}?op=run``: a new instance following the job's run script,
        named like the sample (``{job_name} - 2025-10-05 4:11 AM``)."""
        job = self.job(institution, job_id)
        now = self._now()
        title = parameters.get("job_name") or job.name
        instance = self.add_job_instance(
            institution,
            job_id,
            job.run_statuses,
            name=f"{title} - {now:%Y-%m-%d} {now.hour % 12 or 12}:{now:%M %p}",
            submitted=now,
        )
        instance.parameters = dict(parameters)
        return instance

    def _read(self, instance: FakeJobInstance) -> None:
        instance.reads += 1
        now = self._now()
        if instance.status not in WAITING_STATUSES and instance.started is None:
            instance.started = now
        if instance.finished and instance.ended is None:
            instance.ended = now

    # ---- reading lists (L5, L8) ----------------------------------------------------------------

    def add_reading_list(
        self,
        institution: str,
        course_id: str,
        *,
        code: str,
        name: str,
        status: tuple[str, str] = ("Complete", "Complete"),
        list_id: str | None = None,
    ) -> dict[str, Any]:
        """A reading list of a course, as ``GET /courses/{id}?view=full`` lists it."""
        self.course(institution, course_id)
        data = self._workflows(institution)
        entry: dict[str, Any] = {
            "id": list_id or data.next_id(),
            "code": code,
            "name": name,
            "status": {"value": status[0], "desc": status[1]},
        }
        data.reading_lists.setdefault(course_id, []).append(entry)
        return entry

    def reading_lists_of(self, institution: str, course_id: str) -> list[dict[str, Any]]:
        """The reading lists of a course (a copy), or Alma's error for an unknown course."""
        self.course(institution, course_id)
        return copy.deepcopy(self._workflows(institution).reading_lists.get(course_id, []))

    # ---- holdings with a chosen record (H2) -----------------------------------------------------

    def seed_holding_record(
        self,
        institution: str,
        mms_id: str,
        record: ET.Element | str,
        *,
        holding_id: str | None = None,
    ) -> Holding:
        """A holding of a bib whose MARC record is exactly ``record`` (its own 001 and 004
        kept, as Alma keeps a migrated record's: ``ref:…holding_response.xml``). Its 852 names
        the library and location, which must exist."""
        if isinstance(record, str):
            found = marc.find_record(marc.parse_xml(record))
            if found is None:
                raise ValueError("no <record> element in the holding record")
            original = found
        else:
            original = copy.deepcopy(record)
        holding = self.create_holding(
            institution, mms_id, record=copy.deepcopy(original), holding_id=holding_id
        )
        holding.record = original
        return holding

    def withhold_holding_record(self, institution: str, holding_id: str) -> None:
        """From now on the holding is answered without its ``<record>`` (H2's odd case)."""
        if holding_id not in self.institution(institution).holdings:
            raise errors.invalid_holding_id(holding_id)
        self._workflows(institution).withheld_records.add(holding_id)

    def holding_record_withheld(self, institution: str, holding_id: str) -> bool:
        """Whether the holding's answer leaves its record out."""
        return holding_id in self._workflows(institution).withheld_records


def _loading_page(report: FakeReport, col_names: bool) -> ReportPage:
    # ref:scriptotek-php-alma-client__analytics_still_loading_response.xml: no token, no rows.
    return ReportPage(False, None, None, (), report.rowset_namespace, col_names)


def _next_page(run: ReportRun, col_names: bool) -> ReportPage:
    report = run.report
    if run.loading_left > 0 and run.pages_served >= report.still_loading_after_page:
        run.loading_left -= 1
        return _loading_page(report, col_names)
    columns = report.columns()
    chunk = report.rows[run.position : run.position + run.page_size]
    run.position += len(chunk)
    run.finished = run.position >= len(report.rows)
    first = run.pages_served == 0
    run.pages_served += 1
    rows = []
    for row in chunk:
        cells = [("Column0", "0")]
        cells += [(column.name, row[column.heading]) for column in columns[1:]]
        if report.omit_empty:
            cells = [(name, value) for name, value in cells if value != ""]
        rows.append(tuple(cells))
    return ReportPage(
        finished=run.finished,
        # As in the samples: the token comes with the first page only, and not at all when that
        # page is the whole report (analytics_response.xml).
        token=run.token if first and not run.finished else None,
        columns=tuple(columns) if first else None,
        rows=tuple(rows),
        rowset_namespace=report.rowset_namespace,
        col_names=col_names,
    )
