"""The run records of the OCLC data-sync merge (rules B1, B2, O1–O7): one per Network Id, saying
which file or sheet it went to and why, and one per skipped report line.

Kinds and outcomes:

* ``line`` (key ``file:line``): a line O1 skipped, ``failed`` (the run ends partial, B2).
* ``network_id`` (key: the Network Id, exactly as the report wrote it): every merged row once.
  ``ok`` where the row is taken up: SAME (nothing to change), an institution's
  ``{code}bibprocess.csv``, ``update by job``, ``updated records``. ``skipped`` where a rule
  leaves it to a person: ``do_not_change``, ``records for review``, ``not in analytics``,
  ``unknown_suffix.csv``, and every DIFF row when there is no doublecheck to classify it. A
  conflicted Network Id (O2) says so in its reason and carries every row of the conflict in its
  detail; the conflict alone never fails it (the ``conflicts`` sheet shows it to the operator).
* ``note`` (key: what it is about): a run-level remark, ``skipped`` (classification without a
  doublecheck), so that ``almabridge runs show`` tells it too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Final

from application.shared.ledger_records import JsonObject, JsonValue
from application.shared.run_context import RunContext
from application.shared.run_records import RecordEntry, RecordOutcome
from domain.oclc.classification import Classification, Sheet
from domain.oclc.comparison import COMPARISON_FILE, Comparison
from domain.oclc.merge import Conflict
from domain.oclc.report_rows import LineProblem, ReportRow
from domain.oclc.split import MERGED_FILE, UNKNOWN_SUFFIX_FILE, Split

__all__ = [
    "LINE",
    "NETWORK_ID",
    "NOTE",
    "NZ_JOB",
    "NZ_SET",
    "SHEET_OUTCOMES",
    "conflict_detail",
    "disagreement",
    "line_entries",
    "network_id_entries",
    "record_network_ids",
]

LINE: Final = "line"
NETWORK_ID: Final = "network_id"
NOTE: Final = "note"
NZ_SET: Final = "nz_set"
NZ_JOB: Final = "nz_job"

OK, SKIPPED = RecordOutcome.OK, RecordOutcome.SKIPPED

SHEET_OUTCOMES: Final[Mapping[Sheet, RecordOutcome]] = {
    Sheet.UPDATE_BY_JOB: OK,
    Sheet.UPDATED_RECORDS: OK,
    Sheet.DO_NOT_CHANGE: SKIPPED,
    Sheet.FOR_REVIEW: SKIPPED,
    Sheet.NOT_IN_ANALYTICS: SKIPPED,
}
"""O6: a sheet that acts on the NZ record (or finds it done) is ok; one left to a person is
skipped, which alone keeps the run ok (B2)."""


def line_entries(problems: Sequence[LineProblem]) -> list[RecordEntry]:
    """O1: each skipped line, ``failed`` under ``file:line``."""
    return [
        RecordEntry(f"{p.file}:{p.line}", RecordOutcome.FAILED, f"line skipped: {p.reason}")
        for p in problems
    ]


def conflict_detail(conflict: Conflict) -> JsonObject:
    """O2: every row of a conflict, the kept one first, as the run record's detail."""
    rows: list[JsonValue] = [
        {
            "institution": row.institution,
            "job_id": row.job_id,
            "existing_035a": row.existing_035a,
            "incoming_035a": row.incoming_035a,
            "action": row.action,
            "kept": index == 0,
        }
        for index, row in enumerate(conflict.rows)
    ]
    differ: list[JsonValue] = list(conflict.disagreement)
    return {"conflict": {"disagreement": differ, "rows": rows}}


def _conflict_reason(conflict: Conflict) -> str:
    kept = conflict.kept.institution or "the first report"
    others = ", ".join(f"{row.institution or '?'}'s" for row in conflict.set_aside)
    return (
        f"; conflict: {kept}'s row kept over {others} ({disagreement(conflict)}), every row on the "
        "conflicts sheet"
    )


def disagreement(conflict: Conflict) -> str:
    """What the rows of a conflict disagree on, as a clause: ``Action differs``."""
    columns = conflict.disagreement
    return f"{' and '.join(columns)} {'differs' if len(columns) == 1 else 'differ'}"


def _number(value: str | None) -> str:
    return "none" if value is None else value


def network_id_entries(
    split: Split,
    comparison: Comparison,
    conflicts: Sequence[Conflict],
    *,
    nz_suffix: str,
    classification: Classification | None,
    report_name: str | None,
    do_not_change: Collection[str] = frozenset(),
) -> Iterator[RecordEntry]:
    """One record per merged Network Id (see the module text), the NZ's in DIFF then SAME
    order, then each institution's, then the unknown suffixes; made one at a time, so that a
    million ids never sit in memory twice."""
    by_id = {conflict.network_id: conflict for conflict in conflicts}

    def entry(row: ReportRow, outcome: RecordOutcome, reason: str) -> RecordEntry:
        conflict = by_id.get(row.network_id) if by_id else None
        if conflict is None:
            return RecordEntry(row.network_id, outcome, reason)
        return RecordEntry(
            row.network_id, outcome, reason + _conflict_reason(conflict), conflict_detail(conflict)
        )

    if classification is not None and report_name is not None:
        for placement in classification.placements:
            reason = f"{placement.sheet.value} in {report_name}: {placement.reason}"
            yield entry(placement.row, SHEET_OUTCOMES[placement.sheet], reason)
    else:
        for row in comparison.diff:
            held = ", on the do-not-change list" if row.network_id in do_not_change else ""
            reason = (
                f"DIFF in {COMPARISON_FILE}: existing 035a {_number(row.existing_035a)}, "
                f"incoming {_number(row.incoming_035a)}{held}; not classified, as "
                "classification needs a doublecheck (--doublecheck or --analytics-institution)"
            )
            yield entry(row, SKIPPED, reason)
    for row in comparison.same:
        number = row.existing_035a
        same = f"both {number}" if number is not None else "both empty"
        reason = f"SAME in {COMPARISON_FILE} and {MERGED_FILE}: existing and incoming 035a {same}"
        yield entry(row, OK, reason)
    for part in split.institutions:
        institution = part.institution
        reason = (
            f"{institution.file_name}: {institution.name}'s record (suffix "
            f"{institution.suffix}), not the Network Zone's"
        )
        for row in part.rows:
            yield entry(row, OK, reason)
    for row in split.unknown:
        reason = (
            f"{UNKNOWN_SUFFIX_FILE}: its suffix {row.network_id[-4:]!r} is neither the Network "
            f"Zone's ({nz_suffix}) nor an institution's of the table"
        )
        yield entry(row, SKIPPED, reason)


async def record_network_ids(
    context: RunContext, entries: Iterable[RecordEntry], chunk: int, total: int
) -> None:
    """Record ``entries`` (kind ``network_id``) ``chunk`` to a committed write (B1, B5): a
    million ids in a hundred commits, not a million."""
    batch: list[RecordEntry] = []
    done = 0
    for entry in entries:
        batch.append(entry)
        if len(batch) >= chunk:
            await context.record_many(NETWORK_ID, batch)
            done += len(batch)
            batch = []
            context.progress(f"recorded {done} of {total} Network Ids")
    if batch:
        await context.record_many(NETWORK_ID, batch)
