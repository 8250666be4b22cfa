"""The WEST holdings export's pure rules (WORKFLOWS.md §H): H1 ids, H3 normalising a holdings
record, H4 the tag filter, H5 output names and report rows. Alma calls (H2) and file writing are
the use case's and the adapters'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from domain.shared.errors import DomainError
from domain.shared.marc import MarcRecord

DEFAULT_REQUIRED_TAGS: tuple[str, ...] = ("583",)
"""WEST's retention note: a holding without one is not part of the WEST commitment (H4)."""

Outcome = Literal["ok", "skipped", "failed"]

# Report reasons the rules name (H2, H4); the use case adds Alma's and the input's own.
NO_HOLDINGS = "no holdings"
NOT_IN_ALMA = "not in Alma"


# H1 ------------------------------------------------------------------------------------------


def clean_mms_ids(raw: Iterable[str]) -> tuple[str, ...]:
    """Rule H1: ids stripped of surrounding whitespace, empty ones dropped, the first of each
    duplicate kept, input order otherwise."""
    seen: dict[str, None] = {}
    for value in raw:
        mms_id = value.strip()
        if mms_id:
            seen.setdefault(mms_id, None)
    return tuple(seen)


# H3 ------------------------------------------------------------------------------------------


def stamp_005(moment: datetime) -> str:
    """Rule H3: the run's 005, ``YYYYMMDDHHMMSS.0``, from the moment the caller chose (B3 makes
    that the local time of the machine, once per run)."""
    return moment.strftime("%Y%m%d%H%M%S") + ".0"


def normalise_holding(
    record: MarcRecord,
    *,
    mms_id: str,
    holding_id: str,
    org_code: str | None,
    stamp: str | None,
) -> MarcRecord:
    """Rule H3: ``001`` = holding id, ``004`` = MMS id, ``003`` = ``org_code`` and ``005`` =
    ``stamp`` only when given (Alma's own stay otherwise).

    Each is replaced where it exists and never duplicated; the control fields end in tag order
    (Alma's own are not always: its 005 may follow 009) and data fields keep their order.
    """
    if not holding_id.strip() or not mms_id.strip():
        raise DomainError(
            f"a holdings record needs a holding id and an MMS id (got {holding_id!r}, {mms_id!r})"
        )
    wanted = {"001": holding_id, "004": mms_id}
    if org_code is not None:
        wanted["003"] = org_code
    if stamp is not None:
        wanted["005"] = stamp
    for tag, value in wanted.items():
        record = record.with_control_field(tag, value)
    return record.with_control_fields_in_tag_order()


# H4 ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeepDecision:
    """Rule H4's verdict on one record: kept, or skipped with the reason for the report."""

    keep: bool
    reason: str | None = None


def skip_reason(tags: Sequence[str]) -> str:
    """Rule H4's reason naming the tags: ``no 583``, ``no 583 or 584``, ``no 561, 583 or 584``."""
    names = _tags(tags)
    if len(names) == 1:
        return f"no {names[0]}"
    return f"no {', '.join(names[:-1])} or {names[-1]}"


def missing_required_tags(record: MarcRecord, tags: Sequence[str] = DEFAULT_REQUIRED_TAGS) -> bool:
    """Rule H4: True when no data field of ``record`` has one of ``tags``."""
    return not record.has_data_field(_tags(tags))


def keep_decision(record: MarcRecord, tags: Sequence[str] = DEFAULT_REQUIRED_TAGS) -> KeepDecision:
    """Rule H4: keep a record with a data field of one of ``tags``; skip the others with
    `skip_reason`."""
    if missing_required_tags(record, tags):
        return KeepDecision(keep=False, reason=skip_reason(tags))
    return KeepDecision(keep=True)


def _tags(tags: Sequence[str]) -> tuple[str, ...]:
    if isinstance(tags, str):
        tags = (tags,)
    names = tuple(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if not names:
        # An empty filter would skip every record; configuration must refuse it (B9).
        raise DomainError("rule H4 needs at least one required tag")
    return names


# H5 ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WestOutputNames:
    """Rule H5: the three files of one run, written even when no record is kept."""

    xml: str
    mrc: str
    report: str

    def all(self) -> tuple[str, str, str]:
        return (self.xml, self.mrc, self.report)


def output_names(prefix: str, day: date) -> WestOutputNames:
    """Rule H5: ``{prefix}.alma.archived.{YYYYMMDD}.xml``, ``.mrc`` and ``.report.csv``."""
    if not prefix or prefix != prefix.strip() or any(c in prefix for c in "/\\\0"):
        raise DomainError(f"output prefix {prefix!r} is not a file-name part")
    stem = f"{prefix}.alma.archived.{day:%Y%m%d}"
    return WestOutputNames(xml=f"{stem}.xml", mrc=f"{stem}.mrc", report=f"{stem}.report.csv")


@dataclass(frozen=True)
class ReportRow:
    """Rule H5: one line of the report CSV. ``holding_id`` is empty on the row of an MMS id that
    yielded no holding record (no holdings, not in Alma, a failure before any holding)."""

    mms_id: str
    holding_id: str
    outcome: Outcome
    reason: str = ""

    @classmethod
    def for_bib(cls, mms_id: str, outcome: Outcome, reason: str) -> ReportRow:
        """The row of an MMS id that yielded no holding (H5)."""
        return cls(mms_id, "", outcome, reason)


def ordered_report(mms_ids: Sequence[str], rows: Iterable[ReportRow]) -> tuple[ReportRow, ...]:
    """Rule H5's order: the rows of each MMS id in ``mms_ids`` order, each id's rows in the order
    given (Alma's holding order), whatever order concurrent calls (H2) finished in.

    Rows of an id not in ``mms_ids`` (an input record without 001 has none) come first, in the
    order given: they were found while reading the input. An MMS id without any row is a caller
    mistake: H5 wants one row per id at least.
    """
    by_id: dict[str, list[ReportRow]] = {mms_id: [] for mms_id in mms_ids}
    unlisted: list[ReportRow] = []
    for row in rows:
        by_id.get(row.mms_id, unlisted).append(row)
    without = [mms_id for mms_id, found in by_id.items() if not found]
    if without:
        raise DomainError(f"rule H5 needs a report row for MMS id {without[0]}")
    return (*unlisted, *(row for found in by_id.values() for row in found))
