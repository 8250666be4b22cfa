"""Rule O4: the Network Zone's rows split into DIFF and SAME on Existing vs Incoming 035a.

The numbers are compared as text, exactly: ``0123`` and ``123`` differ (upstream reads them back
as numbers, where they would not), and so do ``123`` and ``123 ``. Two empty values are SAME
(fix: upstream compares NaN with NaN, which puts them in DIFF); one empty value against a number
is DIFF. Every NZ row is in one of the two, do-not-change ids included (those leave at O6), in
the merged order. The reference inputs give DIFF 129 and SAME 2,109 of 2,238 rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from domain.oclc.report_rows import ReportRow

__all__ = ["COMPARISON_FILE", "DIFF", "SAME", "Comparison", "compare_035a", "is_same"]

COMPARISON_FILE: Final = "comparison_file_IZ.xlsx"
"""Rule O4: the workbook's name, as upstream names it (sheets `DIFF` and `SAME`)."""
DIFF: Final = "DIFF"
SAME: Final = "SAME"


@dataclass(frozen=True)
class Comparison:
    """Rule O4: the DIFF rows and the SAME rows, each in the order given."""

    diff: tuple[ReportRow, ...]
    same: tuple[ReportRow, ...]


def is_same(row: ReportRow) -> bool:
    """Rule O4: the existing and the incoming 035a are the same text, or both empty."""
    return row.existing_035a == row.incoming_035a


def compare_035a(rows: Iterable[ReportRow]) -> Comparison:
    """Rule O4: split ``rows`` (the NZ rows of O3) into DIFF and SAME."""
    diff: list[ReportRow] = []
    same: list[ReportRow] = []
    for row in rows:
        (same if is_same(row) else diff).append(row)
    return Comparison(tuple(diff), tuple(same))
