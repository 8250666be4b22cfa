"""Daily CSV failure reports, `{ReportName}_log_{yyyyMMdd}.csv`, properly quoted (rule P1).

The Java app quoted only the barcode and wrote `null` fields that crashed it; Alma's messages
often contain commas, so every field goes through the csv module here. Days are UTC days.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from application.scf.reports import ReportRow

HEADER = ("Barcode", "Institution", "Message")


class CsvFailureReports:
    """Appends rows to the report files in one folder; safe for concurrent callers."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = asyncio.Lock()

    def path_for(self, row: ReportRow) -> Path:
        """The file a row belongs in."""
        return self.folder / f"{row.report.value}_log_{row.occurred_at:%Y%m%d}.csv"

    async def append(self, row: ReportRow) -> None:
        async with self._lock:
            await asyncio.to_thread(self._append, row)

    def _append(self, row: ReportRow) -> None:
        path = self.path_for(row)
        self.folder.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        if not path.exists():
            writer.writerow(HEADER)
        writer.writerow((row.barcode or "", row.institution or "", row.message))
        with path.open("a", encoding="utf-8", newline="") as report:
            report.write(buffer.getvalue())


class MemoryFailureReports:
    """The in-memory twin, and what runs when no `report_file_folder` is configured."""

    def __init__(self) -> None:
        self.rows: list[ReportRow] = []

    async def append(self, row: ReportRow) -> None:
        self.rows.append(row)
