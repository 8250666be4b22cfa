"""One MMS id of the WEST export: its holdings list, then each holdings record (rules H2–H4, B1,
B2, B5).

Every MMS id and every holding is a run record, recorded as soon as it is done (B1, B5):

* ``mms_id``: ok with its holding ids (the detail a resume reads instead of listing again),
  skipped ``no holdings``, or failed (``not in Alma``, an Alma error after retries);
* ``holding``: ok with Alma's own MARCXML in the detail (a resume normalises it again, so its
  outputs equal an uninterrupted run's except 005), skipped ``no 583`` (H4), or failed.

A failure is that record's alone (B2): `AlmaError` is caught, `AlmaStop` (the daily quota) goes
up and stops the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from application.ports.alma.holdings import HoldingHasNoRecord, HoldingNotFound, HoldingsReader
from application.shared.alma import AlmaError, BibNotFound
from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunContext
from application.shared.run_records import RecordOutcome, RunRecord
from application.west.ports import HoldingMarc, UnreadableMarc
from domain.shared.errors import DomainError
from domain.shared.marc import MarcRecord
from domain.west.holdings_record import (
    NO_HOLDINGS,
    NOT_IN_ALMA,
    ReportRow,
    keep_decision,
    normalise_holding,
)

__all__ = ["HOLDING", "MMS_ID", "BibExport", "BibResult", "ExportRules"]

MMS_ID = "mms_id"
HOLDING = "holding"

NO_RECORD = "no MARC record in Alma's answer"
HOLDING_NOT_IN_ALMA = "holding not in Alma"


@dataclass(frozen=True)
class ExportRules:
    """What rules H3 and H4 are told for one run: the 003 and the one 005 stamp (None: Alma's
    own stay), and the tags a kept record must have."""

    org_code: str | None
    stamp: str | None
    require_tags: tuple[str, ...]


@dataclass
class BibResult:
    """What one MMS id gives the outputs: its kept records and its report rows, in Alma's
    holding order (H5)."""

    records: list[MarcRecord] = field(default_factory=list)
    rows: list[ReportRow] = field(default_factory=list)


@dataclass(frozen=True)
class _Verdict:
    outcome: RecordOutcome
    report: str


class BibExport:
    """Exports the holdings of one MMS id (see the module text)."""

    def __init__(self, holdings: HoldingsReader, marc: HoldingMarc, rules: ExportRules) -> None:
        self._holdings = holdings
        self._marc = marc
        self._rules = rules

    async def export(self, mms_id: str, context: RunContext) -> BibResult:
        """List the holdings (or read the list a resumed run recorded), then each holding.

        Alma's typed errors fail the record they are about (B2). An error no adapter foresaw
        (a bug) goes up: the runner ends the run `failed` in one line, and `--resume` carries on
        from the records already done (B5); `AlmaStop` likewise ends the run."""
        return await self._export(mms_id, context)

    async def _export(self, mms_id: str, context: RunContext) -> BibResult:
        result = BibResult()
        earlier = context.earlier(MMS_ID, mms_id)
        holding_ids = None if earlier is None else _earlier_holdings(earlier)
        if earlier is not None and earlier.outcome is RecordOutcome.SKIPPED:
            report = _text(earlier.detail.get("report")) or earlier.reason
            result.rows.append(ReportRow.for_bib(mms_id, "skipped", report))
            return result
        if holding_ids is None:
            listed = await self._list(mms_id, context)
            if isinstance(listed, _Verdict):
                skipped = listed.outcome is RecordOutcome.SKIPPED
                row = ReportRow.for_bib(mms_id, "skipped" if skipped else "failed", listed.report)
                result.rows.append(row)
                return result
            holding_ids = listed
        for holding_id in holding_ids:
            record, row = await self._holding(mms_id, holding_id, context)
            if record is not None:
                result.records.append(record)
            result.rows.append(row)
        return result

    async def _list(self, mms_id: str, context: RunContext) -> list[str] | _Verdict:
        """H2: Retrieve Holdings List, recorded at once."""
        try:
            summaries = await self._holdings.holdings_of(mms_id)
        except BibNotFound:
            verdict = _Verdict(RecordOutcome.FAILED, NOT_IN_ALMA)
        except AlmaError as error:
            verdict = _Verdict(RecordOutcome.FAILED, alma_reason(error))
        else:
            holding_ids = list(dict.fromkeys(s.holding_id for s in summaries))
            if holding_ids:
                count = f"{len(holding_ids)} holding" + ("" if len(holding_ids) == 1 else "s")
                listed_ids: list[JsonValue] = [*holding_ids]
                detail: dict[str, JsonValue] = {"holdings": listed_ids}
                await context.record(
                    MMS_ID, mms_id, RecordOutcome.OK, f"MMS id {mms_id}: {count}", detail
                )
                return holding_ids
            verdict = _Verdict(RecordOutcome.SKIPPED, NO_HOLDINGS)
        await context.record(
            MMS_ID,
            mms_id,
            verdict.outcome,
            f"MMS id {mms_id}: {verdict.report}",
            {"report": verdict.report},
        )
        return verdict

    async def _holding(
        self, mms_id: str, holding_id: str, context: RunContext
    ) -> tuple[MarcRecord | None, ReportRow]:
        """H2–H4 for one holding, or what a resumed run recorded of it (B5)."""
        earlier = context.earlier(HOLDING, holding_id)
        if earlier is not None and earlier.outcome is RecordOutcome.SKIPPED:
            report = _text(earlier.detail.get("report")) or earlier.reason
            return None, ReportRow(mms_id, holding_id, "skipped", report)
        raw = None if earlier is None else _text(earlier.detail.get("marcxml"))
        fetched = raw is None
        if raw is None:
            try:
                raw = (await self._holdings.holding_record(mms_id, holding_id)).marcxml
            except HoldingHasNoRecord:
                return await self._failed(context, mms_id, holding_id, NO_RECORD)
            except BibNotFound:
                return await self._failed(context, mms_id, holding_id, NOT_IN_ALMA)
            except HoldingNotFound:
                return await self._failed(context, mms_id, holding_id, HOLDING_NOT_IN_ALMA)
            except AlmaError as error:
                return await self._failed(context, mms_id, holding_id, alma_reason(error))
        shaped = self._shape(mms_id, holding_id, raw)
        name = f"holding {holding_id} of MMS id {mms_id}"
        if isinstance(shaped, _Verdict):
            if shaped.outcome is RecordOutcome.FAILED:
                return await self._failed(context, mms_id, holding_id, shaped.report)
            if fetched:
                detail: dict[str, JsonValue] = {"mms_id": mms_id, "report": shaped.report}
                await context.record(
                    HOLDING, holding_id, shaped.outcome, f"{name}: {shaped.report}", detail
                )
            return None, ReportRow(mms_id, holding_id, "skipped", shaped.report)
        if fetched:
            kept: dict[str, JsonValue] = {"mms_id": mms_id, "marcxml": raw}
            await context.record(HOLDING, holding_id, RecordOutcome.OK, f"{name}: exported", kept)
        return shaped, ReportRow(mms_id, holding_id, "ok")

    def _shape(self, mms_id: str, holding_id: str, raw: str) -> MarcRecord | _Verdict:
        """H3 normalise, H4 filter, and the check that the outputs can carry the record."""
        try:
            record = normalise_holding(
                self._marc.parse(raw),
                mms_id=mms_id,
                holding_id=holding_id,
                org_code=self._rules.org_code,
                stamp=self._rules.stamp,
            )
        except (UnreadableMarc, DomainError) as error:
            return _Verdict(RecordOutcome.FAILED, f"unreadable MARC record: {error}")
        decision = keep_decision(record, self._rules.require_tags)
        if not decision.keep:
            return _Verdict(RecordOutcome.SKIPPED, decision.reason or "left out")
        problem = self._marc.problem(record)
        if problem is not None:
            return _Verdict(RecordOutcome.FAILED, f"cannot be written: {problem}")
        return record

    @staticmethod
    async def _failed(
        context: RunContext, mms_id: str, holding_id: str, report: str
    ) -> tuple[None, ReportRow]:
        await context.record(
            HOLDING,
            holding_id,
            RecordOutcome.FAILED,
            f"holding {holding_id} of MMS id {mms_id}: {report}",
            {"mms_id": mms_id, "report": report},
        )
        return None, ReportRow(mms_id, holding_id, "failed", report)


def alma_reason(error: AlmaError) -> str:
    """A failure as the report says it: the call, Alma's status and message, without the
    tracking id (the same failure gives the same line, B3) and never a key (B4)."""
    parts = [f"Alma could not {error.operation}"]
    if error.http_status is not None:
        parts.append(f"(HTTP {error.http_status})")
    if error.error_message:
        parts.append(f"- {error.error_message}")
    return " ".join(parts)


def _earlier_holdings(record: RunRecord) -> list[str] | None:
    """The holding ids a resumed run listed for an MMS id; None when it recorded no list."""
    listed = record.detail.get("holdings")
    if record.outcome is not RecordOutcome.OK or not isinstance(listed, list):
        return None
    return [value for value in listed if isinstance(value, str)]


def _text(value: JsonValue | None) -> str | None:
    return value if isinstance(value, str) else None
