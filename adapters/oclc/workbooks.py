"""The OCLC data-sync merge's xlsx files (rules O4–O7, B3): one import for the use case.

Library decision: openpyxl, in read-only mode, READS the input workbooks (the do-not-change list
and the doublecheck export); xlsxwriter, in ``constant_memory`` mode, WRITES the outputs
(``comparison_file_IZ.xlsx``, ``NZ-OCLC-Identifier-report_{YYYY-MM-DD}.xlsx``,
``for_import_to_NZ.xlsx``), every cell with ``write_string`` so each id cell is a text cell
(O7). Measured on 300,000 rows, xlsxwriter writes in 8.5 s where openpyxl's write-only mode
takes 14.2 s; openpyxl stays the reader because xlsxwriter cannot read. Both are kept and
locked (``requirements/``).

The reading is in `adapters.oclc.workbooks_read`, the writing in `adapters.oclc.workbooks_write`;
every function is synchronous and touches only the disk, for ``asyncio.to_thread``.
"""

from __future__ import annotations

from adapters.oclc.workbooks_read import (
    EXCEL_DIGITS,
    TEMPLATE_ROW,
    BadIdCell,
    MissingColumn,
    NotAnXlsx,
    WorkbookMissing,
    WorkbookRefused,
    cell_text,
    read_do_not_change,
    read_doublecheck,
)
from adapters.oclc.workbooks_write import (
    COMPARISON_FILE,
    COMPARISON_SHEETS,
    CREATED,
    DOUBLECHECK_HEADERS,
    FOR_IMPORT_FILE,
    FOR_IMPORT_HEADERS,
    FOR_IMPORT_SHEET,
    MAX_SHEET_ROWS,
    REPORT_ROW_HEADERS,
    REPORT_SHEETS,
    Row,
    SheetRows,
    SheetTooLong,
    identifier_report_name,
    write_comparison,
    write_for_import,
    write_identifier_report,
    write_workbook,
)

__all__ = [
    "COMPARISON_FILE",
    "COMPARISON_SHEETS",
    "CREATED",
    "DOUBLECHECK_HEADERS",
    "EXCEL_DIGITS",
    "FOR_IMPORT_FILE",
    "FOR_IMPORT_HEADERS",
    "FOR_IMPORT_SHEET",
    "MAX_SHEET_ROWS",
    "REPORT_ROW_HEADERS",
    "REPORT_SHEETS",
    "TEMPLATE_ROW",
    "BadIdCell",
    "MissingColumn",
    "NotAnXlsx",
    "Row",
    "SheetRows",
    "SheetTooLong",
    "WorkbookMissing",
    "WorkbookRefused",
    "cell_text",
    "identifier_report_name",
    "read_do_not_change",
    "read_doublecheck",
    "write_comparison",
    "write_for_import",
    "write_identifier_report",
    "write_workbook",
]
