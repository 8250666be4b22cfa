"""Rule O1: one row of an OCLC WorldShare "Bibliographic Processing Report", and the ways a line
or a whole report is refused.

A report is pipe-delimited, without a header, five columns a line: JobID, Network Id, Existing
035a, Incoming 035a, Action (the names upstream gives them, `COLUMNS`). Every value is text and
stays text everywhere, never a number (fix: upstream reads the merged CSV back as numbers); an
empty value is ``None``. Splitting lines and decoding bytes is the adapter's
(`adapters.oclc.reports`); the rules about the values are here.

A row's institution is the OCLC symbol before the first ``_`` of its JobID
(``CEF_1012688_1748084545832::bib::1989804`` → ``CEF``). An action OCLC does not document is
kept as it is written and its `Action` is `Action.UNKNOWN`, which rule O6 routes to review.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from domain.shared.errors import DomainError

__all__ = [
    "COLUMNS",
    "Action",
    "EmptyReport",
    "ExceptionReportGiven",
    "LineProblem",
    "NotUtf8Report",
    "ParsedReport",
    "ReportRow",
    "UnusableReport",
    "report_institutions",
    "row_from_fields",
]

COLUMNS: Final[tuple[str, str, str, str, str]] = (
    "JobID",
    "Network Id",
    "Existing 035a",
    "Incoming 035a",
    "Action",
)
"""The five columns of a bib processing report, named as upstream names them (O1, O3)."""


class Action(StrEnum):
    """Rule O1: what OCLC did with one record. `UNKNOWN` stands for any other word (or none);
    the row keeps its own text and rule O6 sends it to review."""

    MATCH = "match"
    CREATE = "create"
    REPLACE = "replace"
    FIELD_TRANSFER = "field transfer"
    UNRESOLVED = "unresolved"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, text: str | None) -> Action:
        """The action a report's text names, exactly as OCLC writes it; `UNKNOWN` otherwise."""
        known = _KNOWN_ACTIONS.get(text or "")
        return known if known is not None else cls.UNKNOWN


_KNOWN_ACTIONS: Final[dict[str, Action]] = {
    action.value: action for action in Action if action is not Action.UNKNOWN
}


@dataclass(frozen=True, slots=True)
class ReportRow:
    """Rule O1: one line of a bib processing report, every value text, an empty one ``None``.

    The JobID and the Network Id are never empty: a line without them cannot be merged (O2) or
    split (O3), so it is a `LineProblem` instead (`row_from_fields`).
    """

    job_id: str
    network_id: str
    existing_035a: str | None
    incoming_035a: str | None
    action: str | None

    def __post_init__(self) -> None:
        if not self.job_id or not self.network_id:
            raise DomainError(
                f"a report row needs a JobID and a Network Id (got {self.job_id!r}, "
                f"{self.network_id!r})"
            )
        if "" in (self.existing_035a, self.incoming_035a, self.action):
            raise DomainError(
                f"an empty value of a report row is None, not '' (Network Id {self.network_id})"
            )

    @property
    def institution(self) -> str | None:
        """Rule O1: the OCLC symbol before the first ``_`` of the JobID; ``None`` when the JobID
        has no ``_`` or starts with one."""
        symbol, underscore, _ = self.job_id.partition("_")
        return symbol if underscore and symbol else None

    @property
    def kind(self) -> Action:
        """Rule O1: the `Action` this row's action text names (`Action.UNKNOWN` if none)."""
        return Action.of(self.action)

    @property
    def values(self) -> tuple[str, str, str | None, str | None, str | None]:
        """The five values in `COLUMNS` order."""
        return (
            self.job_id,
            self.network_id,
            self.existing_035a,
            self.incoming_035a,
            self.action,
        )

    @property
    def sort_key(self) -> tuple[str, str, str, str, str]:
        """Upstream's row order (O2, O3): the five values compared as text, column by column,
        an empty one as ``""``."""
        return (
            self.job_id,
            self.network_id,
            self.existing_035a or "",
            self.incoming_035a or "",
            self.action or "",
        )


@dataclass(frozen=True, slots=True)
class LineProblem:
    """Rule O1: a line that was skipped, where it is (``file:line``, counted from 1) and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class ParsedReport:
    """Rule O1: the rows of one report in line order, and the lines that were skipped."""

    file: str
    rows: tuple[ReportRow, ...]
    problems: tuple[LineProblem, ...] = ()

    @property
    def institutions(self) -> tuple[str, ...]:
        """Rule O1: the report's institution(s); see `report_institutions`."""
        return report_institutions(self.rows)


def row_from_fields(fields: Sequence[str], *, file: str, line: int) -> ReportRow | LineProblem:
    """Rule O1: the five values of one line as a row, each exactly as written (spaces and leading
    zeros kept), an empty one ``None``; or the problem that skips the line: another number of
    columns, or no JobID or Network Id."""
    if len(fields) != len(COLUMNS):
        return LineProblem(
            file,
            line,
            f"{len(fields)} columns where a bib processing report has {len(COLUMNS)}",
        )
    job_id, network_id, existing, incoming, action = fields
    for name, value in (("JobID", job_id), ("Network Id", network_id)):
        if not value:
            return LineProblem(file, line, f"no {name}")
    if incoming == existing:
        incoming = existing  # one string for both: most rows repeat the number (memory)
    return ReportRow(
        job_id, network_id, existing or None, incoming or None, sys.intern(action) or None
    )


def report_institutions(rows: Iterable[ReportRow]) -> tuple[str, ...]:
    """Rule O1: the OCLC symbols of the rows' JobIDs, each once, in the order they first appear.
    A report from one institution has exactly one; JobIDs without a symbol add none."""
    seen: dict[str, None] = {}
    for row in rows:
        symbol = row.institution
        if symbol is not None:
            seen.setdefault(symbol, None)
    return tuple(seen)


# A report the run cannot use at all (B2) -------------------------------------------------------


@dataclass(eq=False)
class UnusableReport(Exception):
    """Rule B2: a report the run cannot use at all. The adapter reading it raises one; the use
    case ends the run ``failed`` with `sentence`, one sentence naming the file."""

    file: str
    reason: str
    problems: tuple[LineProblem, ...] = ()

    def __post_init__(self) -> None:
        Exception.__init__(self, self.sentence)

    @property
    def sentence(self) -> str:
        return f"report {self.file} {self.reason}"

    def __str__(self) -> str:
        return self.sentence


class EmptyReport(UnusableReport):
    """Rule O1/B2: a report with no row at all (no line, or every line skipped)."""


class ExceptionReportGiven(UnusableReport):
    """Rule O1/B2: an OCLC Bibliographic *Exception* Report (7 columns) given where a processing
    report was expected; it is refused, not parsed."""


class NotUtf8Report(UnusableReport):
    """Rule O1/B2: a report none of whose lines is UTF-8 (Latin-1, Windows-1252, UTF-16)."""
