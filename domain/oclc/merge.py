"""Rule O2: the bib processing reports of several institutions merged on Network Id.

- Identical rows (all five values equal) collapse into one, silently: a report may repeat a line
  (Princeton's ``…mrc_1`` report does).
- Rows for one Network Id that agree on the action and the incoming number keep one row, the
  primary's, and are no conflict (the JobIDs and existing numbers may differ).
- Rows for one Network Id that disagree on the action or the incoming number, whether they come
  from two institutions or from one report, are a `Conflict`: the primary institution's row is
  kept and every row is listed, so the operator sees what upstream resolved silently by sort
  order (fix; the reference inputs hold 5).

Which row wins: a row of the ``primary`` institution (the OCLC symbol of its JobID, O1) before
any other; among equals, the earlier report given, then the earlier line. Without ``primary``
the first report given wins, which is upstream's outcome for the reference inputs (there CEF
sorts before UWO).

The merged rows come in upstream's order: sorted on the five values as text, column by column
(upstream's ``pd.merge(how="outer")`` sorts them so; see `ReportRow.sort_key`). The conflicts come
in the order of their kept rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.oclc.report_rows import COLUMNS, ReportRow

__all__ = ["Conflict", "Merge", "merge_reports"]

_ACTION, _INCOMING = COLUMNS[4], COLUMNS[3]


@dataclass(frozen=True)
class Conflict:
    """Rule O2: rows for one Network Id that disagree on the action or the incoming number.

    ``rows`` holds each distinct row once, the kept one first, the others in the order that
    would have kept them (primary institution, then report, then line).
    """

    network_id: str
    rows: tuple[ReportRow, ...]

    @property
    def kept(self) -> ReportRow:
        """The row the merge keeps (the primary's)."""
        return self.rows[0]

    @property
    def set_aside(self) -> tuple[ReportRow, ...]:
        """The rows the merge does not keep."""
        return self.rows[1:]

    @property
    def disagreement(self) -> tuple[str, ...]:
        """The columns the rows disagree on, of ``Incoming 035a`` and ``Action``."""
        differing = []
        if len({row.incoming_035a for row in self.rows}) > 1:
            differing.append(_INCOMING)
        if len({row.action for row in self.rows}) > 1:
            differing.append(_ACTION)
        return tuple(differing)

    @property
    def institutions(self) -> tuple[str | None, ...]:
        """The OCLC symbol of each row, in the order of ``rows``."""
        return tuple(row.institution for row in self.rows)


@dataclass(frozen=True)
class Merge:
    """Rule O2: one row per Network Id (in upstream's order), the conflicts, and how many input
    rows were dropped as identical (``collapsed``) or as agreeing with the kept row
    (``agreeing``)."""

    rows: tuple[ReportRow, ...]
    conflicts: tuple[Conflict, ...]
    collapsed: int
    agreeing: int

    @property
    def conflicted_ids(self) -> frozenset[str]:
        return frozenset(conflict.network_id for conflict in self.conflicts)


def merge_reports(reports: Iterable[Iterable[ReportRow]], *, primary: str | None = None) -> Merge:
    """Rule O2: merge the reports' rows on Network Id (see the module's docstring).

    ``reports`` are in the order the operator gave them, each its rows in line order;
    ``primary`` is the OCLC symbol whose rows win, ``None`` for "the first report given".
    """
    first: dict[str, ReportRow] = {}
    later: dict[str, list[ReportRow]] = {}
    collapsed = 0
    for rows in reports:
        for row in rows:
            known = first.get(row.network_id)
            if known is None:
                first[row.network_id] = row
                continue
            others = later.setdefault(row.network_id, [])
            if row == known or row in others:
                collapsed += 1
            else:
                others.append(row)
    conflicts: list[Conflict] = []
    agreeing = 0
    for network_id, others in later.items():
        if not others:
            continue
        ranked = _ranked([first[network_id], *others], primary)
        kept = ranked[0]
        first[network_id] = kept
        if all(_agree(kept, row) for row in ranked[1:]):
            agreeing += len(ranked) - 1
        else:
            conflicts.append(Conflict(network_id, ranked))
    conflicts.sort(key=lambda conflict: conflict.kept.sort_key)
    return Merge(_in_order(first.values()), tuple(conflicts), collapsed, agreeing)


def _in_order(rows: Iterable[ReportRow]) -> tuple[ReportRow, ...]:
    """The rows sorted on `ReportRow.sort_key`: on the JobID first (a key that costs no new
    object; a million five-value keys would cost some 100 MB), then each run of rows sharing
    a JobID on the whole key. The sort is stable, so this is the order of one sort on the
    whole key."""
    ordered = sorted(rows, key=_job_id)
    start = 0
    while start < len(ordered):
        job_id = ordered[start].job_id
        end = start + 1
        while end < len(ordered) and ordered[end].job_id == job_id:
            end += 1
        if end - start > 1:
            ordered[start:end] = sorted(ordered[start:end], key=_sort_key)
        start = end
    return tuple(ordered)


def _job_id(row: ReportRow) -> str:
    return row.job_id


def _sort_key(row: ReportRow) -> tuple[str, str, str, str, str]:
    return row.sort_key


def _ranked(rows: list[ReportRow], primary: str | None) -> tuple[ReportRow, ...]:
    """The rows in the order that keeps them: the primary's first, then arrival order."""
    if primary is None:
        return tuple(rows)
    return tuple(sorted(rows, key=lambda row: row.institution != primary))


def _agree(a: ReportRow, b: ReportRow) -> bool:
    return a.action == b.action and a.incoming_035a == b.incoming_035a
