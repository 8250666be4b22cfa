"""Rows of an Alma Analytics report: the OCLC data-sync's doublecheck source (rule O5).

Alma answers ``GET /analytics/reports`` a page at a time: the first call names the report's
``path``, the first page carries a ``ResumptionToken`` and the column schema, every later call
sends that token until a page says ``IsFinished`` true. A page with no rows that is not finished
is Alma still running the report: it is asked again, a bounded number of times (O5). Calls go
through the institution's shared client, throttle and retries (rule B4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from application.shared.alma import NotFound, TransientAlmaError

DEFAULT_ANALYTICS_PAGE = 1000
MIN_ANALYTICS_PAGE = 25
MAX_ANALYTICS_PAGE = 1000
"""Alma takes 25 to 1000 rows a page."""


class ReportNotFound(NotFound):
    """Alma has no report at that path (``Path not found (…)``, as in
    ``ref:scriptotek-php-alma-client__report_not_found_response.xml``)."""


class AnalyticsStillLoading(TransientAlmaError):
    """Alma kept answering "still loading" (no rows, not finished) after the bounded number of
    polls: the report may come through later, so the caller may retry the run (O5)."""


class AnalyticsReports(Protocol):
    """Reads one institution's Analytics reports (rules O5, B4)."""

    institution: str

    def report_rows(
        self, path: str, *, limit: int = DEFAULT_ANALYTICS_PAGE, filter: str | None = None
    ) -> AsyncIterator[dict[str, str]]:
        """Every row of the report at ``path``, in Alma's order, keyed by column heading.

        * Keys come from the schema's ``saw-sql:columnHeading`` in the first page, not from the
          columns' positions (O5); a column without a heading keeps its name (``Column3``), a
          heading met twice is keyed ``heading (ColumnN)`` the second time. Alma's constant
          first column (``Column0``, heading ``0``) is left out.
        * Every column of the schema is a key of every row: a cell Alma leaves out of the XML
          (it does so for empty values) or sends empty is ``""``.
        * ``limit`` is the page size (25–1000; ``ValueError`` otherwise); ``filter`` is Alma's
          XML filter expression, sent as it is.

        `ReportNotFound` for an unknown path; `AnalyticsStillLoading` when Alma stays on
        "still loading" too long.
        """
        ...
