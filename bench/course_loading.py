"""Benchmark of Leganto course loading (issue 17, part 4): wall time, Alma calls per DELETE and
per rollover candidate, the fraction of Alma's 25/s and peak RSS of `almabridge run
course-loading` and `almabridge run course-rollover-report`, beside a model of the upstream
scripts, which ask Alma one call at a time. Not a test; not run in CI.

**The CEM file** (made here from a fixed seed, ISO-8859-1 as ASU's export): ``--rows`` rows
(default 20,000), one per course x instructor (1 to 4 instructors a course, about 1.9), ASU's
columns (``MYASU_COURSE_IDSTRING`` such as ``2026Fall-X-ENG101-12345``, ``COURSE_STATUS``,
``COURSE_NAME``, ``SLN``, ``ASURITEID``, ``COLLEGE_OR_DIVISION_CODE``, ``CAMPUS``, ``COURSE_ID``,
``TERM`` 7, ``YEAR``, the sync dates, ``COPY_COURSE_SLN``, ``COPY_COURSE_SEMESTER_YEAR``,
``COPY_COURSE_ID``, ``COPY_COURSE_SEMESTER_TERM``), every course of this year's fall (sessions
A and B among them), on ASU's campuses and colleges. Among the courses:

* ``--deletes`` DELETE candidates (default 2,000; ``COURSE_STATUS`` DENIED on every row of the
  course): half exist in Alma with exactly that code and section, 30 % of those with reading
  lists; the other half are in no year of Alma's.
* ``--rollovers`` rollover candidates (default 1,000; approved, ``COPY_COURSE_SLN`` the SLN of a
  course of last year's fall, ``COPY_COURSE_SEMESTER_YEAR`` last year): 85 % find exactly one
  course with reading lists (80 % by its section, 5 % by its searchable ids only, as a course
  merged on code keeps the other SLNs), 5 % one course without lists, 5 % none, 5 % two (one by
  section, one by searchable id).
* the others approved (1.5 % REQUESTED, skipped), 90 % of them already in Alma.

**The fake Alma** holds ``--courses`` courses (default 30,000), half this year's and half last
year's (the rest made up of spring and summer courses), a quarter of the others with reading
lists. It runs under uvicorn on 127.0.0.1 in this process (its state frozen out of the
collector), answering after ``--latency`` seconds a call (default 0.6) and enforcing its
threshold of 25 calls a second; it listens on a socket made with ``IPPROTO_TCP`` (as
bench/oclc_merge.py's, so that asyncio sets ``TCP_NODELAY`` and no answer waits for a delayed
ACK). Its own cost is shown: the CPU this process spends while each run lasts is the fake's
(it does nothing else then), printed per call and as a share of the run's wall time, and the
bench says so when that share makes the fake, not the bridge, set the pace. A page of
``q=year~YYYY`` scans every course of the institution (about 6 ms at 30,000 here).

**The runs.** Each workflow runs in a child process of its own (this script with a hidden
``--child`` flag, started with `asyncio.create_subprocess_exec`), as two cron entries would:
the options are those `almabridge run course-loading --config F --institution 01AAA_AB --cem
FILE --no-push` and `almabridge run course-rollover-report --config F --institution 01AAA_AB
--cem FILE` store (``[course_loading]`` with no ``job_id`` and ``report_delay_minutes = 0``, the
target a local folder left empty, so the report waits for nothing), the workflow `CoursesJob`
with its own `AlmaHttpClient` at the configured ``rate_limit_per_second = 25``, run by
`JobRunner` on a SQLite ledger (both runs on the same one, migrated by this process so that
Alembic is not in a child's peak, on tmpfs when there is one). The wall time is
`JobRunner.run` from call to return (reading and recording the CEM file, the Alma calls, the
loader file or the report written). Peak RSS is the child's own high-water mark (``VmHWM``, not
``ru_maxrss``, which Linux carries over the exec from this big parent); no baseline is
subtracted, the RSS after the child's set-up is printed beside it. The calls are read from the
fake's call log, run by run: "cache" calls are the ``q=year~YYYY`` pages (`CourseLookup` reads
the candidates' year once), the others are per candidate (for these candidates, all of this
year or last year, one ``view=full`` each of those found in the cache). The runs' records are
counted from the ledger by kind and outcome and checked against the generator (the DELETE
verdicts, the rollovers found and why the others were not).

**The serial model.** Upstream (research seed-workflows §d) caches this year's and last year's
courses (aiohttp, throttled at 25/s), then per DELETE row searches ``code~CODE`` and, when the
first answer has exactly that code, reads its reading lists; its rollover report compares the
copy year to a number, so last year's cache is never used: per candidate ``section~SLN AND
year~YYYY``, then ``searchable_ids~SLN AND year~YYYY`` when the first finds none, then
``view=full`` when exactly one course is found, one call at a time. That is run here, one call at
a time against the same fake (same latency, same threshold), on ``--sample-deletes`` DELETE
candidates (default 100) and ``--sample-rollovers`` rollover candidates (default 50) spread
evenly over the file; the calls it makes are checked against the generator's count for them.
Each part's seconds per call are scaled to the calls upstream makes for every candidate
(counted from the generator: 2 per DELETE candidate in Alma, 1 per other; 2 or 3 per rollover
candidate), and upstream's cache is given its best time, its pages at the throttle's pace (25
per 1.02 s) plus one latency. Left out, in upstream's favour: its two-hour sleep, and the
DELETE checks its rollover report makes again. The model's time against the sum of both runs'
wall times is the speed-up; the same with upstream's calls at the bare latency is printed
beside it (the fake's own scan of 30,000 courses per search lengthens upstream's calls a
little).

Targets: >= 10x the serial model; <= 2 calls per DELETE candidate once the courses are cached.
Prints the figures, then one PASS/FAIL line per target and one for the runs' counts; exits 1 on
a miss.

Run from the repository root: ``.venv/bin/python bench/course_loading.py`` (about 4.5 minutes
at the defaults: 1.6 for the two runs, 2.6 for the serial sample); ``--quick`` for a smoke run
of about half a minute (2,000 rows, 200 DELETE and 100 rollover candidates, 3,000 courses, 10
and 5 sampled).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import gc
import json
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

SCRIPT = Path(__file__).resolve()
REPOSITORY = SCRIPT.parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))


import entrypoints  # noqa: E402, F401  (its warning filters go in before asyncssh is imported)
from adapters.alma_http.client import AlmaHttpClient  # noqa: E402
from adapters.alma_http.courses import HttpCourseCatalog  # noqa: E402
from adapters.fake_alma import (  # noqa: E402
    FakeAlmaState,
    FaultConfig,
    FaultInjector,
    create_fake_alma_app,
)
from adapters.fake_alma.call_log import CallRecord  # noqa: E402
from adapters.ledger.clock import SystemClock  # noqa: E402
from adapters.ledger.migrate import upgrade  # noqa: E402
from adapters.ledger.sql import SqlLedger  # noqa: E402
from application.courses.load_courses import COURSE_LOADING  # noqa: E402
from application.courses.rollover_report import COURSE_ROLLOVER_REPORT  # noqa: E402
from application.shared.connections import Secret  # noqa: E402
from application.shared.run_context import RunProgress  # noqa: E402
from application.shared.runs import JobRunner  # noqa: E402
from application.shared.workflow_settings import AlmaInstitution  # noqa: E402
from entrypoints.courses_wiring import (  # noqa: E402
    COURSE_LOADING_ENTRY,
    COURSE_ROLLOVER_REPORT_ENTRY,
    CourseJobOptions,
    CoursesJob,
)
from entrypoints.demo.servers import http_server  # noqa: E402
from entrypoints.workflow_entries import read_config  # noqa: E402

AB, KEY, RATE = "01AAA_AB", "ab-example-key", 25
WINDOW = 1.02
"""The client throttle's window: `RATE` starts per second plus ADR 0004's 0.02 s margin."""
TARGET_RATIO = 10.0
TARGET_DELETE_CALLS = 2.0
FAKE_BOUND = 0.5
"""The fake's CPU share of a run's wall time above which it may be setting the pace."""
SEED = 17
CHILD_FLAG = "--child"
COURSES_PATH = "/almaws/v1/courses"
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108 - the children's ledger
"""tmpfs when there is one: a disk's fsync per committed record would time the disk."""

COLUMNS = (
    "MYASU_COURSE_IDSTRING",
    "COURSE_STATUS",
    "COURSE_NAME",
    "SLN",
    "ASURITEID",
    "COLLEGE_OR_DIVISION_CODE",
    "CAMPUS",
    "COURSE_ID",
    "TERM",
    "YEAR",
    "START_SYNC_DATE",
    "END_SYNC_DATE",
    "COPY_COURSE_SLN",
    "COPY_COURSE_SEMESTER_YEAR",
    "COPY_COURSE_ID",
    "COPY_COURSE_SEMESTER_TERM",
)
SUBJECTS = (
    # subject, college, campus, title stem
    ("ENG", "LA", "TEMPE", "First-Year Composition"),
    ("HST", "LA", "TEMPE", "United States History"),
    ("MAT", "LS", "TEMPE", "Calculus for Engineers"),
    ("BIO", "LS", "TEMPE", "General Biology"),
    ("CHM", "LS", "TEMPE", "General Chemistry"),
    ("PSY", "LA", "ASUONLI", "Introduction to Psychology"),
    ("NUR", "NU", "DTPHX", "Foundations of Nursing Practice"),
    ("CSE", "ES", "TEMPE", "Principles of Programming"),
    ("ACC", "BA", "TEMPE", "Financial Accounting"),
    ("MUS", "HI", "TEMPE", "Music Theory"),
    ("SDO", "LW", "DTPHX", "Legal Research and Writing"),
    ("JUS", "PP", "DTPHX", "Justice and Social Inquiry"),
    ("SOC", "LA", "WEST", "Social Problems"),
    ("EGR", "ES", "POLY", "Engineering Design"),
    ("GLB", "TB", "TBIRD", "Global Management"),
    ("SPA", "LA", "ICOURSE", "Español Intermedio"),
)
SESSIONS = (
    # code segment ending, share, start, end (month-day)
    ("Fall", 0.84, "08-20", "12-11"),
    ("FallA", 0.08, "08-20", "10-09"),
    ("FallB", 0.08, "10-14", "12-04"),
)
ROLLOVER_KINDS = (
    ("section", 0.80),
    ("searchable", 0.05),
    ("no lists", 0.05),
    ("none", 0.05),
    ("two", 0.05),
)
"""How a rollover candidate's copy SLN is found in last year's courses (see the module text)."""
UPSTREAM_ROLLOVER_CALLS = {"section": 2, "searchable": 3, "no lists": 2, "none": 2, "two": 2}
"""Upstream's calls per rollover candidate: ``section~`` finds one course (then ``view=full``),
or none (then ``searchable_ids~``, and ``view=full`` when that finds one)."""
EXPECTED_ROLLOVER = {
    "section": "found",
    "searchable": "found",
    "no lists": "no reading list",
    "none": "no course",
    "two": "several courses",
}
"""The rollover report's verdict on each kind."""
SURNAMES = (  # noqa: SIM905 - a list of words
    "smith garcia nguyen johnson martinez lee brown lopez wilson anderson thomas taylor moore "
    "jackson white harris clark lewis young walker hall allen king wright scott green baker adams"
).split()


@dataclass(frozen=True)
class Sizes:
    rows: int
    deletes: int
    rollovers: int
    courses: int
    sample_deletes: int
    sample_rollovers: int


FULL = Sizes(20_000, 2_000, 1_000, 30_000, 100, 50)
QUICK = Sizes(2_000, 200, 100, 3_000, 10, 5)


# ---- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CemCourse:
    """One course of the CEM file: its rows share every value but the instructor."""

    code: str
    sln: str
    title: str
    college: str
    campus: str
    course_id: str
    session: str
    status: str
    instructors: tuple[str, ...]
    copy_sln: str = "0"
    copy_course_id: str = ""


@dataclass(frozen=True)
class DeleteCase:
    code: str
    sln: str
    exists: bool
    lists: bool


@dataclass(frozen=True)
class RolloverCase:
    code: str
    sln: str
    copy_sln: str
    kind: str


@dataclass
class Generated:
    cem: Path
    rows: int
    courses: int
    requested_rows: int
    deletes: list[DeleteCase]
    rollovers: list[RolloverCase]
    delete_rows: int
    ordinary: int
    alma_courses: Counter[str] = field(default_factory=Counter)
    reading_lists: int = 0

    @property
    def second_delete_rows(self) -> int:
        """CEM lines skipped as a second DELETE of the same course (one per extra instructor)."""
        return self.delete_rows - len(self.deletes)


class Maker:
    """SLNs, instructors and courses from one seeded generator."""

    def __init__(self, sizes: Sizes) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 - a benchmark's data
        self._slns = iter(self.rng.sample(range(10_000, 100_000), sizes.rows + sizes.courses))
        people = max(50, sizes.rows // 7)
        self.people = [
            f"{self.rng.choice('abcdefghijklmnoprstw')}{self.rng.choice(SURNAMES)}"
            f"{self.rng.randrange(1, 99)}"
            for _ in range(people)
        ]

    def sln(self) -> str:
        return str(next(self._slns))

    def instructors(self, limit: int) -> tuple[str, ...]:
        draw = self.rng.random()
        count = 1 if draw < 0.40 else 2 if draw < 0.75 else 3 if draw < 0.95 else 4
        return tuple(self.rng.sample(self.people, max(1, min(count, limit))))

    def session(self) -> str:
        draw, total = self.rng.random(), 0.0
        for ending, share, _, _ in SESSIONS:
            total += share
            if draw < total:
                return ending
        return SESSIONS[0][0]

    def course(self, year: int, status: str, limit: int, session: str | None = None) -> CemCourse:
        subject, college, campus, stem = self.rng.choice(SUBJECTS)
        number = self.rng.randrange(100, 600)
        sln = self.sln()
        ending = session or self.session()
        return CemCourse(
            code=f"{year}{ending}-X-{subject}{number}-{sln}",
            sln=sln,
            title=f"{stem} {number}",
            college=college,
            campus=campus,
            course_id=f"{subject}{number}",
            session=ending,
            status=status,
            instructors=self.instructors(limit),
        )


def kinds(count: int, shares: Sequence[tuple[str, float]], rng: random.Random) -> list[str]:
    """``count`` kinds in the given shares (rounded, the first taking the rest), shuffled."""
    made = [kind for kind, share in shares[1:] for _ in range(round(count * share))]
    made += [shares[0][0]] * (count - len(made))
    rng.shuffle(made)
    return made


def alma_course(
    code: str, sln: str, year: int, title: str, searchable: Sequence[str], ending: str
) -> dict[str, Any]:
    """A course as Alma lists it, for `FakeAlmaState.add_course`."""
    start, end = next((s, e) for name, _, s, e in SESSIONS if name == ending)
    return {
        "code": code,
        "section": sln,
        "year": str(year),
        "name": title,
        "searchable_id": list(searchable),
        "term": [{"value": "AUTUMN", "desc": "Autumn"}],
        "start_date": f"{year}-{start}Z",
        "end_date": f"{year}-{end}Z",
    }


def other_course(maker: Maker, year: int) -> dict[str, Any]:
    """A spring or summer course of ``year`` (Alma's courses no CEM row of the day names)."""
    subject, _, _, stem = maker.rng.choice(SUBJECTS)
    number = maker.rng.randrange(100, 600)
    sln = maker.sln()
    season = maker.rng.choice(("Spring", "Summer", "Fall"))
    code = f"{year}{season}-X-{subject}{number}-{sln}"
    return alma_course(code, sln, year, f"{stem} {number}", [f"{subject}{number}"], "Fall")


def generate(folder: Path, sizes: Sizes, state: FakeAlmaState, today: date) -> Generated:
    """The CEM file in ``folder`` and the fake's courses (see the module text)."""
    year, last = today.year, today.year - 1
    maker = Maker(sizes)
    rng = maker.rng
    limit = 4
    deletes = [maker.course(year, "DENIED", limit) for _ in range(sizes.deletes)]
    rollover_kinds = kinds(sizes.rollovers, ROLLOVER_KINDS, rng)
    rollovers: list[tuple[CemCourse, str]] = []
    sources: list[tuple[dict[str, Any], int]] = []  # last year's courses, reading lists each
    for kind in rollover_kinds:
        course = maker.course(year, "APPROVED", limit)
        old = maker.course(last, "APPROVED", limit, session=course.session)
        copy_sln = old.sln
        found_by = [old.course_id]
        if kind == "none":
            pass  # an SLN no course of last year holds
        elif kind == "searchable":
            other = maker.sln()
            found_by.append(copy_sln)
            data = alma_course(
                old.code.replace(f"-{copy_sln}", f"-{other}"),
                other,
                last,
                old.title,
                found_by,
                old.session,
            )
            sources.append((data, rng.randint(1, 3)))
        else:
            lists = 0 if kind == "no lists" else rng.randint(1, 3)
            data = alma_course(old.code, copy_sln, last, old.title, found_by, old.session)
            sources.append((data, lists))
            if kind == "two":
                other = maker.sln()
                twin = alma_course(
                    old.code.replace(f"-{copy_sln}", f"-{other}"),
                    other,
                    last,
                    old.title,
                    [old.course_id, copy_sln],
                    old.session,
                )
                sources.append((twin, rng.randint(1, 3)))
        copying = replace(course, copy_sln=copy_sln, copy_course_id=old.course_id)
        rollovers.append((copying, kind))
    rows = sum(len(c.instructors) for c in deletes) + sum(len(c.instructors) for c, _ in rollovers)
    ordinary: list[CemCourse] = []
    while rows < sizes.rows:
        status = "REQUESTED" if rng.random() < 0.015 else "APPROVED"
        course = maker.course(year, status, min(limit, sizes.rows - rows))
        ordinary.append(course)
        rows += len(course.instructors)

    # Alma: half the DELETE candidates, 30 % of those with lists; 90 % of the approved courses;
    # last year's rollover sources; then spring and summer courses to fill both years.
    exists = kinds(sizes.deletes, (("no", 0.0), ("yes", 0.5)), rng)
    delete_cases: dict[str, DeleteCase] = {}
    alma: list[tuple[dict[str, Any], int]] = []
    for course, there in zip(deletes, exists, strict=True):
        lists = there == "yes" and rng.random() < 0.3
        delete_cases[course.code] = DeleteCase(course.code, course.sln, there == "yes", lists)
        if there == "yes":
            data = alma_course(
                course.code, course.sln, year, course.title, [course.course_id], course.session
            )
            alma.append((data, rng.randint(1, 2) if lists else 0))
    approved = [c for c in ordinary if c.status == "APPROVED"] + [c for c, _ in rollovers]
    for course in approved:
        if rng.random() < 0.9:
            data = alma_course(
                course.code, course.sln, year, course.title, [course.course_id], course.session
            )
            alma.append((data, 1 if rng.random() < 0.25 else 0))
    alma.extend(sources)
    half = sizes.courses // 2
    this_year = sum(1 for data, _ in alma if data["year"] == str(year))
    last_year = len(alma) - this_year
    if this_year > half or last_year > half:
        raise SystemExit(
            f"--courses {sizes.courses} is too few: the CEM's courses need {this_year} of "
            f"{year} and {last_year} of {last}"
        )
    for when, count in ((year, half - this_year), (last, sizes.courses - half - last_year)):
        for _ in range(count):
            alma.append((other_course(maker, when), 1 if rng.random() < 0.25 else 0))
    rng.shuffle(alma)
    generated = Generated(
        cem=folder / f"leganto_export_{today:%Y%m%d}.csv",
        rows=rows,
        courses=len(deletes) + len(rollovers) + len(ordinary),
        requested_rows=sum(len(c.instructors) for c in ordinary if c.status == "REQUESTED"),
        deletes=[],
        rollovers=[],
        delete_rows=sum(len(c.instructors) for c in deletes),
        ordinary=len(approved) - len(rollovers),
    )
    for data, lists in alma:
        made = state.add_course(AB, data)
        generated.alma_courses[str(data["year"])] += 1
        for number in range(lists):
            state.add_reading_list(
                AB,
                made.course_id,
                code=f"RL-{data['section']}-{number + 1}",
                name=f"{data['name']} readings {number + 1}",
            )
            generated.reading_lists += 1

    # The file: courses in a shuffled order, each course's rows together.
    everything: list[tuple[CemCourse, str | None]] = [(c, None) for c in deletes]
    everything += [(c, kind) for c, kind in rollovers]
    everything += [(c, None) for c in ordinary]
    rng.shuffle(everything)
    write_cem(generated, everything, year, delete_cases)
    return generated


def write_cem(
    generated: Generated,
    courses: Sequence[tuple[CemCourse, str | None]],
    year: int,
    delete_cases: dict[str, DeleteCase],
) -> None:
    """The CEM file, ISO-8859-1 CSV, one row per course x instructor; the candidates listed in
    the file's order."""
    with generated.cem.open("w", encoding="iso-8859-1", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(COLUMNS)
        for course, kind in courses:
            start, end = next((s, e) for n, _, s, e in SESSIONS if n == course.session)
            copying = course.copy_sln != "0"
            for instructor in course.instructors:
                writer.writerow(
                    (
                        course.code,
                        course.status,
                        course.title,
                        course.sln,
                        instructor,
                        course.college,
                        course.campus,
                        course.course_id,
                        "7",
                        str(year),
                        f"{year}-{start} 00:00:00.000000000",
                        f"{year}-{end} 00:00:00.000000000",
                        course.copy_sln,
                        str(year - 1) if copying else "",
                        course.copy_course_id,
                        "7" if copying else "",
                    )
                )
            if course.status == "DENIED":
                generated.deletes.append(delete_cases[course.code])
            elif kind is not None:
                generated.rollovers.append(
                    RolloverCase(course.code, course.sln, course.copy_sln, kind)
                )


# ---- the fake Alma, served ---------------------------------------------------------------------


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


def rollover_reason(reason: str) -> str:
    """The rollover report's verdict, from a rollover record's reason."""
    if reason.startswith("ROLLOVER from"):
        return "found"
    if reason.endswith("has no reading list"):
        return "no reading list"
    if reason.startswith("no course of"):
        return "no course"
    if "courses of" in reason:
        return "several courses"
    return "other: " + reason[:60]


def run_records(database: Path, run_id: int) -> dict[str, Any]:
    """The run's records by kind and outcome, its DELETE verdicts and rollover verdicts."""
    by_kind: dict[str, dict[str, int]] = {}
    verdicts: Counter[str] = Counter()
    rollovers: Counter[str] = Counter()
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute(
            "SELECT kind, outcome, count(*) FROM run_records WHERE run_id = ? "
            "GROUP BY kind, outcome",
            (run_id,),
        )
        for kind, outcome, count in rows:
            by_kind.setdefault(str(kind), {})[str(outcome)] = int(count)
        rows = connection.execute(
            "SELECT json_extract(detail, '$.delete_verdict') FROM run_records WHERE run_id = ? "
            "AND kind = 'course' AND json_extract(detail, '$.delete_verdict') IS NOT NULL",
            (run_id,),
        )
        verdicts.update(str(verdict) for (verdict,) in rows)
        rows = connection.execute(
            "SELECT reason FROM run_records WHERE run_id = ? AND kind = 'rollover'", (run_id,)
        )
        rollovers.update(rollover_reason(str(reason)) for (reason,) in rows)
    return {"records": by_kind, "verdicts": dict(verdicts), "rollovers": dict(rollovers)}


async def child(workflow: str, config: Path, folder: Path, cem: Path) -> None:
    """In the child: the run as `almabridge run WORKFLOW` builds it; one JSON line of figures."""
    entry = COURSE_LOADING_ENTRY if workflow == COURSE_LOADING else COURSE_ROLLOVER_REPORT_ENTRY
    args = ["--institution", AB, "--cem", str(cem)]
    if workflow == COURSE_LOADING:
        args.append("--no-push")
    setup = read_config(config)
    options = entry.options(args, setup)
    clients: list[AlmaHttpClient] = []

    def connect(institution: AlmaInstitution) -> AlmaHttpClient:
        clients.append(
            AlmaHttpClient(institution.url, rate_per_second=institution.rate_limit_per_second)
        )
        return clients[-1]

    job = CoursesJob(CourseJobOptions.read(workflow, options), setup, connect_alma=connect)
    ledger = SqlLedger.from_url(ledger_url(folder), SystemClock())
    messages: list[tuple[float, str]] = []
    started = 0.0

    def progress(update: RunProgress) -> None:
        if update.message:
            messages.append((time.perf_counter() - started, update.message))

    runner = JobRunner(ledger, SystemClock(), ledger, on_progress=progress)
    try:
        await ledger.check_ready()
        gc.collect()
        setup_mb = peak_rss_mb()
        cpu = cpu_seconds()
        started = time.perf_counter()
        result = await runner.run(job, out_dir=folder / "out", options=options)
        wall = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        peak_mb = peak_rss_mb()
    finally:
        await ledger.close()
    run = result.run
    figures = {
        "status": run.status.value,
        "reason": run.reason,
        "counts": [run.counts.ok, run.counts.skipped, run.counts.failed],
        "wall": wall,
        "cpu": cpu,
        "setup_mb": setup_mb,
        "peak_mb": peak_mb,
        "retries": sum(c.retries for c in clients),
        "messages": messages,
        "outputs": [f.name for f in run.outputs],
        **run_records(folder / "ledger.db", run.id),
    }
    print(json.dumps(figures))


# ---- the parent: the runs ----------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One workflow's run in its child, and what the fake saw of it."""

    workflow: str
    status: str
    reason: str | None
    counts: tuple[int, int, int]
    wall: float
    cpu: float
    setup_mb: float
    peak_mb: float
    retries: int
    messages: list[tuple[float, str]]
    outputs: list[str]
    records: dict[str, dict[str, int]]
    verdicts: dict[str, int]
    rollovers: dict[str, int]
    cache_calls: int
    other_calls: int
    refused: int
    span: float
    fake_cpu: float

    @property
    def calls(self) -> int:
        return self.cache_calls + self.other_calls

    @property
    def fraction(self) -> float:
        return self.calls / self.wall / RATE

    @property
    def span_fraction(self) -> float:
        return (self.calls - 1) / self.span / RATE if self.span > 0 else 0.0


def write_config(folder: Path, url: str) -> Path:
    for name in ("campus", "alma"):
        (folder / name).mkdir(exist_ok=True)
    config = folder / "workflows.toml"
    config.write_text(
        f'[alma.{AB}]\nurl = "{url}"\napikey = "{KEY}"\nrate_limit_per_second = {RATE}\n\n'
        f'[remotes.campus]\nurl = "file://{folder / "campus"}"\n\n'
        f'[remotes.alma]\nurl = "file://{folder / "alma"}"\n\n'
        '[course_loading]\njob_id = ""\nreport_delay_minutes = 0\n'
    )
    return config


def is_cache_page(call: CallRecord) -> bool:
    return call.path == COURSES_PATH and (call.param("q") or "").startswith("year~")


async def measure(
    workflow: str, state: FakeAlmaState, config: Path, folder: Path, cem: Path
) -> Measured:
    before = len(state.call_log)
    fake_cpu = time.process_time()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        CHILD_FLAG,
        workflow,
        str(config),
        str(folder),
        str(cem),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    fake_cpu = time.process_time() - fake_cpu
    lines = out.decode().strip().splitlines()
    if process.returncode != 0 or not lines:
        sys.stderr.write(err.decode())
        raise SystemExit(f"the {workflow} run failed (exit {process.returncode})")
    figures = json.loads(lines[-1])
    calls = [c for c in list(state.call_log)[before:] if c.path.startswith(COURSES_PATH)]
    admitted = [c for c in calls if c.status != 429]
    return Measured(
        workflow=workflow,
        status=str(figures["status"]),
        reason=figures["reason"],
        counts=(int(figures["counts"][0]), int(figures["counts"][1]), int(figures["counts"][2])),
        wall=float(figures["wall"]),
        cpu=float(figures["cpu"]),
        setup_mb=float(figures["setup_mb"]),
        peak_mb=float(figures["peak_mb"]),
        retries=int(figures["retries"]),
        messages=[(float(at), str(text)) for at, text in figures["messages"]],
        outputs=[str(name) for name in figures["outputs"]],
        records=figures["records"],
        verdicts=figures["verdicts"],
        rollovers=figures["rollovers"],
        cache_calls=sum(1 for c in admitted if is_cache_page(c)),
        other_calls=sum(1 for c in admitted if not is_cache_page(c)),
        refused=len(calls) - len(admitted),
        span=(calls[-1].time - calls[0].time).total_seconds() if calls else 0.0,
        fake_cpu=fake_cpu,
    )


# ---- the parent: the serial model ----------------------------------------------------------------


@dataclass(frozen=True)
class Serial:
    """Upstream's one-call-at-a-time checks on a sample of each kind of candidate."""

    deletes: int
    delete_calls: int
    delete_predicted: int
    delete_wall: float
    rollovers: int
    rollover_calls: int
    rollover_predicted: int
    rollover_wall: float
    fake_cpu: float

    @property
    def per_delete_call(self) -> float:
        return self.delete_wall / self.delete_calls if self.delete_calls else 0.0

    @property
    def per_rollover_call(self) -> float:
        return self.rollover_wall / self.rollover_calls if self.rollover_calls else 0.0


T = TypeVar("T")


def spread(items: Sequence[T], count: int) -> list[T]:
    """``count`` items spread evenly over ``items``."""
    if count <= 0 or not items:
        return []
    step = len(items) / min(count, len(items))
    return [items[int(i * step)] for i in range(min(count, len(items)))]


def upstream_delete_calls(case: DeleteCase) -> int:
    return 2 if case.exists else 1


async def serial(
    url: str, state: FakeAlmaState, generated: Generated, sizes: Sizes, last_year: int
) -> Serial:
    """Upstream's checks, one call at a time (see the module text), on the fake at ``url``."""
    client = AlmaHttpClient(url, rate_per_second=RATE)
    catalog = HttpCourseCatalog(client, AB, Secret(KEY))
    fake_cpu = time.process_time()
    try:
        deletes = spread(generated.deletes, sizes.sample_deletes)
        before = len(state.call_log)
        started = time.perf_counter()
        for case in deletes:  # leganto_transform: code~ search, then the lists of an exact match
            found = await catalog.search(f"code~{case.code}", limit=10)
            if found.total_record_count > 0 and found.records[0].code == case.code:
                await catalog.get_full(found.records[0].course_id)
        delete_wall = time.perf_counter() - started
        delete_calls = sum(1 for c in list(state.call_log)[before:] if c.status != 429)

        rollovers = spread(generated.rollovers, sizes.sample_rollovers)
        before = len(state.call_log)
        started = time.perf_counter()
        for one in rollovers:  # leganto_rollover: last year's cache is never reached
            found = await catalog.search(f"section~{one.copy_sln} AND year~{last_year}", limit=10)
            if found.total_record_count == 0:
                found = await catalog.search(
                    f"searchable_ids~{one.copy_sln} AND year~{last_year}", limit=10
                )
            if found.total_record_count == 1:
                await catalog.get_full(found.records[0].course_id)
        rollover_wall = time.perf_counter() - started
        rollover_calls = sum(1 for c in list(state.call_log)[before:] if c.status != 429)
    finally:
        await client.aclose()
    return Serial(
        deletes=len(deletes),
        delete_calls=delete_calls,
        delete_predicted=sum(upstream_delete_calls(c) for c in deletes),
        delete_wall=delete_wall,
        rollovers=len(rollovers),
        rollover_calls=rollover_calls,
        rollover_predicted=sum(UPSTREAM_ROLLOVER_CALLS[r.kind] for r in rollovers),
        rollover_wall=rollover_wall,
        fake_cpu=time.process_time() - fake_cpu,
    )


# ---- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    """Upstream's calls for every candidate, and the model's time."""

    cache_calls: int
    delete_calls: int
    rollover_calls: int
    cache_seconds: float
    delete_seconds: float
    rollover_seconds: float
    bare_seconds: float

    @property
    def seconds(self) -> float:
        return self.cache_seconds + self.delete_seconds + self.rollover_seconds


def upstream(generated: Generated, model: Serial, latency: float) -> Upstream:
    pages = sum(-(-count // 100) for count in generated.alma_courses.values())
    deletes = sum(upstream_delete_calls(c) for c in generated.deletes)
    rollovers = sum(UPSTREAM_ROLLOVER_CALLS[r.kind] for r in generated.rollovers)
    cache = pages / (RATE / WINDOW) + latency
    return Upstream(
        cache_calls=pages,
        delete_calls=deletes,
        rollover_calls=rollovers,
        cache_seconds=cache,
        delete_seconds=deletes * model.per_delete_call,
        rollover_seconds=rollovers * model.per_rollover_call,
        bare_seconds=cache + (deletes + rollovers) * latency,
    )


def stamp(messages: Sequence[tuple[float, str]], start: str) -> float | None:
    return next((at for at, text in messages if text.startswith(start)), None)


def expected_records(generated: Generated) -> dict[str, dict[str, dict[str, int]]]:
    """What each run must record, by kind and outcome, as the generator made the data."""
    deletes = generated.deletes
    send = sum(1 for c in deletes if c.exists and not c.lists)
    skipped_lines = generated.requested_rows + generated.second_delete_rows
    lines = {"ok": generated.rows - skipped_lines, "skipped": skipped_lines}
    found = sum(1 for r in generated.rollovers if EXPECTED_ROLLOVER[r.kind] == "found")
    return {
        COURSE_LOADING: {
            "cem_line": lines,
            "course": {
                "ok": generated.ordinary + len(generated.rollovers) + send,
                "skipped": len(deletes) - send,
            },
        },
        COURSE_ROLLOVER_REPORT: {
            "cem_line": lines,
            "loader_job": {"ok": 1},
            "rollover": {"ok": found, "skipped": len(generated.rollovers) - found},
        },
    }


def without_zeros(table: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {k: {o: n for o, n in v.items() if n} for k, v in table.items()}


def report(
    generated: Generated,
    latency: float,
    runs: Sequence[Measured],
    model: Serial,
    upstream_model: Upstream,
) -> bool:
    loading, rollover = runs
    deletes, candidates = len(generated.deletes), len(generated.rollovers)
    print(f"{platform.python_implementation()} {platform.python_version()}, {sys.platform}")
    print(
        f"CEM file: {generated.rows:,} rows, {generated.courses:,} courses ({deletes:,} DELETE "
        f"candidates, {sum(c.exists for c in generated.deletes):,} of them in Alma, "
        f"{sum(c.lists for c in generated.deletes):,} with reading lists; {candidates:,} "
        f"rollover candidates: "
        + ", ".join(
            f"{kind} {sum(r.kind == kind for r in generated.rollovers)}"
            for kind, _ in ROLLOVER_KINDS
        )
        + f"; {generated.requested_rows} REQUESTED rows)"
    )
    years = ", ".join(f"{count:,} of {y}" for y, count in sorted(generated.alma_courses.items()))
    print(
        f"fake Alma: {sum(generated.alma_courses.values()):,} courses ({years}), "
        f"{generated.reading_lists:,} reading lists; {latency * 1000:.0f} ms per call, "
        f"threshold {RATE}/s; uvicorn on 127.0.0.1 in the bench's process"
    )
    ok = True
    for run in runs:
        print(f"-- {run.workflow} (child process, SQLite ledger on {SCRATCH or 'disk'})")
        reason = f" ({run.reason})" if run.reason else ""
        print(
            f"run {run.status}{reason}: ok {run.counts[0]:,}, skipped {run.counts[1]:,}, "
            f"failed {run.counts[2]:,}; by kind: "
            + "; ".join(
                f"{kind} " + ", ".join(f"{o} {n:,}" for o, n in sorted(outcomes.items()))
                for kind, outcomes in sorted(run.records.items())
            )
        )
        start = stamp(
            run.messages,
            "checking " if run.workflow == COURSE_LOADING else f"{candidates} courses name",
        )
        end = stamp(run.messages, "wrote ")
        phases = (
            f" (CEM read and recorded {start:.1f} s; Alma asked, the file written and "
            f"recorded {end - start:.1f} s; the rest {run.wall - end:.1f} s)"
            if start is not None and end is not None
            else ""
        )
        print(f"wall {run.wall:.1f} s{phases}; the run's own CPU {run.cpu:.1f} s")
        print(
            f"Alma calls {run.calls:,}: {run.cache_calls:,} cache pages (q=year~), "
            f"{run.other_calls:,} per candidate; 429s {run.refused}, client retries "
            f"{run.retries}"
        )
        print(
            f"rate {run.calls / run.wall:.2f} calls/s over the wall time = {run.fraction:.3f} of "
            f"{RATE}/s; {run.span_fraction:.3f} of {RATE}/s from its first call to its last "
            f"({run.span:.1f} s)"
        )
        share = run.fake_cpu / run.wall
        bound = share >= FAKE_BOUND
        print(
            f"the fake's own CPU {run.fake_cpu:.1f} s = {share:.0%} of the wall time, "
            f"{run.fake_cpu / max(1, run.calls) * 1000:.1f} ms per call"
            + (
                "  << the fake may be setting the pace, not the bridge"
                if bound
                else " (not the bottleneck)"
            )
        )
        print(
            f"peak RSS {run.peak_mb:.0f} MB (the child's VmHWM; {run.setup_mb:.0f} MB after "
            f"its set-up); outputs: {', '.join(run.outputs) or 'none'}"
        )
    per_delete = loading.other_calls / deletes
    per_delete_all = loading.calls / deletes
    per_rollover = rollover.other_calls / candidates
    per_rollover_all = rollover.calls / candidates
    print(
        f"calls per DELETE candidate once cached {per_delete:.3f} ({per_delete_all:.3f} with the "
        f"cache pages); per rollover candidate once cached {per_rollover:.3f} "
        f"({per_rollover_all:.3f} with the cache pages)"
    )
    total_wall = loading.wall + rollover.wall
    total_calls = loading.calls + rollover.calls
    print(
        f"both runs: wall {total_wall:.1f} s, {total_calls:,} calls = "
        f"{total_calls / total_wall / RATE:.3f} of {RATE}/s; peak RSS "
        f"{max(loading.peak_mb, rollover.peak_mb):.0f} MB"
    )
    print(
        f"serial model: {model.deletes} DELETE candidates, {model.delete_calls} calls (generator "
        f"says {model.delete_predicted}) in {model.delete_wall:.1f} s = "
        f"{model.per_delete_call:.4f} s per call; {model.rollovers} rollover candidates, "
        f"{model.rollover_calls} calls (generator says {model.rollover_predicted}) in "
        f"{model.rollover_wall:.1f} s = {model.per_rollover_call:.4f} s per call; the fake's "
        f"CPU {model.fake_cpu / max(1, model.delete_calls + model.rollover_calls) * 1000:.1f} ms "
        "per call"
    )
    ratio = upstream_model.seconds / total_wall
    bare = upstream_model.bare_seconds / total_wall
    print(
        f"upstream for every candidate: cache {upstream_model.cache_calls} pages at the "
        f"throttle's pace {upstream_model.cache_seconds:.1f} s + {upstream_model.delete_calls:,} "
        f"DELETE calls {upstream_model.delete_seconds:.0f} s + {upstream_model.rollover_calls:,} "
        f"rollover calls {upstream_model.rollover_seconds:.0f} s = "
        f"{upstream_model.seconds:.0f} s ({upstream_model.seconds / 60:.1f} min) = {ratio:.1f}x "
        f"both runs' wall time ({upstream_model.bare_seconds:.0f} s = {bare:.1f}x at the bare "
        f"{latency:g} s a call)"
    )

    hit = ratio >= TARGET_RATIO
    ok &= hit
    print(
        f"{'PASS' if hit else 'FAIL'}  speed-up {ratio:.1f}x the serial model (target >= "
        f"{TARGET_RATIO:g}x; {bare:.1f}x at the bare latency)"
    )
    hit = per_delete <= TARGET_DELETE_CALLS
    ok &= hit
    print(
        f"{'PASS' if hit else 'FAIL'}  {per_delete:.3f} calls per DELETE candidate once the "
        f"courses are cached (target <= {TARGET_DELETE_CALLS:g}; {per_delete_all:.3f} with the "
        f"{loading.cache_calls} cache pages)"
    )
    expected = expected_records(generated)
    wanted_verdicts = {
        "send": sum(1 for c in generated.deletes if c.exists and not c.lists),
        "has reading lists": sum(1 for c in generated.deletes if c.lists),
        "not in alma": sum(1 for c in generated.deletes if not c.exists),
    }
    wanted_rollovers = Counter(EXPECTED_ROLLOVER[r.kind] for r in generated.rollovers)
    checks = {
        "course-loading records": without_zeros(loading.records)
        == without_zeros(expected[COURSE_LOADING]),
        "rollover report records": without_zeros(rollover.records)
        == without_zeros(expected[COURSE_ROLLOVER_REPORT]),
        "DELETE verdicts": loading.verdicts == {k: v for k, v in wanted_verdicts.items() if v},
        "rollover verdicts": rollover.rollovers == dict(wanted_rollovers),
        "calls per candidate": loading.other_calls == sum(c.exists for c in generated.deletes)
        and rollover.other_calls
        == sum(1 for r in generated.rollovers if r.kind in ("section", "searchable", "no lists")),
        "serial sample's calls": model.delete_calls == model.delete_predicted
        and model.rollover_calls == model.rollover_predicted,
        "runs ok": loading.status == "ok" and rollover.status == "ok",
    }
    hit = all(checks.values())
    ok &= hit
    print(
        f"{'PASS' if hit else 'FAIL'}  runs ok, counts as generated: "
        + ", ".join(f"{name} {'yes' if good else 'NO'}" for name, good in checks.items())
    )
    if not hit:
        print(f"  expected records {expected}")
        print(f"  expected verdicts {wanted_verdicts}; rollovers {dict(wanted_rollovers)}")
        print(f"  found verdicts {loading.verdicts}; rollovers {rollover.rollovers}")
    return ok


async def bench(sizes: Sizes, latency: float) -> bool:
    today = date.today()
    state = FakeAlmaState(seed=SEED)
    state.add_institution(AB, api_keys=[KEY], per_second_threshold=RATE)
    with tempfile.TemporaryDirectory(prefix="course-loading-", dir=SCRATCH) as name:
        folder = Path(name)
        started = time.perf_counter()
        generated = generate(folder, sizes, state, today)
        print(f"CEM file and fake's courses made in {time.perf_counter() - started:.1f} s")
        await upgrade(ledger_url(folder))
        faults = FaultInjector(FaultConfig(latency=latency), seed=state.seed)
        app = create_fake_alma_app(state, faults)
        gc.collect()
        gc.freeze()  # the fake's state and the generated data out of the collector
        try:
            async with http_server(app) as url:
                config = write_config(folder, url)
                runs = [
                    await measure(workflow, state, config, folder, generated.cem)
                    for workflow in (COURSE_LOADING, COURSE_ROLLOVER_REPORT)
                ]
                model = await serial(url, state, generated, sizes, today.year - 1)
        finally:
            gc.unfreeze()
    return report(generated, latency, runs, model, upstream(generated, model, latency))


def main(argv: Sequence[str] | None = None) -> None:
    summary = __doc__.split("\n\n", 1)[0].replace("\n", " ") if __doc__ else None
    parser = argparse.ArgumentParser(description=summary)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run of under a minute: "
        + ", ".join(f"{k} {v:,}" for k, v in QUICK.__dict__.items()),
    )
    parser.add_argument("--rows", type=int, help=f"CEM rows (default {FULL.rows:,})")
    parser.add_argument("--deletes", type=int, help=f"DELETE candidates ({FULL.deletes:,})")
    parser.add_argument("--rollovers", type=int, help=f"rollover candidates ({FULL.rollovers:,})")
    parser.add_argument("--courses", type=int, help=f"Alma's courses ({FULL.courses:,})")
    parser.add_argument(
        "--sample-deletes",
        type=int,
        help=f"DELETE candidates of the serial model ({FULL.sample_deletes})",
    )
    parser.add_argument(
        "--sample-rollovers",
        type=int,
        help=f"rollover candidates of the serial model ({FULL.sample_rollovers})",
    )
    parser.add_argument("--latency", type=float, default=0.6, help="seconds per call (0.6)")
    parser.add_argument(CHILD_FLAG, nargs=4, metavar="ARG", help=argparse.SUPPRESS)
    given = parser.parse_args(argv)
    if given.child:
        workflow, config, folder, cem = given.child
        asyncio.run(child(workflow, Path(config), Path(folder), Path(cem)))
        return
    base = QUICK if given.quick else FULL
    sizes = Sizes(
        rows=given.rows or base.rows,
        deletes=given.deletes or base.deletes,
        rollovers=given.rollovers or base.rollovers,
        courses=given.courses or base.courses,
        sample_deletes=given.sample_deletes or base.sample_deletes,
        sample_rollovers=given.sample_rollovers or base.sample_rollovers,
    )
    ok = asyncio.run(bench(sizes, given.latency))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
