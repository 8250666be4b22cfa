"""The OCLC merge's inputs behind the ports of ``application/oclc/ports.py`` (rules O1, O5, O6):
the report files, the do-not-change workbook, and the doublecheck from an xlsx export or from
the Network Zone's Analytics.

Files are read and parsed in a worker thread (``asyncio.to_thread``), never on the event loop;
the parsing itself is `adapters.oclc.reports`, `adapters.oclc.workbooks` and
`adapters.oclc.analytics_doublecheck`, whose refusals (one sentence naming the file) pass
through unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from adapters.oclc.analytics_doublecheck import DIFF_CHUNK, read_analytics_doublecheck
from adapters.oclc.reports import read_bib_processing_report
from adapters.oclc.workbooks import read_do_not_change, read_doublecheck
from application.oclc.ports import ReportInput
from application.ports.alma.analytics import DEFAULT_ANALYTICS_PAGE, AnalyticsReports
from domain.oclc.doublecheck import DoublecheckRow, OclcInputRefused

__all__ = ["AnalyticsDoublecheck", "ReportFiles", "WorkbookDoNotChange", "XlsxDoublecheck"]


class ReportFiles:
    """`ReportSource`: a bib processing report on this machine's disk (O1)."""

    async def read(self, path: Path) -> ReportInput:
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise OclcInputRefused(f"--report {path}: no such file", source=str(path)) from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise OclcInputRefused(
                f"--report {path} cannot be read ({reason})", source=str(path)
            ) from None
        parsed = await asyncio.to_thread(read_bib_processing_report, path.name, data)
        return ReportInput(path.name, data, parsed)


class WorkbookDoNotChange:
    """`DoNotChangeSource`: the ``Network Id`` column of a workbook (O6)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def file(self) -> Path:
        return self._path

    async def ids(self) -> frozenset[str]:
        return await asyncio.to_thread(read_do_not_change, self._path)


class XlsxDoublecheck:
    """`DoublecheckSource`: the Analytics report exported to xlsx by hand (O5)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def description(self) -> str:
        return f"--doublecheck {self._path}"

    @property
    def file(self) -> Path | None:
        return self._path

    async def rows(self, network_ids: Sequence[str]) -> tuple[DoublecheckRow, ...]:
        """Every row of the export: only the ids asked are ever looked up in it."""
        return await asyncio.to_thread(read_doublecheck, self._path)


class AnalyticsDoublecheck:
    """`DoublecheckSource`: the report at ``path`` of the NZ's Analytics, through the
    `AnalyticsReports` port (every page, columns by heading: O5)."""

    def __init__(
        self,
        reports: AnalyticsReports,
        path: str,
        *,
        chunk_size: int | None = DIFF_CHUNK,
        page_size: int = DEFAULT_ANALYTICS_PAGE,
    ) -> None:
        self._reports = reports
        self._path = path
        self._chunk_size = chunk_size
        self._page_size = page_size

    @property
    def description(self) -> str:
        return f"Analytics report {self._path} of {self._reports.institution}"

    @property
    def file(self) -> Path | None:
        return None

    async def rows(self, network_ids: Sequence[str]) -> tuple[DoublecheckRow, ...]:
        if not network_ids:
            return ()
        return await read_analytics_doublecheck(
            self._reports,
            self._path,
            network_ids,
            chunk_size=self._chunk_size,
            page_size=self._page_size,
        )
