"""The text outputs of the OCLC merge as bytes, as upstream writes them (rules O3, O7, B3).

Upstream writes them with pandas' ``to_csv(index=False)``, which is the csv module underneath, so
these are the same bytes (`expected_outputs_833d31b/` holds them, and the golden test compares):

- UTF-8 without a byte-order mark; every line ends in ``\\n``, the last one too (no ``\\r``);
- a header line: the five column names of the report (``JobID,Network Id,Existing 035a,Incoming
  035a,Action``), or the one-column file's heading;
- ``,`` between values, a value quoted (``"``, doubled inside) only when it holds a ``,``, a
  ``"`` or a line break; an empty value (``None``) is nothing between two commas;
- rows in the order given: the merged order of O2, kept by the split of O3.

`report_rows_csv` and `one_column_text` are pure, ``rows -> bytes``; `write_report_rows` writes the
same text to an open stream (UTF-8, ``newline=""``), so a file of a million rows is never held
in memory whole. The use case writes the files atomically (B3).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import TextIO

from domain.oclc.report_rows import COLUMNS, ReportRow
from domain.oclc.split import MERGED_FILE, UNKNOWN_SUFFIX_FILE, Split
from domain.oclc.text_outputs import OneColumn

__all__ = [
    "one_column_text",
    "report_rows_csv",
    "split_files",
    "split_parts",
    "write_report_rows",
]


def write_report_rows(stream: TextIO, rows: Iterable[ReportRow]) -> None:
    """Rules O3, B3: a ``*bibprocess.csv`` file's text, the header and one line a row, to
    ``stream`` (opened with ``newline=""``, so that ``\\n`` stays as it is)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    # csv writes None as an empty value, as it writes ""
    writer.writerows(row.values for row in rows)


def report_rows_csv(rows: Iterable[ReportRow]) -> bytes:
    """Rules O3, B3: a ``*bibprocess.csv`` file: the header and one line a row."""
    buffer = io.StringIO()
    write_report_rows(buffer, rows)
    return buffer.getvalue().encode("utf-8")


def one_column_text(column: OneColumn) -> bytes:
    """Rule O7: ``a_to_z_MMSid_for_set.txt`` or ``oclc_numbers_updated.txt``: the heading and one
    value a line (pandas' ``Series.to_csv``, so a value is quoted as above)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((column.heading,))
    writer.writerows((value,) for value in column.values)
    return buffer.getvalue().encode("utf-8")


def split_parts(split: Split) -> Sequence[tuple[str, Sequence[ReportRow]]]:
    """Rule O3: each CSV of a split, name and rows, in this order: ``bibprocessmerged.csv``
    (always, the header alone when the NZ has no row), each institution's
    ``{code}bibprocess.csv`` (only those with a row, in the table's order), then
    ``unknown_suffix.csv`` (only when a row has an unknown suffix)."""
    parts: list[tuple[str, Sequence[ReportRow]]] = [(MERGED_FILE, split.nz)]
    parts.extend((part.institution.file_name, part.rows) for part in split.institutions)
    if split.unknown:
        parts.append((UNKNOWN_SUFFIX_FILE, split.unknown))
    return tuple(parts)


def split_files(split: Split) -> Sequence[tuple[str, bytes]]:
    """Rule O3: each CSV of a split (`split_parts`), name and bytes."""
    return tuple((name, report_rows_csv(rows)) for name, rows in split_parts(split))
