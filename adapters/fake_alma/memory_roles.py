"""In-memory twins of the workflow ports (holdings, sets, courses, Analytics, jobs) over the
fake's state, without HTTP.

Each method does in-process what the fake's route for the same HTTP call does (the route modules
are the specification) and reads the answer with the HTTP adapter's own functions, so the same
views and typed errors come out; one contract suite per port (``tests/integration/alma_roles``)
holds each pair together. As `memory_gateway`: the state's Alma errors become the typed errors
the HTTP client would raise (`error_class_for`, then the adapter's own retyping), with the same
operation and subject; JSON crosses a ``json`` round trip; each call yields to the event loop
once. Not imitated: thresholds, injected faults and the call log (the fake's HTTP gateway).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar

from adapters.alma_http.analytics import READ_REPORT, analytics_error, read_report
from adapters.alma_http.courses import (
    GET_COURSE,
    SEARCH_COURSES,
    courses_error,
    courses_page,
    full_course,
    year_query,
)
from adapters.alma_http.holdings import (
    GET_HOLDING_RECORD,
    LIST_HOLDINGS,
    holding_record_of,
    holding_summaries,
    holdings_error,
)
from adapters.alma_http.jobs import (
    GET_JOB_INSTANCE,
    LIST_JOB_INSTANCES,
    MAX_INSTANCES,
    RUN_JOB,
    instance_ref_of,
    job_instance_of,
    jobs_error,
    newest_first,
    run_parameters,
)
from adapters.alma_http.requests_kit import Params, check_limit, each_record, embedded_xml, listed
from adapters.alma_http.sets import LIST_SET_MEMBERS, members_page, sets_error
from adapters.fake_alma import errors, routes_analytics, routes_jobs, routes_sets, views
from adapters.fake_alma.errors import TrackingIds
from adapters.fake_alma.memory_gateway import typed_error
from adapters.fake_alma.state import FakeAlmaState
from application.ports.alma.analytics import (
    DEFAULT_ANALYTICS_PAGE,
    MAX_ANALYTICS_PAGE,
    MIN_ANALYTICS_PAGE,
)
from application.ports.alma.courses import MAX_COURSE_PAGE, CourseSummary, CourseWithReadingLists
from application.ports.alma.holdings import HoldingRecord, HoldingSummary
from application.ports.alma.jobs import JobInstance, JobInstanceRef
from application.ports.alma.sets import MAX_SET_PAGE, SetMember
from application.shared.alma import (
    AlmaError,
    AlmaFailure,
    Page,
    UnknownInstitution,
)

T = TypeVar("T")
DEFAULT_GATEWAY_URL = "http://fake-alma"
"""Where ``link`` values point: the fake app's URL in the contract suites, so links match."""
API_ROOT = "/almaws/v1"
Retype = Callable[[AlmaError], AlmaError]


def _wire(value: Any) -> Any:
    """``value`` as the other side of an HTTP call would see it: a fresh JSON copy."""
    return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))


def _check_offset(offset: int) -> None:
    # The fake's ``paging`` refuses a negative offset with Alma's invalid-parameter error.
    if offset < 0:
        raise errors.invalid_parameter("offset", str(offset))


class _Twin:
    """One institution of a `FakeAlmaState`, reached by direct calls on the state."""

    def __init__(
        self, state: FakeAlmaState, institution: str, *, gateway_url: str = DEFAULT_GATEWAY_URL
    ) -> None:
        wanted = institution.casefold()
        code = next((c for c in state.institutions if c.casefold() == wanted), None)
        if code is None:
            raise UnknownInstitution(institution)
        self.institution = institution
        self._state = state
        self._code = code
        self._base = gateway_url.rstrip("/") + API_ROOT
        self._tracking = TrackingIds(state.seed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.institution!r})"

    async def _run(
        self,
        operation: str,
        work: Callable[[], T],
        retype: Retype,
        subject: Mapping[str, str] | None = None,
    ) -> T:
        """One logical Alma call on the state, its errors typed as the HTTP adapter's are."""
        await asyncio.sleep(0)  # a point where other tasks run, as during a real call's I/O
        try:
            return work()
        except errors.AlmaError as exc:
            typed = self._typed(exc, operation, subject or {})
            raise (retype(typed) if isinstance(typed, AlmaError) else typed) from None

    def _typed(
        self, error: errors.AlmaError, operation: str, subject: Mapping[str, str]
    ) -> AlmaFailure:
        tracking_id = self._tracking.next(self._state.clock.now())
        return typed_error(error, self.institution, operation, subject, tracking_id)


class MemoryHoldingsReader(_Twin):
    """`HoldingsReader` over the fake's state (as ``routes_bibs``)."""

    async def holdings_of(self, mms_id: str) -> list[HoldingSummary]:
        def work() -> Any:
            bib = self._state.bib(self._code, mms_id)
            holdings = self._state.holdings_of(self._code, mms_id)
            inst = self._state.institution(self._code)
            return _wire(views.holdings_list_json(inst, bib, holdings, self._base))

        data = await self._run(LIST_HOLDINGS, work, holdings_error, {"mms_id": mms_id})
        return holding_summaries(data)

    async def holding_record(self, mms_id: str, holding_id: str) -> HoldingRecord:
        def work() -> Any:
            holding = self._state.holding(self._code, mms_id, holding_id)
            body = views.holding_json(holding)
            if self._state.holding_record_withheld(self._code, holding.holding_id):
                del body["anies"]
            return _wire(body)

        subject = {"mms_id": mms_id, "holding_id": holding_id}
        data = await self._run(GET_HOLDING_RECORD, work, holdings_error, subject)
        document = embedded_xml(data)
        return holding_record_of(document, mms_id, holding_id, institution=self.institution)


class MemorySetMembers(_Twin):
    """`SetMembers` over the fake's state (as ``routes_sets``)."""

    async def members(
        self, set_id: str, *, limit: int = MAX_SET_PAGE, offset: int = 0
    ) -> Page[SetMember]:
        check_limit(limit, 0, MAX_SET_PAGE)

        def work() -> Any:
            _check_offset(offset)
            found = self._state.set_of(self._code, set_id)
            return _wire(routes_sets.members_json(found, limit, offset, self._base))

        data = await self._run(LIST_SET_MEMBERS, work, sets_error, {"set_id": set_id})
        return members_page(data, offset)

    async def all_members(self, set_id: str) -> AsyncIterator[SetMember]:
        async for member in each_record(
            lambda offset: self.members(set_id, limit=MAX_SET_PAGE, offset=offset)
        ):
            yield member


class MemoryCourseCatalog(_Twin):
    """`CourseCatalog` over the fake's state (as ``routes_courses``)."""

    async def search(
        self, q: str | None = None, *, limit: int = MAX_COURSE_PAGE, offset: int = 0
    ) -> Page[CourseSummary]:
        check_limit(limit, 0, MAX_COURSE_PAGE)

        def work() -> Any:
            _check_offset(offset)
            found = self._state.search_courses(self._code, q or None)
            rendered = [views.course_json(c, self._base) for c in found]
            return _wire(views.listing("course", rendered[offset : offset + limit], len(found)))

        data = await self._run(SEARCH_COURSES, work, courses_error)
        return courses_page(data, offset)

    async def get_full(self, course_id: str) -> CourseWithReadingLists:
        def work() -> Any:
            course = self._state.course(self._code, course_id)
            lists = self._state.reading_lists_of(self._code, course.course_id)
            return _wire(views.course_json(course, self._base, reading_lists=lists))

        data = await self._run(GET_COURSE, work, courses_error, {"course": course_id})
        return full_course(data, course_id, institution=self.institution)

    async def courses_by_year(self, year: int | str) -> AsyncIterator[CourseSummary]:
        query = year_query(year)
        wanted = query.partition("~")[2]
        async for course in each_record(
            lambda offset: self.search(query, limit=MAX_COURSE_PAGE, offset=offset)
        ):
            if course.year == wanted:
                yield course


class MemoryAnalyticsReports(_Twin):
    """`AnalyticsReports` over the fake's state (as ``routes_analytics``, JSON form)."""

    def __init__(
        self,
        state: FakeAlmaState,
        institution: str,
        *,
        gateway_url: str = DEFAULT_GATEWAY_URL,
        max_polls: int = 20,
        poll_interval: float = 0.0,
    ) -> None:
        super().__init__(state, institution, gateway_url=gateway_url)
        self._max_polls = max_polls
        self._poll_interval = poll_interval

    async def report_rows(
        self, path: str, *, limit: int = DEFAULT_ANALYTICS_PAGE, filter: str | None = None
    ) -> AsyncIterator[dict[str, str]]:
        check_limit(limit, MIN_ANALYTICS_PAGE, MAX_ANALYTICS_PAGE)

        async def fetch(params: Params) -> str | None:
            def work() -> Any:
                page = self._state.analytics_page(
                    self._code,
                    path=_param(params, "path"),
                    token=_param(params, "token"),
                    limit=routes_analytics.page_limit(_param(params, "limit")),
                    col_names=params.get("col_names") is not False,
                )
                return _wire(routes_analytics.report_json(page))

            data = await self._run(READ_REPORT, work, analytics_error, {"path": path})
            return embedded_xml(data)

        async for row in read_report(
            fetch,
            institution=self.institution,
            path=path,
            limit=limit,
            filter=filter,
            max_polls=self._max_polls,
            poll_interval=self._poll_interval,
        ):
            yield row


def _param(params: Params, name: str) -> str | None:
    value = params.get(name)
    return None if value is None else str(value)


class MemoryJobInstances(_Twin):
    """`JobInstances` over the fake's state (as ``routes_jobs``)."""

    async def instance(self, job_id: str, instance_id: str) -> JobInstance:
        def work() -> Any:
            instance = self._state.read_job_instance(self._code, job_id, instance_id)
            job = self._state.job(self._code, job_id)
            return _wire(routes_jobs.instance_json(job, instance, self._base))

        subject = {"job_id": job_id, "instance_id": instance_id}
        data = await self._run(GET_JOB_INSTANCE, work, jobs_error, subject)
        return job_instance_of(data, job_id)

    async def latest_instances(self, job_id: str, limit: int = 10) -> list[JobInstance]:
        check_limit(limit, 1, MAX_INSTANCES)

        def work() -> Any:
            job = self._state.job(self._code, job_id)
            page, total = self._state.read_job_instances(
                self._code, job.job_id, limit=limit, offset=0
            )
            return _wire(routes_jobs.instances_json(job, page, total, self._base))

        data = await self._run(LIST_JOB_INSTANCES, work, jobs_error, {"job_id": job_id})
        found = [job_instance_of(i, job_id) for i in listed(data, "job_instance")]
        return newest_first(found)[:limit]

    async def run(self, job_id: str, parameters: Mapping[str, str]) -> JobInstanceRef:
        # The body the HTTP adapter sends, read back as the route reads it.
        sent = _wire(run_parameters(parameters))["parameter"]
        received = {str(p["name"]["value"]): str(p["value"] or "") for p in sent}

        def work() -> Any:
            job = self._state.job(self._code, job_id)
            instance = self._state.run_job(self._code, job.job_id, received)
            return _wire(routes_jobs.run_json(job, instance, self._base))

        data = await self._run(RUN_JOB, work, jobs_error, {"job_id": job_id})
        return instance_ref_of(data, job_id, institution=self.institution)
