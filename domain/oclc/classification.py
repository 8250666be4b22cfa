"""Rule O6: every DIFF row (O4) placed on one sheet of the identifier report, with the reason.

In this order, the first that applies:

1. its Network Id is on the do-not-change list → `Sheet.DO_NOT_CHANGE`, and no further;
2. the doublecheck (O5, Alma Analytics) does not know the Network Id → `Sheet.NOT_IN_ANALYTICS`,
   whatever the action (fix: upstream's inner join drops these rows silently);
3. a ``match`` row whose incoming number is not among the doublecheck's 035a values →
   `Sheet.UPDATE_BY_JOB`; among them → `Sheet.UPDATED_RECORDS` (the NZ already has it). Values are
   compared one by one (fix: upstream compares the whole cell, so ``a; b`` never equals ``a``);
4. every other action, an unknown one included (O1) → `Sheet.FOR_REVIEW`.

One decision beyond the rule's words: a ``match`` row without an incoming number goes to review,
not to `update by job`, so the import never proposes an empty 035 $a.

The doublecheck is taken as a plain mapping, Network Id → its 035a values (already split on
``;`` and ``|``, O5); ids and numbers are compared as text, exactly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from domain.oclc.report_rows import Action, ReportRow

__all__ = ["Classification", "Placement", "Sheet", "classify"]


class Sheet(StrEnum):
    """Rule O6/O7: the sheets of ``NZ-OCLC-Identifier-report_{date}.xlsx`` a DIFF row can be on,
    named as upstream names them, in upstream's order, with the new ``not in analytics`` last."""

    DO_NOT_CHANGE = "do_not_change"
    UPDATE_BY_JOB = "update by job"
    UPDATED_RECORDS = "updated records"
    FOR_REVIEW = "records for review"
    NOT_IN_ANALYTICS = "not in analytics"


@dataclass(frozen=True)
class Placement:
    """Rule O6: one DIFF row, its sheet, and why (for the run record of its Network Id)."""

    row: ReportRow
    sheet: Sheet
    reason: str


@dataclass(frozen=True)
class Classification:
    """Rule O6: every DIFF row placed once, in the DIFF order."""

    placements: tuple[Placement, ...]

    def rows(self, sheet: Sheet) -> tuple[ReportRow, ...]:
        """The rows on ``sheet``, in the DIFF order."""
        return tuple(p.row for p in self.placements if p.sheet is sheet)

    def counts(self) -> dict[Sheet, int]:
        """How many rows each sheet holds, every sheet named (0 included)."""
        counts = dict.fromkeys(Sheet, 0)
        for placement in self.placements:
            counts[placement.sheet] += 1
        return counts


def classify(
    diff: Iterable[ReportRow],
    *,
    do_not_change: Collection[str],
    doublecheck: Mapping[str, Collection[str]],
) -> Classification:
    """Rule O6: place each DIFF row (see the module's docstring)."""
    return Classification(tuple(_place(row, do_not_change, doublecheck) for row in diff))


def _place(
    row: ReportRow, do_not_change: Collection[str], doublecheck: Mapping[str, Collection[str]]
) -> Placement:
    if row.network_id in do_not_change:
        return Placement(row, Sheet.DO_NOT_CHANGE, "on the do-not-change list")
    known = doublecheck.get(row.network_id)
    if known is None:
        return Placement(row, Sheet.NOT_IN_ANALYTICS, "the doublecheck does not know this id")
    kind = row.kind
    if kind is Action.MATCH:
        incoming = row.incoming_035a
        if incoming is None:
            return Placement(row, Sheet.FOR_REVIEW, "match without an incoming 035a")
        if incoming in known:
            return Placement(
                row, Sheet.UPDATED_RECORDS, f"match: the NZ's 035a already holds {incoming}"
            )
        held = "; ".join(sorted(known)) or "none"
        return Placement(
            row,
            Sheet.UPDATE_BY_JOB,
            f"match: incoming 035a {incoming} is not among the NZ's 035a ({held})",
        )
    if kind is Action.UNKNOWN:
        action = "no action" if row.action is None else f"unknown action {row.action!r}"
        return Placement(row, Sheet.FOR_REVIEW, action)
    return Placement(row, Sheet.FOR_REVIEW, f"action {row.action}")
