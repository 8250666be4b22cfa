"""The OCLC merge's outputs on this machine's disk: `OclcFiles`, the `OclcOutputs` port (rules
O2–O4, O6, O7, B3).

The bytes and cells are those of `adapters.oclc.csv_outputs` and `adapters.oclc.workbooks`;
here the domain's rows become their rows, and each file is written in a worker thread under a
hidden ``.NAME.part`` and renamed to its final name only when complete (B3).

The identifier report's sheets (O6, O7):

* ``do_not_change`` and ``not in analytics``: the report row's five columns;
* ``update by job``, ``updated records``, ``records for review``: the five, then what the
  doublecheck holds for the Network Id (035a and 035z values joined with ``"; "``, lifecycle,
  institutions joined with ``" | "``, as Analytics joins them);
* ``conflicts`` (O2): one line per row of each conflict, the kept row first, under
  `CONFLICT_HEADERS`: the row's institution, its five values, whether it was kept, and the
  columns the rows disagree on.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Final

from adapters.oclc.csv_outputs import one_column_text, split_parts, write_report_rows
from adapters.oclc.workbooks import (
    DOUBLECHECK_HEADERS,
    REPORT_ROW_HEADERS,
    Row,
    SheetRows,
    write_comparison,
    write_for_import,
    write_identifier_report,
)
from application.oclc.ports import UpdateFiles
from domain.oclc.classification import Classification, Sheet
from domain.oclc.comparison import Comparison
from domain.oclc.doublecheck import DoublecheckRow
from domain.oclc.merge import Conflict
from domain.oclc.report_rows import ReportRow
from domain.oclc.split import Split
from domain.oclc.text_outputs import (
    SET_IDS_FILE,
    UPDATED_NUMBERS_FILE,
    set_ids,
    updated_numbers,
)

__all__ = [
    "CONFLICTS_SHEET",
    "CONFLICT_HEADERS",
    "OclcFiles",
    "conflict_rows",
    "identifier_sheets",
    "write_atomically",
]

CONFLICTS_SHEET: Final = "conflicts"
CONFLICT_HEADERS: Final = ("Institution", *REPORT_ROW_HEADERS, "Kept", "Disagreement")
_JOINED: Final = (*REPORT_ROW_HEADERS, *DOUBLECHECK_HEADERS)
_WITH_DOUBLECHECK: Final = frozenset({Sheet.UPDATE_BY_JOB, Sheet.UPDATED_RECORDS, Sheet.FOR_REVIEW})


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through ``.NAME.part``, renamed when complete (B3)."""
    part = path.with_name(f".{path.name}.part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path


def _write_csv(path: Path, rows: Sequence[ReportRow]) -> Path:
    """A ``*bibprocess.csv`` streamed to ``.NAME.part``, renamed when complete (B3)."""
    part = path.with_name(f".{path.name}.part")
    try:
        with part.open("w", encoding="utf-8", newline="") as stream:
            write_report_rows(stream, rows)
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path


def _write_split(folder: Path, split: Split) -> tuple[Path, ...]:
    return tuple(_write_csv(folder / name, rows) for name, rows in split_parts(split))


def _values(rows: Iterable[ReportRow]) -> Iterator[Row]:
    return (row.values for row in rows)


def _joined(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _doublecheck_cells(rows: Sequence[DoublecheckRow]) -> tuple[str | None, ...]:
    """What the doublecheck holds for one Network Id (every row of it, values once each)."""
    if not rows:
        return (None,) * len(DOUBLECHECK_HEADERS)
    oclc_a = _joined(v for row in rows for v in row.oclc_035a)
    oclc_z = _joined(v for row in rows for v in row.oclc_035z)
    lifecycles = _joined(row.lifecycle for row in rows if row.lifecycle)
    institutions = _joined(v for row in rows for v in row.institutions)
    return (
        "; ".join(oclc_a) or None,
        "; ".join(oclc_z) or None,
        " | ".join(lifecycles) or None,
        " | ".join(institutions) or None,
    )


def conflict_rows(conflicts: Iterable[Conflict]) -> Iterator[Row]:
    """O2: one line per row of each conflict, the kept one first."""
    for conflict in conflicts:
        differ = ", ".join(conflict.disagreement)
        for index, row in enumerate(conflict.rows):
            kept = "kept" if index == 0 else "set aside"
            yield (row.institution, *row.values, kept, differ)


def identifier_sheets(
    classification: Classification,
    doublecheck: Sequence[DoublecheckRow],
    conflicts: Sequence[Conflict],
) -> list[SheetRows]:
    """The sheets of ``NZ-OCLC-Identifier-report_{date}.xlsx`` (see the module text)."""
    by_id: dict[str, list[DoublecheckRow]] = {}
    for row in doublecheck:
        by_id.setdefault(row.network_id, []).append(row)
    sheets = [_sheet(sheet, classification, by_id) for sheet in Sheet]
    sheets.append(SheetRows(CONFLICTS_SHEET, CONFLICT_HEADERS, conflict_rows(conflicts)))
    return sheets


def _sheet(
    sheet: Sheet, classification: Classification, by_id: Mapping[str, Sequence[DoublecheckRow]]
) -> SheetRows:
    rows = classification.rows(sheet)
    if sheet not in _WITH_DOUBLECHECK:
        return SheetRows(sheet.value, REPORT_ROW_HEADERS, _values(rows))
    joined = ((*r.values, *_doublecheck_cells(by_id.get(r.network_id, ()))) for r in rows)
    return SheetRows(sheet.value, _JOINED, joined)


def _write_update_files(folder: Path, classification: Classification) -> UpdateFiles:
    by_job = classification.rows(Sheet.UPDATE_BY_JOB)
    return UpdateFiles(
        set_ids=write_atomically(folder / SET_IDS_FILE, one_column_text(set_ids(classification))),
        numbers=write_atomically(
            folder / UPDATED_NUMBERS_FILE, one_column_text(updated_numbers(classification))
        ),
        for_import=write_for_import(
            folder, ((row.network_id, row.incoming_035a) for row in by_job)
        ),
    )


class OclcFiles:
    """`OclcOutputs` on this machine's disk (see the module text)."""

    async def write_split(self, folder: Path, split: Split) -> tuple[Path, ...]:
        return await asyncio.to_thread(_write_split, folder, split)

    async def write_comparison(self, folder: Path, comparison: Comparison) -> Path:
        return await asyncio.to_thread(
            write_comparison, folder, _values(comparison.diff), _values(comparison.same)
        )

    async def write_identifier_report(
        self,
        folder: Path,
        day: date,
        classification: Classification,
        doublecheck: Sequence[DoublecheckRow],
        conflicts: Sequence[Conflict],
    ) -> Path:
        sheets = identifier_sheets(classification, doublecheck, conflicts)
        return await asyncio.to_thread(write_identifier_report, folder, day, sheets)

    async def write_update_files(self, folder: Path, classification: Classification) -> UpdateFiles:
        return await asyncio.to_thread(_write_update_files, folder, classification)
