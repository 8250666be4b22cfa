"""`AnalyticsReports` over Alma's REST API: ``GET /analytics/reports`` page by page (rules O5, B4).

The pages' XML (``ref:scriptotek-php-alma-client__analytics_response*.xml``) is read by local
names, so a ``<rowset>`` with or without ``urn:schemas-microsoft-com:xml-analysis:rowset`` reads
the same (O5), and so does a ``<QueryResult>`` alone (JSON's ``anies``) or inside ``<report>``
(XML). `read_report` is the paging loop, shared with the in-memory twin; it only needs a way to
fetch one page's XML.
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.requests_kit import (
    AlmaCaller,
    Params,
    check_limit,
    error_with,
    local_name,
    parse_xml,
    retyped,
)
from application.ports.alma.analytics import (
    DEFAULT_ANALYTICS_PAGE,
    MAX_ANALYTICS_PAGE,
    MIN_ANALYTICS_PAGE,
    AnalyticsStillLoading,
    ReportNotFound,
)
from application.shared.alma import AlmaError, QuotaExhausted, RateLimited
from application.shared.connections import Secret

READ_REPORT = "read analytics report"
MAX_POLLS = 20
POLL_INTERVAL_SECONDS = 3.0
"""How long Alma may stay on "still loading" by default: 20 polls 3 s apart, about a minute."""
_PATH_NOT_FOUND = "Path not found"  # ref:scriptotek-php-alma-client__report_not_found_response
_CONSTANT_FORMULAS = frozenset({"s_0", "saw_0"})

Fetch = Callable[[Params], Awaitable[str | None]]
"""Fetches one page: the query parameters in, the page's XML out (None: the answer had none)."""
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Column:
    """A column of the schema: ``ColumnN``, its heading and display formula when given."""

    name: str
    heading: str | None
    formula: str | None


@dataclass(frozen=True)
class ResultPage:
    """One page as Alma sent it: cells keyed by ``ColumnN``, empty ones as ``""``."""

    finished: bool
    token: str | None
    columns: tuple[Column, ...] | None
    rows: tuple[dict[str, str], ...]


def parse_page(document: str) -> ResultPage:
    """Read one page's XML: ``IsFinished``, ``ResumptionToken``, the schema, the rows."""
    root = parse_xml(document)
    result = root if local_name(root.tag) == "QueryResult" else _first(root, "QueryResult")
    if result is None:
        raise ValueError("no <QueryResult> in the answer")
    finished_text = _child_text(result, "IsFinished")
    if finished_text is None:
        raise ValueError("no <IsFinished> in the answer")
    token = _child_text(result, "ResumptionToken") or None
    rowset = _first(result, "rowset")
    columns: tuple[Column, ...] | None = None
    rows: list[dict[str, str]] = []
    if rowset is not None:
        elements = [e for e in rowset.iter() if local_name(e.tag) == "element"]
        if elements:
            columns = tuple(_column(e) for e in elements if e.get("name"))
        for row in rowset:
            if local_name(row.tag) == "Row":
                rows.append({local_name(cell.tag): (cell.text or "") for cell in row})
    return ResultPage(finished_text.strip().lower() == "true", token, columns, tuple(rows))


def _first(root: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in root.iter() if local_name(e.tag) == name), None)


def _child_text(parent: ET.Element, name: str) -> str | None:
    child = next((c for c in parent if local_name(c.tag) == name), None)
    return None if child is None else (child.text or "").strip()


def _column(element: ET.Element) -> Column:
    attributes = {local_name(k): v for k, v in element.attrib.items()}
    return Column(
        attributes["name"], attributes.get("columnHeading"), attributes.get("displayFormula")
    )


def row_keys(columns: tuple[Column, ...] | None) -> list[tuple[str, str]]:
    """``(ColumnN, key)`` of every column a row carries: keyed by heading, by name without one;
    a heading met again becomes ``heading (ColumnN)``; Alma's constant ``Column0`` (heading
    ``0`` or formula ``s_0``) is left out."""
    keys: list[tuple[str, str]] = []
    seen: set[str] = set()
    for column in columns or ():
        constant = column.heading == "0" or (
            column.heading is None and column.formula in _CONSTANT_FORMULAS
        )
        if column.name == "Column0" and constant:
            continue
        key = column.heading if column.heading else column.name
        if key in seen:
            key = f"{key} ({column.name})"
        seen.add(key)
        keys.append((column.name, key))
    return keys


def keyed(row: Mapping[str, str], keys: list[tuple[str, str]]) -> dict[str, str]:
    """A row by the schema's keys, ``""`` for a cell Alma left out. Without any schema (never
    seen in Alma's answers) the cells keep their ``ColumnN`` names."""
    if not keys:
        return {name: value for name, value in row.items() if name != "Column0"}
    return {key: row.get(name, "") for name, key in keys}


def analytics_error(error: AlmaError) -> AlmaError:
    """`ReportNotFound` for Alma's "Path not found (…)", whatever the HTTP status it came with
    (the sample does not show it; a 5xx would reach here as `AlmaUnavailable` after retries)."""
    if isinstance(error, (RateLimited, QuotaExhausted)):
        return error
    if _PATH_NOT_FOUND.casefold() in (error.error_message or "").casefold():
        return retyped(error, ReportNotFound)
    return error


async def read_report(
    fetch: Fetch,
    *,
    institution: str,
    path: str,
    limit: int,
    filter: str | None,
    max_polls: int = MAX_POLLS,
    poll_interval: float = POLL_INTERVAL_SECONDS,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[dict[str, str]]:
    """Every row of a report (the port's `report_rows`), page after page.

    The first call sends ``path`` (and ``filter``), later ones the first page's token until a
    page says ``IsFinished`` true. A page that is neither finished nor holds rows is Alma still
    loading: asked again (with the token once there is one, else with the path again) after
    ``poll_interval`` seconds, at most ``max_polls`` times in a row, then
    `AnalyticsStillLoading`. Headings come from the first schema seen.
    """
    subject = {"path": path}
    first: dict[str, str | int | bool] = {"path": path, "limit": limit, "col_names": True}
    if filter:
        first["filter"] = filter
    token: str | None = None
    keys: list[tuple[str, str]] | None = None
    polls = 0
    while True:
        params: Params = {"token": token, "limit": limit} if token else first
        document = await fetch(params)
        try:
            page = parse_page(document or "")
        except (ET.ParseError, ValueError) as exc:
            raise error_with(
                institution, READ_REPORT, f"Alma's report page is unreadable ({exc})", subject
            ) from None
        token = token or page.token
        if keys is None and page.columns is not None:
            keys = row_keys(page.columns)
        for row in page.rows:
            yield keyed(row, keys or [])
        if page.finished:
            return
        if page.rows:
            polls = 0
            if token is None:
                # Asking with the path again would start the report over: rows twice.
                raise error_with(
                    institution, READ_REPORT, "unfinished page without a ResumptionToken", subject
                )
            continue
        polls += 1
        if polls > max_polls:
            raise AnalyticsStillLoading(
                institution,
                READ_REPORT,
                error_message=f"Alma still loading the report after {max_polls} polls",
                subject=subject,
            )
        await sleep(poll_interval)


class HttpAnalyticsReports(AlmaCaller):
    """One institution's Analytics reports through the process-wide `AlmaHttpClient` (O5, B4).

    ``max_polls`` and ``poll_interval`` bound the wait on a report Alma is still loading.
    """

    def __init__(
        self,
        client: AlmaHttpClient,
        institution: str,
        api_key: Secret,
        *,
        max_polls: int = MAX_POLLS,
        poll_interval: float = POLL_INTERVAL_SECONDS,
    ) -> None:
        super().__init__(client, institution, api_key)
        self._max_polls = max_polls
        self._poll_interval = poll_interval

    async def report_rows(
        self, path: str, *, limit: int = DEFAULT_ANALYTICS_PAGE, filter: str | None = None
    ) -> AsyncIterator[dict[str, str]]:
        check_limit(limit, MIN_ANALYTICS_PAGE, MAX_ANALYTICS_PAGE)

        async def fetch(params: Params) -> str | None:
            try:
                return await self.get_document(
                    "analytics",
                    "reports",
                    operation=READ_REPORT,
                    params=params,
                    subject={"path": path},
                )
            except AlmaError as exc:
                raise analytics_error(exc) from None

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
