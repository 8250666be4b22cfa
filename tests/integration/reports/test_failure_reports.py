"""Contract of the failure reports (rule P1): one file per report and day, real CSV quoting."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.scf.reports.csv_reports import CsvFailureReports, MemoryFailureReports
from application.scf.ports import FailureReports
from application.scf.reports import ReportName, ReportRow

DAY = datetime(2026, 11, 22, 23, 59, tzinfo=UTC)


def _row(
    message: str,
    *,
    barcode: str | None = "3210",
    report: ReportName = ReportName.ITEMS,
    when: datetime = DAY,
) -> ReportRow:
    return ReportRow(report, when, barcode, "01AAA_AB", message)


async def test_P1_rows_land_in_the_report_and_day_file_with_a_header(tmp_path: Path) -> None:
    reports: FailureReports = CsvFailureReports(tmp_path)
    await reports.append(_row("Failed to handle item 3210"))
    await reports.append(_row("second"))
    await reports.append(_row("next day", when=datetime(2026, 11, 23, 0, 1, tzinfo=UTC)))
    await reports.append(_row("a request", report=ReportName.REQUESTS))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "ItemsHandler_log_20261122.csv",
        "ItemsHandler_log_20261123.csv",
        "RequestHandler_log_20261122.csv",
    ]
    rows = list(csv.reader((tmp_path / names[0]).open(newline="", encoding="utf-8")))
    assert rows == [
        ["Barcode", "Institution", "Message"],
        ["3210", "01AAA_AB", "Failed to handle item 3210"],
        ["3210", "01AAA_AB", "second"],
    ]


@pytest.mark.parametrize(
    "message",
    [
        'Alma said: "Item is on loan, cannot delete", errorCode 401897',
        "line one\nline two",
        "semi;colon, comma",
    ],
)
async def test_P1_messages_with_commas_quotes_and_newlines_round_trip(
    tmp_path: Path, message: str
) -> None:
    reports = CsvFailureReports(tmp_path)
    await reports.append(_row(message, barcode=None))
    (path,) = tmp_path.iterdir()
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    assert rows[1] == ["", "01AAA_AB", message]


async def test_P1_the_in_memory_twin_keeps_every_row() -> None:
    reports: FailureReports = MemoryFailureReports()
    await reports.append(_row("kept"))
    assert isinstance(reports, MemoryFailureReports)
    assert [r.message for r in reports.rows] == ["kept"]
