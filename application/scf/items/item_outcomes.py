"""What happened to one published item, and how it is written down (rules I13, P1).

Every outcome (created, updated, unchanged, deleted, skipped, failed) becomes exactly one ledger
event, written in the same unit of work as the `mirrored_items` change it goes with, so the row
and its event land together or not at all. Failures also go to the `ItemsHandler` CSV report.

Events: `item.create`, `item.update`, `item.delete` (OK, or FAILED with Alma's errorCode),
`item.update` SKIPPED for an unchanged item, `item.skip` SKIPPED when nothing is to be done, and
`item.sync` FAILED when the item failed before an action was chosen. `details` carries the
result, the file name, the member and SCF ids and, for an update, the fields that changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.ports import FailureReports
from application.scf.recorded_via import via_details
from application.scf.reports import ReportName, ReportRow
from application.shared.alma import AlmaFailure, AlmaItem
from application.shared.ledger_records import JsonValue, MirroredItem, MirrorState, Outcome
from domain.scf.items.decisions import ItemAction
from domain.scf.items.published import PublishedItem


class ItemResult(StrEnum):
    """The six outcomes of rule I13."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"
    SKIPPED = "skipped"
    FAILED = "failed"


class MirrorChange(StrEnum):
    """What the outcome does to the barcode's `mirrored_items` row."""

    NONE = "none"
    UPSERT = "upsert"
    DELETED = "deleted"


class CannotMirror(Exception):
    """The record or Alma's answer lacks something the mirror needs (an id, a bib to create)."""


@dataclass(frozen=True)
class ScfIds:
    """Where the SCF mirror is (or was): bib, holding and item pid."""

    mms_id: str
    holding_id: str
    item_pid: str

    @classmethod
    def of_row(cls, row: MirroredItem) -> ScfIds:
        """The ids the ledger keeps for a mirror."""
        return cls(row.scf_mms_id, row.scf_holding_id, row.scf_item_pid)

    @classmethod
    def of_item(cls, item: AlmaItem | None) -> ScfIds:
        """The ids of an SCF item as Alma returned it."""
        if item is None or not (item.mms_id and item.holding_id and item.pid):
            raise CannotMirror("the SCF item Alma returned lacks its bib, holding or pid")
        return cls(item.mms_id, item.holding_id, item.pid)


@dataclass(frozen=True)
class ItemOutcome:
    """The result of mirroring one published item, ready to be recorded."""

    item: PublishedItem
    result: ItemResult
    action: ItemAction
    message: str
    scf: ScfIds | None = None
    mirror: MirrorChange = MirrorChange.NONE
    member_item_pid: str | None = None
    fingerprint: str | None = None
    loaned: bool = False
    loan_owed: bool = False
    """The mirror exists but its I10 loan failed: the row stays LENDING for the next sync."""
    loan_returned: bool = False
    """The bridge returned the mirror's I10 transit loan (I12, before a delete Alma still
    refused): the row no longer counts it as lent."""
    error: AlmaFailure | None = None
    changed_fields: tuple[str, ...] = ()

    @property
    def event_action(self) -> str:
        if self.result is ItemResult.SKIPPED:
            return "item.skip"
        if self.action is ItemAction.NOTHING:
            return "item.sync"
        return f"item.{self.action.value}"

    @property
    def event_outcome(self) -> Outcome:
        if self.result is ItemResult.FAILED:
            return Outcome.FAILED
        if self.result in (ItemResult.UNCHANGED, ItemResult.SKIPPED):
            return Outcome.SKIPPED
        return Outcome.OK

    def details(self) -> dict[str, JsonValue]:
        """What the event's `details` say: result, file, ids, changed fields, Alma's error."""
        item = self.item
        details: dict[str, JsonValue] = {
            "result": self.result.value,
            "file": item.source_file,
            "record": item.record_position,
            "member_mms_id": item.member_mms_id,
            "nz_mms_id": item.nz_mms_id,
            "library": item.library,
            "location": item.location,
        }
        if self.member_item_pid:
            details["member_item_pid"] = self.member_item_pid
        if self.scf is not None:
            details["scf_mms_id"] = self.scf.mms_id
            details["scf_holding_id"] = self.scf.holding_id
            details["scf_item_pid"] = self.scf.item_pid
        if self.changed_fields:
            details["changed_fields"] = list(self.changed_fields)
        if self.action is ItemAction.CREATE and self.scf is not None:
            details["loaned"] = self.loaned
        if self.loan_returned:
            details["loan_returned"] = True
        if self.error is not None:
            details["alma_operation"] = self.error.operation
            details["alma_message"] = self.error.error_message
            details["tracking_id"] = self.error.tracking_id
        return details


def alma_reason(error: AlmaFailure) -> str:
    """Alma's own words for a refusal: its message (and code), else the error's summary."""
    if error.error_message:
        code = f" (errorCode {error.error_code})" if error.error_code else ""
        return f"{error.operation}: {error.error_message}{code}"
    return str(error)


async def record_outcome(
    ledger: Ledger,
    reports: FailureReports,
    clock: Clock,
    outcome: ItemOutcome,
    file_id: int | None,
) -> None:
    """Write the row change and its one event in one unit of work; report a failure (P1)."""
    item = outcome.item
    institution = item.institution
    barcode = item.barcode
    async with ledger.unit_of_work() as uow:
        if barcode is not None and outcome.mirror is MirrorChange.UPSERT and outcome.scf:
            await uow.items.upsert(
                institution,
                barcode,
                scf_mms_id=outcome.scf.mms_id,
                scf_holding_id=outcome.scf.holding_id,
                scf_item_pid=outcome.scf.item_pid,
                member_mms_id=item.member_mms_id,
                nz_mms_id=item.nz_mms_id,
                member_item_pid=outcome.member_item_pid,
                fingerprint=outcome.fingerprint,
                state=MirrorState.LENDING if outcome.loan_owed else MirrorState.MIRRORED,
            )
            if outcome.loaned:
                await uow.items.mark_loan(institution, barcode)
        elif barcode is not None and outcome.mirror is MirrorChange.DELETED:
            await uow.items.mark_deleted(institution, barcode)
        elif barcode is not None and outcome.loan_returned:
            await uow.items.mark_loan_returned(institution, barcode)
        await uow.events.append(
            outcome.event_action,
            outcome.event_outcome,
            institution=institution,
            barcode=barcode,
            message=outcome.message,
            file_id=file_id,
            details={**outcome.details(), **via_details()},
            error_code=outcome.error.error_code if outcome.error else None,
        )
        await uow.commit()
    if outcome.result is ItemResult.FAILED:
        await reports.append(
            ReportRow(
                ReportName.ITEMS,
                clock.now(),
                barcode,
                institution,
                f"Failed to handle item {barcode}: {outcome.message}",
            )
        )
