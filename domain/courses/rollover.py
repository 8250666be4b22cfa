"""The rollover report's rules (L8): which rows ask for a copy, which year's courses to search,
which course matches, and the ROLLOVER row made of it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date
from enum import Enum

from domain.courses.delete_guard import KnownCourse
from domain.courses.loader_row import LoaderRow, Operation
from domain.courses.transform import CourseRow


class CopyYear(Enum):
    """Where the copy course is looked for (L8): the this-year or last-year course cache, or a
    courses search for any other year; NONE when the CEM gives no year."""

    THIS_YEAR = "this year"
    LAST_YEAR = "last year"
    OTHER = "other"
    NONE = "none"


def copy_year(value: str, today: date) -> CopyYear:
    """Rule L8: COPY_COURSE_SEMESTER_YEAR read as a number against ``today``'s year and the one
    before (upstream compared the text to an int, so last year's cache was never used)."""
    if not value:
        return CopyYear.NONE
    if not (value.isascii() and value.isdigit()):
        return CopyYear.OTHER
    year = int(value)
    if year == today.year:
        return CopyYear.THIS_YEAR
    if year == today.year - 1:
        return CopyYear.LAST_YEAR
    return CopyYear.OTHER


def wants_rollover(row: CourseRow) -> bool:
    """Rule L8: the row names a copy course (COPY_COURSE_SLN neither empty nor 0)."""
    return row.copy_sln not in ("", "0")


def rollover_matches(sln: str, courses: Iterable[KnownCourse]) -> tuple[KnownCourse, ...]:
    """Rule L8: the courses having ``sln`` as their section or among their searchable ids, the
    ids compared without '-' as ASU's cache keeps them. The report needs exactly one."""
    wanted = sln.replace("-", "")
    return tuple(
        course
        for course in courses
        if course.section == wanted
        or wanted in (search_id.replace("-", "") for search_id in course.searchable_ids)
    )


def rollover_row(row: LoaderRow, match: KnownCourse, copy_sln: str) -> LoaderRow:
    """Rule L8: the loader row made a ROLLOVER from the matched course (old code) and the copy
    SLN (old section)."""
    return replace(
        row,
        operation=Operation.ROLLOVER,
        old_course_code=match.code,
        old_section_id=copy_sln,
    )
