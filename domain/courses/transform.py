"""One CEM row to one course row (rule L3): status, section, dates, departments and term."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from domain.courses.cem import CemRow
from domain.courses.departments import processing_department
from domain.courses.loader_row import Operation
from domain.courses.terms import alma_term
from domain.shared.course_tables import CourseTables


class MergeOn(Enum):
    """What makes two CEM rows one course (L4): Alma's key, or ASU's code alone."""

    CODE_AND_SECTION = "code+section"
    CODE = "code"


@dataclass(frozen=True)
class CourseRow:
    """One CEM row as the loader sees it, before merging (L3).

    ``notes`` holds the fallback sentences of the department and term tables, for the caller to
    record against ``line``.
    """

    line: int
    code: str
    section: str  # SLN without '-'
    title: str
    academic_department: str  # the college code
    processing_department: str
    term: str  # Alma term code
    start_date: str  # in the profile's format, "" when the CEM had none
    end_date: str
    year: str
    searchable_id: str  # COURSE_ID, "-" when empty (as ASU)
    instructor: str  # ASURITEID, may be empty
    operation: Operation  # CREATE_OR_UPDATE or DELETE
    copy_sln: str  # COPY_COURSE_SLN without '-', "" when empty or "0"
    copy_year: str  # COPY_COURSE_SEMESTER_YEAR as given
    notes: tuple[str, ...] = ()


class RowVerdict(Enum):
    """Why a CEM row gives no course row: skipped by rule, or failed on its data (L3)."""

    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class RowRejected:
    """A CEM row left out, with the one sentence recorded; ``key`` is ``course_key`` when code
    and section are known, else ``line N``."""

    line: int
    key: str
    verdict: RowVerdict
    reason: str


_DELETING_STATUSES = frozenset({"DENIED", "SUSPENDED"})


def course_key(code: str, section: str) -> str:
    """The key a course is recorded under in a run: Alma's code + section (L4)."""
    return f"{code} {section}"


def transform_row(row: CemRow, tables: CourseTables, date_format: str) -> CourseRow | RowRejected:
    """Rule L3: REQUESTED is skipped, DENIED and SUSPENDED delete, anything else creates or
    updates. A row without course code, SLN or TERM, or with an unreadable date, fails."""
    section = row.sln.replace("-", "")
    key = (
        course_key(row.course_code, section) if row.course_code and section else f"line {row.line}"
    )

    def rejected(verdict: RowVerdict, reason: str) -> RowRejected:
        return RowRejected(row.line, key, verdict, f"line {row.line}: {reason}")

    if row.status == "REQUESTED":
        return rejected(RowVerdict.SKIPPED, "COURSE_STATUS is REQUESTED, not yet a course")
    if not row.course_code:
        return rejected(RowVerdict.FAILED, "MYASU_COURSE_IDSTRING is empty")
    if not section:
        return rejected(RowVerdict.FAILED, f"SLN is empty for {row.course_code}")
    if not row.term:
        # Upstream skips it with an error log; an operator must see it, so it fails.
        return rejected(RowVerdict.FAILED, f"TERM is empty for {key}")
    dates: list[str] = []
    for column, value in (("START_SYNC_DATE", row.start), ("END_SYNC_DATE", row.end)):
        formatted = _formatted_date(value, date_format)
        if formatted is None:
            return rejected(RowVerdict.FAILED, f"{column} {value!r} of {key} is not a date")
        dates.append(formatted)
    department = processing_department(
        row.campus, row.college, row.course_id, row.course_code, tables
    )
    term = alma_term(row.course_code, row.term, tables)
    copy_sln = row.copy_sln.replace("-", "")
    return CourseRow(
        line=row.line,
        code=row.course_code,
        section=section,
        title=row.title,
        academic_department=row.college,
        processing_department=department.name,
        term=term.code,
        start_date=dates[0],
        end_date=dates[1],
        year=row.year,
        searchable_id=row.course_id or "-",
        instructor=row.instructor,
        operation=(
            Operation.DELETE if row.status in _DELETING_STATUSES else Operation.CREATE_OR_UPDATE
        ),
        # Upstream's "copy_course_sln != 0": the CEM writes 0 for "no copy course".
        copy_sln="" if copy_sln == "0" else copy_sln,
        copy_year=row.copy_year,
        notes=tuple(note for note in (department.fallback, term.fallback) if note),
    )


def _formatted_date(value: str, date_format: str) -> str | None:
    """``2018-08-13 00:00:00.000000000`` or ``2018-08-13`` in the profile's format; "" for no
    date, None for one that cannot be read."""
    if not value:
        return ""
    try:
        return date.fromisoformat(value[:10]).strftime(date_format)
    except ValueError:
        return None
