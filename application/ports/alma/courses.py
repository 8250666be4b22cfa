"""Courses and their reading lists: what course loading asks of Alma (rules L5 and L8).

L5 sends a DELETE only for a course that exists with exactly that code and section and has no
reading list; L8 looks for the one course of a year whose section or searchable ids hold a
copy-course SLN, and that has reading lists. Calls go through the institution's shared client,
throttle and retries (rule B4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from application.shared.alma import NotFound, Page

MAX_COURSE_PAGE = 100
"""Alma's largest page of courses."""


@dataclass(frozen=True)
class CourseSummary:
    """A course as ``GET /courses`` lists it (``ref:tulibraries-alma_rb__courses.json``).

    Alma's empty strings become None; ``terms`` are the term codes (``AUTUMN``…), in Alma's order.
    """

    course_id: str
    code: str
    name: str | None = None
    section: str | None = None
    year: str | None = None
    terms: tuple[str, ...] = ()
    searchable_ids: tuple[str, ...] = ()
    status: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    academic_department: str | None = None
    processing_department: str | None = None


@dataclass(frozen=True)
class ReadingList:
    """A reading list of a course (``reading_lists.reading_list[]`` of ``view=full``)."""

    id: str
    code: str | None = None
    name: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class CourseWithReadingLists:
    """A course with its reading lists (``GET /courses/{id}?view=full``)."""

    course: CourseSummary
    reading_lists: tuple[ReadingList, ...] = ()

    @property
    def has_reading_lists(self) -> bool:
        """Whether any reading list hangs on the course (L5 keeps such a course; L8 wants one)."""
        return bool(self.reading_lists)


class CourseNotFound(NotFound):
    """Alma has no course with that id (the fake's 401006; the real code is unverified)."""


class CourseCatalog(Protocol):
    """Searches one institution's courses (rules L5, L8, B4)."""

    institution: str

    async def search(
        self, q: str | None = None, *, limit: int = MAX_COURSE_PAGE, offset: int = 0
    ) -> Page[CourseSummary]:
        """One page of ``GET /courses?q=`` (``code~HIST101 AND section~01``: Alma's ``~`` is
        a partial match, so callers compare exact values themselves, rule L5)."""
        ...

    async def get_full(self, course_id: str) -> CourseWithReadingLists:
        """The course with its reading lists; `CourseNotFound` for an unknown id."""
        ...

    def courses_by_year(self, year: int | str) -> AsyncIterator[CourseSummary]:
        """Every course of that year (``q=year~YYYY``, all pages), keeping only those whose
        year is exactly ``year`` since Alma's ``~`` also matches a longer value (rule L8)."""
        ...
