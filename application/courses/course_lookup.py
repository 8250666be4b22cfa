"""Alma's courses as course loading asks about them (rules L5, L8, B4), with the fewest calls.

The courses of this year and last year are read once, page by page, several pages at a time
(the institution's throttle in the client keeps the pace): ASU's own cache, kept for the run
only. After that a DELETE candidate of those years costs one call (its reading lists), a course
of another year two (a ``code~ AND section~`` search, then its lists). A rollover candidate of
another year is searched by section, then by searchable id (L8).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable

from application.ports.alma.courses import MAX_COURSE_PAGE, CourseCatalog, CourseSummary
from domain.courses.delete_guard import KnownCourse, exact_course
from domain.courses.rollover import rollover_matches

__all__ = ["CourseLookup", "known_course"]


def known_course(course: CourseSummary) -> KnownCourse:
    """The domain's view of a listed course; searchable ids without their ``-`` (as ASU's
    cache kept them, L8)."""
    return KnownCourse(
        course_id=course.course_id,
        code=course.code,
        section=course.section or "",
        year=course.year or "",
        searchable_ids=tuple(s.replace("-", "") for s in course.searchable_ids),
    )


class CourseLookup:
    """One run's questions to Alma about courses; counts its calls for the benchmark."""

    def __init__(self, catalog: CourseCatalog, *, concurrency: int = 8) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be 1 or more, got {concurrency}")
        self._catalog = catalog
        self._concurrency = concurrency
        self._years: dict[str, asyncio.Task[list[KnownCourse]]] = {}
        self._by_key: dict[str, dict[tuple[str, str], list[KnownCourse]]] = {}
        self._by_sln: dict[str, dict[str, list[KnownCourse]]] = {}
        self.calls = 0

    async def cache_years(self, years: Iterable[int]) -> int:
        """Read every course of these years (once per run); returns how many were read."""
        found = await asyncio.gather(*(self._year(str(year)) for year in years))
        return sum(len(courses) for courses in found)

    def cached(self, year: str) -> bool:
        """Whether the courses of ``year`` are read (a lookup then needs no search)."""
        return year in self._by_key

    async def exact(self, code: str, section: str, year: str) -> KnownCourse | None:
        """The course with exactly this code and section (L5): from the cache when its year is
        read, else by one search (Alma's ``~`` is partial, so the answer is filtered)."""
        if self.cached(year):
            return exact_course(code, section, self._by_key[year].get((code, section), ()))
        q = f"code~{code} AND section~{section}"
        return exact_course(code, section, await self._search_all(q))

    async def has_reading_lists(self, course: KnownCourse) -> bool:
        """Whether any reading list hangs on the course (one call, L5 and L8)."""
        self.calls += 1
        return (await self._catalog.get_full(course.course_id)).has_reading_lists

    async def rollover_candidates(self, sln: str, year: str) -> tuple[KnownCourse, ...]:
        """The courses of ``year`` whose section or searchable ids hold ``sln`` (L8): from the
        cache, or two searches (by section, by searchable id) for another year."""
        if self.cached(year):
            return tuple(self._by_sln[year].get(sln, ()))
        # Both searches, always: "exactly one course" counts a course that holds the SLN as a
        # searchable id beside one whose section it is (upstream stopped at the first search).
        found: dict[str, KnownCourse] = {}
        for field in ("section", "searchable_ids"):
            for course in await self._search_all(f"{field}~{sln} AND year~{year}"):
                if course.year == year:
                    found.setdefault(course.course_id, course)
        return rollover_matches(sln, found.values())

    async def _year(self, year: str) -> list[KnownCourse]:
        task = self._years.get(year)
        if task is None:
            task = asyncio.ensure_future(self._read_year(year))
            self._years[year] = task
        return await task

    async def _read_year(self, year: str) -> list[KnownCourse]:
        courses = [c for c in await self._search_all(f"year~{year}") if c.year == year]
        by_key: dict[tuple[str, str], list[KnownCourse]] = defaultdict(list)
        by_sln: dict[str, list[KnownCourse]] = defaultdict(list)
        for course in courses:
            by_key[(course.code, course.section)].append(course)
            for sln in dict.fromkeys((course.section, *course.searchable_ids)):
                if sln:
                    by_sln[sln].append(course)
        self._by_key[year], self._by_sln[year] = dict(by_key), dict(by_sln)
        return courses

    async def _search_all(self, q: str) -> list[KnownCourse]:
        """Every page of a search: the first says how many there are, the rest are read
        ``concurrency`` at a time, in offset order."""
        self.calls += 1
        first = await self._catalog.search(q, limit=MAX_COURSE_PAGE, offset=0)
        found = [known_course(c) for c in first.records]
        offsets = range(MAX_COURSE_PAGE, first.total_record_count, MAX_COURSE_PAGE)
        gate = asyncio.Semaphore(self._concurrency)

        async def page(offset: int) -> list[KnownCourse]:
            async with gate:
                self.calls += 1
                listed = await self._catalog.search(q, limit=MAX_COURSE_PAGE, offset=offset)
                return [known_course(c) for c in listed.records]

        for courses in await asyncio.gather(*(page(o) for o in offsets)):
            found.extend(courses)
        return found
