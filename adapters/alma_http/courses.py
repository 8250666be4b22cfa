"""`CourseCatalog` over Alma's REST API: search, one course with its reading lists, a year's
courses (rules L5, L8, B4)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any

from adapters.alma_http.requests_kit import (
    AlmaCaller,
    check_limit,
    code,
    each_record,
    error_with,
    listed,
    plain,
    retyped,
    text,
    total_count,
)
from application.ports.alma.courses import (
    MAX_COURSE_PAGE,
    CourseNotFound,
    CourseSummary,
    CourseWithReadingLists,
    ReadingList,
)
from application.shared.alma import AlmaError, Page

SEARCH_COURSES = "search courses"
GET_COURSE = "get course with reading lists"
_COURSE_NOT_FOUND = frozenset({"401006"})  # the fake's code (unverified against Alma)


def _date(value: Any) -> date | None:
    # Alma writes dates as "2020-08-31Z"; anything else is no date rather than an error.
    raw = text(value)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def _texts(values: Any) -> tuple[str, ...]:
    if isinstance(values, (str, dict)):
        values = [values]
    if not isinstance(values, list):
        return ()
    found = (code(v) for v in values)
    return tuple(v for v in found if v is not None)


def course_summary(data: Mapping[str, Any]) -> CourseSummary | None:
    """A course of ``ref:tulibraries-alma_rb__courses.json`` (plus ``searchable_id[]`` and
    ``term[]`` of newer tenants); None without an id."""
    course_id = text(data.get("id"))
    if course_id is None:
        return None
    return CourseSummary(
        course_id=course_id,
        code=text(data.get("code")) or "",
        name=text(data.get("name")),
        section=text(data.get("section")),
        year=text(data.get("year")),
        terms=_texts(data.get("term")),
        searchable_ids=_texts(data.get("searchable_id")),
        status=code(data.get("status")),
        start_date=_date(data.get("start_date")),
        end_date=_date(data.get("end_date")),
        academic_department=code(data.get("academic_department")),
        processing_department=code(data.get("processing_department")),
    )


def courses_page(data: Mapping[str, Any], offset: int) -> Page[CourseSummary]:
    """A page of ``GET /courses``."""
    found = [course_summary(c) for c in listed(data, "course")]
    courses = [c for c in found if c is not None]
    return Page(courses, total_record_count=total_count(data, len(courses)), offset=offset)


def reading_lists_of(data: Mapping[str, Any]) -> tuple[ReadingList, ...]:
    """``reading_lists.reading_list[]`` of a ``view=full`` course (absent or empty: none)."""
    holder = data.get("reading_lists")
    if not isinstance(holder, Mapping):
        return ()
    found = []
    for entry in listed(holder, "reading_list"):
        list_id = text(entry.get("id"))
        if list_id is not None:
            found.append(
                ReadingList(
                    list_id,
                    text(entry.get("code")),
                    text(entry.get("name")),
                    code(entry.get("status")),
                )
            )
    return tuple(found)


def full_course(
    data: Mapping[str, Any], course_id: str, *, institution: str
) -> CourseWithReadingLists:
    """A ``view=full`` answer as the port's view."""
    course = course_summary(data)
    if course is None:
        raise error_with(institution, GET_COURSE, "Alma's course has no id", {"course": course_id})
    return CourseWithReadingLists(course, reading_lists_of(data))


def year_query(year: int | str) -> str:
    """``year~YYYY``; a year that is not four digits is refused before any call."""
    wanted = str(year).strip()
    if not (len(wanted) == 4 and wanted.isdigit()):
        raise ValueError(f"a course year is four digits, got {year!r}")
    return f"year~{wanted}"


def courses_error(error: AlmaError) -> AlmaError:
    """`CourseNotFound` for an unknown course; any other failure unchanged."""
    if plain(error) and error.error_code in _COURSE_NOT_FOUND:
        return retyped(error, CourseNotFound)
    return error


class HttpCourseCatalog(AlmaCaller):
    """One institution's courses through the process-wide `AlmaHttpClient` (L5, L8, B4)."""

    async def search(
        self, q: str | None = None, *, limit: int = MAX_COURSE_PAGE, offset: int = 0
    ) -> Page[CourseSummary]:
        check_limit(limit, 0, MAX_COURSE_PAGE)
        params: dict[str, str | int | bool] = {"limit": limit, "offset": offset}
        if q:
            params["q"] = q
        try:
            data = await self.get_json("courses", operation=SEARCH_COURSES, params=params)
        except AlmaError as exc:
            raise courses_error(exc) from None
        return courses_page(data, offset)

    async def get_full(self, course_id: str) -> CourseWithReadingLists:
        try:
            data = await self.get_json(
                "courses",
                course_id,
                operation=GET_COURSE,
                params={"view": "full"},
                subject={"course": course_id},
            )
        except AlmaError as exc:
            raise courses_error(exc) from None
        return full_course(data, course_id, institution=self.institution)

    async def courses_by_year(self, year: int | str) -> AsyncIterator[CourseSummary]:
        query = year_query(year)
        wanted = query.partition("~")[2]
        async for course in each_record(
            lambda offset: self.search(query, limit=MAX_COURSE_PAGE, offset=offset)
        ):
            if course.year == wanted:
                yield course
