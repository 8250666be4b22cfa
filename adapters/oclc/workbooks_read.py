"""Reading the OCLC data-sync merge's input workbooks: the do-not-change list (O6) and the
doublecheck export (O5).

openpyxl reads, in read-only mode (rows streamed, not the whole sheet in memory); xlsxwriter
writes (`adapters.oclc.workbooks_write`). Both readers are synchronous and touch only the disk:
the use case calls them through ``asyncio.to_thread``.

* The first sheet is read; its first row is the heading row, columns are found by heading, in
  any order (`domain.oclc.doublecheck.column_for`: ``Network Id``, ``Network ID``… all match).
* Every cell is turned into text (`cell_text`). A string cell is taken as it is. A number
  cell is a double in the file (Excel stores every number so, a typed id included, and keeps
  only 15 significant digits of it; openpyxl too writes an int through a double): it is turned
  back into its digits, ``str(int(value))``, only when it is a whole number of at most 15
  digits, which a double and Excel both hold exactly. A fraction, or a number of 16 digits or
  more (9912345678905151 comes back as ...152 from a double, as ...150 from Excel), is
  `BadIdCell`: its digits may be lost, and an id must be typed again as text.
* A file that is not an xlsx workbook (a CSV renamed ``.xlsx``, an old ``.xls``) is
  `NotAnXlsx`, whose message is one sentence naming the file.

openpyxl warns "Workbook contains no default style" on exports without a named style (the
manual doublecheck export is one): that warning alone is silenced while a workbook is opened
(``warnings.catch_warnings`` is process-wide, so at worst a thread opening a workbook at the
same moment hides that same harmless warning too).
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from domain.oclc.doublecheck import (
    Column,
    DoublecheckRow,
    OclcInputRefused,
    column_for,
    is_network_id,
    rows_from_table,
)

__all__ = [
    "EXCEL_DIGITS",
    "TEMPLATE_ROW",
    "BadIdCell",
    "MissingColumn",
    "NotAnXlsx",
    "WorkbookMissing",
    "WorkbookRefused",
    "cell_text",
    "read_do_not_change",
    "read_doublecheck",
]

EXCEL_DIGITS = 15
"""Excel keeps 15 significant digits of a number."""
TEMPLATE_ROW = "Add your MMS ID here"
"""The do-not-change template's example row (upstream's ``Do_not_change.xlsx``): skipped."""
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_NO_DEFAULT_STYLE = "Workbook contains no default style"


class WorkbookRefused(OclcInputRefused):
    """An input workbook cannot be used; the message is one sentence naming the file."""


class WorkbookMissing(WorkbookRefused):
    """The file does not exist or cannot be opened."""


class NotAnXlsx(WorkbookRefused):
    """The file is not an xlsx workbook (a CSV renamed ``.xlsx``, an ``.xls``, a damaged file)."""


class MissingColumn(WorkbookRefused):
    """The workbook's first row has no ``column`` heading."""

    def __init__(self, sentence: str, *, source: str, column: str) -> None:
        super().__init__(sentence, source=source)
        self.column = column


class BadIdCell(WorkbookRefused):
    """A cell that cannot be an identifier as stored: ``cell`` is its reference (``A7``)."""

    def __init__(self, sentence: str, *, source: str, cell: str) -> None:
        super().__init__(sentence, source=source)
        self.cell = cell


class _Inexact(ValueError):
    """A number whose digits cannot be told exactly; the message says why."""


def cell_text(value: object) -> str | None:
    """A cell's value as text: None for an empty cell, a string as it is, a number as its
    digits when exact (see the module's note; `_Inexact` otherwise), anything else (a date, a
    boolean) as ``str`` for the caller's checks to refuse."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _Inexact(f"the number {value!r} has a fraction")
        value = int(value)
    if abs(value) >= 10**EXCEL_DIGITS:
        raise _Inexact(
            f"the number {value} has more than {EXCEL_DIGITS} digits, so its last digits may"
            " have been lost (Excel keeps 15 significant digits, and a cell holds a double)"
        )
    return str(value)


def _open_file(path: Path) -> BinaryIO:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise WorkbookMissing(f"{path} does not exist", source=str(path)) from None
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise WorkbookMissing(f"{path} cannot be read ({reason})", source=str(path)) from None
    magic = handle.read(4)
    handle.seek(0)
    if magic != _ZIP_MAGIC:
        handle.close()
        kind = "an Excel 97-2003 .xls file" if magic == _OLE_MAGIC else "not a zip archive"
        raise NotAnXlsx(
            f"{path} is not an xlsx workbook ({kind}; a CSV or text file renamed .xlsx?):"
            " save it from Excel as an .xlsx workbook",
            source=str(path),
        )
    return handle


@contextmanager
def _first_sheet(path: Path) -> Iterator[Iterator[tuple[Any, ...]]]:
    """The first sheet's rows as openpyxl gives their values (rows may differ in length); the
    file is closed when the block ends."""
    with _open_file(path) as handle:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_NO_DEFAULT_STYLE, category=UserWarning)
                workbook = load_workbook(handle, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, InvalidFileException, ValueError, SyntaxError):
            raise NotAnXlsx(
                f"{path} is not an xlsx workbook (a zip archive without an Excel workbook in it)",
                source=str(path),
            ) from None
        try:
            if not workbook.worksheets:
                raise NotAnXlsx(f"{path} has no worksheet", source=str(path))
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # a writer's wrong <dimension> must not cut rows short
            yield sheet.iter_rows(values_only=True)
        except (zipfile.BadZipFile, KeyError, SyntaxError):
            # read-only mode parses the sheet while it is read
            raise NotAnXlsx(
                f"{path} is not a readable xlsx workbook (its first sheet is damaged)",
                source=str(path),
            ) from None
        finally:
            workbook.close()


def _text(value: object, path: Path, row: int, column: int) -> str | None:
    try:
        return cell_text(value)
    except _Inexact as error:
        cell = f"{get_column_letter(column + 1)}{row}"
        raise BadIdCell(
            f"{path} cell {cell} is refused: {error}; format the column as Text and type the"
            " ids again",
            source=str(path),
            cell=cell,
        ) from None


def _texts(values: tuple[Any, ...], path: Path, row: int) -> list[str | None]:
    return [_text(value, path, row, column) for column, value in enumerate(values)]


def read_do_not_change(path: Path) -> frozenset[str]:
    """The Network Ids of a do-not-change workbook (O6), from its ``Network Id`` column.

    Ids are text: stripped of surrounding spaces, leading zeros kept; empty cells and the
    template's ``Add your MMS ID here`` are skipped. `MissingColumn` without a ``Network Id``
    heading (upstream's ernieejo template heads it ``MMS_IZ``); `BadIdCell` for a value that is
    not a Network Id or a number that lost digits; `NotAnXlsx`, `WorkbookMissing`.
    """
    with _first_sheet(path) as rows:
        return _do_not_change_ids(path, rows)


def _do_not_change_ids(path: Path, rows: Iterator[tuple[Any, ...]]) -> frozenset[str]:
    headings = [v if isinstance(v, str) else None for v in next(rows, ())]
    columns = [i for i, h in enumerate(headings) if column_for(h) is Column.NETWORK_ID]
    if not columns:
        found = ", ".join(f"'{h}'" for h in headings if h) or "none"
        raise MissingColumn(
            f"{path} has no '{Column.NETWORK_ID.value}' column in its first row"
            f" (headings found: {found})",
            source=str(path),
            column=Column.NETWORK_ID.value,
        )
    index = columns[0]
    ids: set[str] = set()
    for number, values in enumerate(rows, start=2):
        raw = _text(values[index] if index < len(values) else None, path, number, index)
        text = (raw or "").strip()
        if not text or text.casefold() == TEMPLATE_ROW.casefold():
            continue
        if not is_network_id(text):
            cell = f"{get_column_letter(index + 1)}{number}"
            raise BadIdCell(
                f"{path} cell {cell} is refused: '{text}' is not a Network Id (digits only)",
                source=str(path),
                cell=cell,
            )
        ids.add(text)
    return frozenset(ids)


def read_doublecheck(path: Path) -> tuple[DoublecheckRow, ...]:
    """The doublecheck rows of an Analytics export (O5): the first sheet, headings in its first
    row in any order (`domain.oclc.doublecheck.rows_from_table` and its errors, naming the
    file and the sheet's row numbers); `NotAnXlsx`, `WorkbookMissing`, `BadIdCell`."""
    with _first_sheet(path) as rows:
        headings = _texts(next(rows, ()), path, 1)
        cells = (_texts(values, path, number) for number, values in enumerate(rows, start=2))
        return rows_from_table(headings, cells, source=str(path), first_row=2)
