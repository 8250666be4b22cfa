"""The doublecheck from the Network Zone's Alma Analytics (rule O5), over the `AnalyticsReports`
port (``application/ports/alma/analytics.py``).

The port walks the pages (``ResumptionToken`` until ``IsFinished``, a still-loading page asked
again with its token, `AnalyticsStillLoading` when it stays so, `ReportNotFound` for an unknown
path; both pass through unchanged) and keys each row by the schema's column headings. Here those
rows become the doublecheck table of `domain.oclc.doublecheck.rows_from_table`: columns by
heading in any order, and a cell Alma left out (the port gives ``""``) is None.

The port takes Alma's ``filter`` expression, so the DIFF ids are asked in chunks of `DIFF_CHUNK`
(as upstream, which sent 12 a call): each call sends an OBI ``in`` list on the Network Id column
(`network_id_filter`), which keeps the URL near 5 KB. Alma applies such a filter only when the
report has that column as "is prompted", and the fake Alma does not apply it at all, so the rows
of each answer are kept only when their Network Id is in the chunk asked: a filter Alma ignores
costs time (the whole report once per chunk), never correctness. ``chunk_size=None`` reads the
whole report once, unfiltered, and keeps the ids asked (the better choice when the report is
small or not prompted); without ids the whole report is the doublecheck.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from xml.sax.saxutils import escape

from application.ports.alma.analytics import DEFAULT_ANALYTICS_PAGE, AnalyticsReports
from domain.oclc.doublecheck import Column, DoublecheckRow, column_for, rows_from_table

__all__ = [
    "DIFF_CHUNK",
    "NETWORK_ID_EXPRESSION",
    "network_id_filter",
    "read_analytics_doublecheck",
]

DIFF_CHUNK = 50
"""Network Ids per Analytics call (each adds about 85 characters to the encoded URL)."""
NETWORK_ID_EXPRESSION = '"Bibliographic Details"."Network Id"'
"""The Network Id column in Analytics' Titles subject area, as upstream's filter names it."""

_FILTER_OPEN = (
    '<sawx:expr xsi:type="sawx:list" op="in"'
    ' xmlns:saw="com.siebel.analytics.web/report/v1.1"'
    ' xmlns:sawx="com.siebel.analytics.web/expression/v1.1"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
)


def network_id_filter(ids: Sequence[str], expression: str = NETWORK_ID_EXPRESSION) -> str:
    """Alma's filter for rows whose ``expression`` is one of ``ids`` (an OBI ``in`` list)."""
    values = "".join(f'<sawx:expr xsi:type="xsd:string">{escape(i)}</sawx:expr>' for i in ids)
    return (
        f'{_FILTER_OPEN}<sawx:expr xsi:type="sawx:sqlExpression">{escape(expression)}'
        f"</sawx:expr>{values}</sawx:expr>"
    )


def _network_id_key(row: Mapping[str, str]) -> str | None:
    return next((key for key in row if column_for(key) is Column.NETWORK_ID), None)


def _wanted(row: Mapping[str, str], ids: frozenset[str]) -> bool:
    """Whether a row is one asked for; a row without a Network Id column is kept, so that
    `rows_from_table` refuses the report for it."""
    key = _network_id_key(row)
    return key is None or row[key].strip() in ids


async def read_analytics_doublecheck(
    reports: AnalyticsReports,
    path: str,
    network_ids: Iterable[str] | None = None,
    *,
    chunk_size: int | None = DIFF_CHUNK,
    page_size: int = DEFAULT_ANALYTICS_PAGE,
    expression: str = NETWORK_ID_EXPRESSION,
) -> tuple[DoublecheckRow, ...]:
    """The doublecheck rows of the report at ``path`` for ``network_ids`` (all its rows when
    None), in the order asked by chunk, Alma's order within one.

    ``chunk_size`` ids a call with a filter (None: one call, no filter); ``page_size`` rows a
    page (25–1000); ``expression`` the filtered column. Errors: the port's (`ReportNotFound`,
    `AnalyticsStillLoading`, …) and `rows_from_table`'s, naming the report.
    """
    if chunk_size is not None and chunk_size < 1:
        raise ValueError("chunk_size must be 1 or more, or None")
    rows: list[Mapping[str, str]] = []
    if network_ids is None:
        rows = [row async for row in reports.report_rows(path, limit=page_size)]
    else:
        asked = list(dict.fromkeys(network_ids))
        size = chunk_size or max(len(asked), 1)
        for start in range(0, len(asked), size):
            chunk = asked[start : start + size]
            ids = frozenset(chunk)
            wanted = network_id_filter(chunk, expression) if chunk_size else None
            async for row in reports.report_rows(path, limit=page_size, filter=wanted):
                if _wanted(row, ids):
                    rows.append(row)
    headings = list(dict.fromkeys(key for row in rows for key in row))
    if not headings:
        return ()
    table = ([row.get(h) or None for h in headings] for row in rows)
    return rows_from_table(headings, table, source=f"Analytics report {path}")
