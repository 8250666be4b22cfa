"""Writing the OCLC data-sync merge's workbooks (rules O4, O6, O7, B3).

xlsxwriter writes, in ``constant_memory`` mode (each row goes to disk as soon as the next one
starts): measured on 300,000 rows, 8.5 s against 14.2 s for openpyxl's write-only mode. openpyxl
reads (`adapters.oclc.workbooks_read`).

* Every non-empty cell is written with ``write_string``, so every cell, each id and OCLC number
  among them, is a text cell (O7; fix: upstream let pandas write numbers and applied its text
  format after the file was closed). Empty values (None or ``""``) leave the cell blank. Each
  column is also formatted as text (``@``), so what an operator types there stays text.
* Sheets are written in the order given, a bold heading row first (frozen), then the rows as
  they come (any iterable: nothing is held in memory).
* A row whose every value is plain text (no XML or control character, no ``_xHHHH_``, no
  leading or trailing space, under 16,384 characters) is written as the XML xlsxwriter writes
  for it, in one piece (`_PlainRows`): xlsxwriter's own path costs about 7 µs a cell, which is
  30 s for the 900,000 rows of a large ``comparison_file_IZ.xlsx``. Any other row goes through
  ``write_string``. Both give the same bytes (a test compares them); the short cut relies on
  xlsxwriter's constant-memory row writer (``requirements/`` pins the version) and checks what
  it relies on once per sheet, falling back to ``write_string`` otherwise.
* The same rows give the same bytes (B3): xlsxwriter stamps the zip entries with a fixed date
  and the document's created date is set to `CREATED` (or the caller's).
* Each file is written under a hidden ``.NAME.part`` beside its final name and renamed only
  once complete (B3); a failed write leaves no file behind.

Every function is synchronous and touches only the disk: the use case calls it through
``asyncio.to_thread``. Writers take plain rows (sequences of optional strings) under the
headers given, so they know nothing of the domain's types.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

__all__ = [
    "COMPARISON_FILE",
    "COMPARISON_SHEETS",
    "CREATED",
    "DOUBLECHECK_HEADERS",
    "FOR_IMPORT_FILE",
    "FOR_IMPORT_HEADERS",
    "FOR_IMPORT_SHEET",
    "MAX_SHEET_ROWS",
    "REPORT_ROW_HEADERS",
    "REPORT_SHEETS",
    "Row",
    "SheetRows",
    "SheetTooLong",
    "identifier_report_name",
    "write_comparison",
    "write_for_import",
    "write_identifier_report",
    "write_workbook",
]

Row = Sequence[str | None]
"""One row: a cell per header, None (or ``""``) for an empty cell."""

COMPARISON_FILE: Final = "comparison_file_IZ.xlsx"
COMPARISON_SHEETS: Final = ("DIFF", "SAME")
FOR_IMPORT_FILE: Final = "for_import_to_NZ.xlsx"
FOR_IMPORT_SHEET: Final = "for_import_to_NZ"
FOR_IMPORT_HEADERS: Final = ("001", "035 $a")
"""What Alma's import profile "OCLC number (035) import - From XLS" reads (O7)."""
REPORT_SHEETS: Final = (
    "do_not_change",
    "update by job",
    "updated records",
    "records for review",
    "not in analytics",
    "conflicts",
)
"""The sheets of ``NZ-OCLC-Identifier-report_{YYYY-MM-DD}.xlsx``, in this order: upstream's
four (O6), then the new ``not in analytics`` (O6) and ``conflicts`` (O2)."""
REPORT_ROW_HEADERS: Final = ("JobID", "Network Id", "Existing 035a", "Incoming 035a", "Action")
"""A bib processing report row's columns, as upstream's CSVs and ``comparison_file_IZ.xlsx``."""
DOUBLECHECK_HEADERS: Final = (
    "OCLC Control Number (035a)",
    "OCLC Control Number (035z)",
    "Bibliographic Lifecycle",
    "Institution Name",
)
"""The doublecheck's columns, as upstream joins them to the rows it classifies."""
CREATED: Final = datetime(2000, 1, 1)
"""The fixed created date of every workbook (xlsxwriter would stamp the time of writing)."""
MAX_SHEET_ROWS: Final = 1_048_576
"""An xlsx sheet's rows, the heading row included."""
_WIDTH: Final = 20
_PLAIN_MAX: Final = 16_383
"""Longer strings are measured in UTF-16 units by xlsxwriter (and may be cut): its own path."""
_NOT_PLAIN: Final = re.compile(r"[\x00-\x1f&<>\"\ufffe\uffff]|_x|^\s|\s$")
"""What xlsxwriter escapes or marks in an inline string: control characters (``_xHHHH_``),
a literal ``_xHHHH_``, XML's specials, leading or trailing white space (``xml:space``)."""


class SheetTooLong(ValueError):
    """More rows than an xlsx sheet holds (`MAX_SHEET_ROWS` with the heading)."""


@dataclass(frozen=True)
class SheetRows:
    """A sheet to write: its name, its headers and its rows (consumed once, in order)."""

    name: str
    headers: Sequence[str]
    rows: Iterable[Row]


def identifier_report_name(day: date) -> str:
    """``NZ-OCLC-Identifier-report_{YYYY-MM-DD}.xlsx``, upstream's name with an underscore."""
    return f"NZ-OCLC-Identifier-report_{day:%Y-%m-%d}.xlsx"


def write_workbook(path: Path, sheets: Iterable[SheetRows], *, created: datetime = CREATED) -> Path:
    """Write ``sheets`` to ``path`` (through ``.NAME.part``, renamed when complete) and return
    ``path``. `SheetTooLong` for a sheet of more rows than xlsx allows; ``ValueError`` for a
    cell xlsxwriter refuses (over 32,767 characters)."""
    part = path.with_name(f".{path.name}.part")
    try:
        _write(part, sheets, created)
        os.replace(part, path)  # B3: the final name only when complete
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path


def _write(part: Path, sheets: Iterable[SheetRows], created: datetime) -> None:
    workbook = xlsxwriter.Workbook(str(part), {"constant_memory": True})
    try:
        workbook.set_properties({"created": created})
        heading = workbook.add_format({"bold": True, "num_format": "@"})
        text = workbook.add_format({"num_format": "@"})
        for sheet in sheets:
            _write_sheet(workbook.add_worksheet(sheet.name), sheet, heading, text)
    finally:
        workbook.close()


def _write_sheet(worksheet: Any, sheet: SheetRows, heading: Any, text: Any) -> None:
    if sheet.headers:
        worksheet.set_column(0, len(sheet.headers) - 1, _WIDTH, text)
    worksheet.freeze_panes(1, 0)
    for column, header in enumerate(sheet.headers):
        worksheet.write_string(0, column, header, heading)
    write = worksheet.write_string
    plain = _PlainRows.of(worksheet, len(sheet.headers))
    for number, row in enumerate(sheet.rows, start=1):
        if number >= MAX_SHEET_ROWS:
            raise SheetTooLong(
                f"sheet {sheet.name} has more than {MAX_SHEET_ROWS - 1:,} rows, the most an"
                " xlsx sheet holds under its heading"
            )
        if plain is not None and plain.write(number, row):
            continue
        for column, value in enumerate(row):
            if value and write(number, column, value) < 0:
                raise ValueError(
                    f"sheet {sheet.name} row {number + 1} column {column + 1}: a cell holds"
                    " at most 32,767 characters"
                )


class _PlainRows:
    """Writes a row of plain text cells as xlsxwriter's constant-memory mode writes it (see
    the module text): ``<row r="N">``, then for each non-empty value in column order
    ``<c r="A2" s="X" t="inlineStr"><is><t>value</t></is></c>`` (``s`` the column's text
    format), then ``</row>``, with the sheet's dimensions kept as ``write_string`` keeps them.

    A format's ``s`` number is given when it is first used, so the columns' are asked for only
    after the heading row is out, as xlsxwriter itself does."""

    def __init__(self, worksheet: Any, columns: int) -> None:
        self._worksheet = worksheet
        self._columns = columns
        self._cells: list[tuple[str, str]] | None = None
        """Per column: its letters and its `` s="X"`` attribute, once known."""

    @classmethod
    def of(cls, worksheet: Any, columns: int) -> _PlainRows | None:
        """The short cut for a sheet of ``columns`` text columns, or None when the worksheet
        is not as it expects (then every row goes through ``write_string``)."""
        try:
            usable = (
                worksheet.constant_memory
                and not worksheet.row_info
                and not worksheet.comments
                and worksheet.excel_version == 2007
                and worksheet.default_row_height == worksheet.original_row_height
                and 0 < columns <= worksheet.xls_colmax
                and isinstance(worksheet.col_info, dict)
                and callable(worksheet._write_single_row)
                and callable(worksheet._check_dimensions)
            )
        except AttributeError:
            return None
        return cls(worksheet, columns) if usable else None

    def _columns_cells(self) -> list[tuple[str, str]]:
        cells = self._cells
        if cells is None:
            cells = []
            for column in range(self._columns):
                info = self._worksheet.col_info.get(column)
                style = info.column_format if info is not None else None
                xf = f' s="{style._get_xf_index()}"' if style is not None else ""
                cells.append((xl_col_to_name(column), xf))
            self._cells = cells
        return cells

    def write(self, number: int, row: Row) -> bool:
        """Write ``row`` as row ``number`` (0-based) if its values are all plain; False (and
        no cell written) otherwise, or when it is wider than the sheet's headers."""
        if len(row) > self._columns:
            return False
        values: list[tuple[int, str]] = []
        for column, value in enumerate(row):
            if not value:
                continue
            if len(value) > _PLAIN_MAX or _NOT_PLAIN.search(value) is not None:
                return False
            values.append((column, value))
        if not values:
            return True  # no cell: xlsxwriter writes nothing either
        worksheet = self._worksheet
        if number > worksheet.previous_row:
            worksheet._write_single_row(number)  # the row before, if written cell by cell
        worksheet._check_dimensions(number, values[0][0])
        worksheet._check_dimensions(number, values[-1][0])
        cells = self._columns_cells()
        name = number + 1
        parts = [f'<row r="{name}">']
        for column, value in values:
            letters, xf = cells[column]
            parts.append(f'<c r="{letters}{name}"{xf} t="inlineStr"><is><t>{value}</t></is></c>')
        parts.append("</row>")
        worksheet.fh.write("".join(parts))
        return True


def write_comparison(
    folder: Path,
    diff: Iterable[Row],
    same: Iterable[Row],
    *,
    headers: Sequence[str] = REPORT_ROW_HEADERS,
    created: datetime = CREATED,
) -> Path:
    """``comparison_file_IZ.xlsx`` in ``folder`` (O4): sheets ``DIFF`` and ``SAME``, every NZ
    row under ``headers`` (a report row's five columns by default)."""
    return write_workbook(
        folder / COMPARISON_FILE,
        [SheetRows("DIFF", headers, diff), SheetRows("SAME", headers, same)],
        created=created,
    )


def write_identifier_report(
    folder: Path, day: date, sheets: Iterable[SheetRows], *, created: datetime = CREATED
) -> Path:
    """``NZ-OCLC-Identifier-report_{day}.xlsx`` in ``folder`` (O6, O7): ``sheets`` are the
    classification's and the conflicts, one of each name of `REPORT_SHEETS` (``ValueError``
    otherwise), written in that order whatever the order given, each under its own headers
    (`REPORT_ROW_HEADERS`, then `DOUBLECHECK_HEADERS` where the doublecheck's values are shown;
    the conflicts' are the merge's)."""
    given = list(sheets)
    names = [sheet.name for sheet in given]
    if sorted(names) != sorted(REPORT_SHEETS):
        raise ValueError(f"the report's sheets are {REPORT_SHEETS}, not {tuple(names)}")
    by_name = {sheet.name: sheet for sheet in given}
    ordered = [by_name[name] for name in REPORT_SHEETS]
    return write_workbook(folder / identifier_report_name(day), ordered, created=created)


def write_for_import(folder: Path, rows: Iterable[Row], *, created: datetime = CREATED) -> Path:
    """``for_import_to_NZ.xlsx`` in ``folder`` (O7): sheet ``for_import_to_NZ``, columns
    ``001`` (the Network Id) and ``035 $a`` (the incoming OCLC number) of each `update by job`
    row, for the import profile the operator runs by hand."""
    return write_workbook(
        folder / FOR_IMPORT_FILE,
        [SheetRows(FOR_IMPORT_SHEET, FOR_IMPORT_HEADERS, rows)],
        created=created,
    )
