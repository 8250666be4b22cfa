"""What the OCLC merge tells the operator as it goes (progress lines, rules O2–O8): the merge's
counts and its first conflicts, the split and DIFF/SAME counts, the sheets' counts, and the Alma
steps left by hand at the end (the manual steps of upstream's README, less what O8 did).
"""

from __future__ import annotations

from typing import Final

from application.oclc.nz_job import JOB_TITLE
from application.oclc.nz_set import NzSetResult
from application.oclc.outcomes import disagreement
from application.shared.run_context import RunContext
from domain.oclc.classification import Classification, Sheet
from domain.oclc.comparison import Comparison
from domain.oclc.merge import Merge
from domain.oclc.split import Split
from domain.oclc.text_outputs import SET_IDS_FILE

__all__ = [
    "IMPORT_PROFILE",
    "SHOWN_CONFLICTS",
    "left_by_hand",
    "tell_classification",
    "tell_merge",
    "tell_split",
]

IMPORT_PROFILE: Final = "OCLC number (035) import - From XLS"
"""The Alma import profile upstream's README names for ``for_import_to_NZ.xlsx``."""
SHOWN_CONFLICTS: Final = 10
"""Conflicts told one by one; the others are counted (all are on the conflicts sheet)."""


def tell_merge(context: RunContext, merge: Merge) -> None:
    context.progress(
        f"merged into {len(merge.rows)} Network Ids: {merge.collapsed} identical rows "
        f"collapsed, {merge.agreeing} agreeing rows kept once, {len(merge.conflicts)} conflicts"
    )
    for conflict in merge.conflicts[:SHOWN_CONFLICTS]:
        symbols = " vs ".join(symbol or "?" for symbol in conflict.institutions)
        context.progress(
            f"conflict {conflict.network_id}: {symbols} ({disagreement(conflict)}); "
            f"{conflict.kept.institution or 'the first report'}'s row kept"
        )
    if len(merge.conflicts) > SHOWN_CONFLICTS:
        context.progress(
            f"… and {len(merge.conflicts) - SHOWN_CONFLICTS} more on the conflicts sheet"
        )


def tell_split(context: RunContext, split: Split, comparison: Comparison) -> None:
    parts = [f"{p.institution.code} {len(p.rows)}" for p in split.institutions]
    if split.unknown:
        parts.append(f"unknown suffix {len(split.unknown)}")
    context.progress(
        f"NZ {len(split.nz)} (DIFF {len(comparison.diff)}, SAME {len(comparison.same)})"
        + "".join(f", {part}" for part in parts)
    )


def tell_classification(context: RunContext, result: Classification) -> None:
    counts = result.counts()
    context.progress(", ".join(f"{sheet.value} {counts[sheet]}" for sheet in Sheet))


def left_by_hand(for_import: str, made: NzSetResult | None, any_update: bool) -> str:
    """What the operator still does in Alma (O7, O8)."""
    if not any_update:
        return "nothing to update by job: no Alma step is left"
    importing = f'import {for_import} with the import profile "{IMPORT_PROFILE}"'
    if made is None:
        return (
            f"left by hand in Alma: an itemized set of all titles from {SET_IDS_FILE}, the job "
            f'"{JOB_TITLE}" run on it, then {importing}'
        )
    if made.instance is None:
        return (
            f'left by hand in Alma: run the job "{JOB_TITLE}" on set {made.set_id}, then '
            f"{importing}"
        )
    return (
        f"left by hand in Alma: {importing} (set {made.set_id} made, job instance "
        f"{made.instance.instance_id} ended {made.instance.status_value})"
    )
