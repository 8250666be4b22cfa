"""Reconciliation's repairs of one barcode's SCF mirror, through the items sync's code (issue 7).

* A missing mirror is made by `ItemMirroring` with `MirrorCreation` (bib I7, holding I8, item
  I9, loan I10) and recorded by `record_outcome`, exactly as the items sync makes one.
* An orphan (or a mirror left behind by a barcode change) is deleted as I12 says; Alma refuses to
  delete an item on loan, so the bridge's transit loan is first ended by a scan-in at the SCF
  circulation desk.
* A barcode the member changed is given to the mirror, which keeps its pid, loan and requests.
* Drift is PUT back as I11 builds it and recorded as the sync's `item.update`.
* A mirror the ledger lost (or never saw made) is only recorded, or forgotten.
"""

from __future__ import annotations

from application.ports.alma.gateway import AlmaGateway
from application.ports.clock import Clock
from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.scf.items.item_mirroring import ItemMirroring
from application.scf.items.item_outcomes import (
    ItemOutcome,
    ItemResult,
    MirrorChange,
    ScfIds,
    alma_reason,
    record_outcome,
)
from application.scf.ports import FailureReports
from application.scf.reconcile.cases import ItemCase
from application.scf.reconcile.loan_repairs import LoanRepairs
from application.scf.reconcile.repair_results import (
    RECONCILE_SOURCE,
    Repaired,
    RepairImpossible,
    repair_failed,
    repair_ok,
    scf_item_of,
)
from application.scf.reconcile.report import RepairResult
from application.shared.alma import AlmaError, AlmaStop, ItemNotFound
from application.shared.ledger_records import MirrorState, Outcome
from domain.scf.items.decisions import ItemAction
from domain.scf.items.item_records import member_fingerprint, updated_scf_item
from domain.scf.items.published import PublishedItem
from domain.scf.naming import nz_mms_id, scf_barcode
from domain.scf.reconciliation import ON_LOAN, Finding, current_location
from domain.shared.alma_json import at, text_at


class MirrorRepairs:
    """The mirror repairs of one member institution's findings."""

    def __init__(
        self,
        *,
        scf: AlmaGateway,
        ledger: Ledger,
        reports: FailureReports,
        clock: Clock,
        institution: str,
        mirroring: ItemMirroring,
        loans: LoanRepairs,
    ) -> None:
        self._scf = scf
        self._ledger = ledger
        self._reports = reports
        self._clock = clock
        self._inst = institution
        self._mirroring = mirroring
        self._loans = loans

    async def create(self, case: ItemCase, finding: Finding) -> Repaired:
        """I7-I10 through the items sync's own code, after closing the stale ledger row: with
        the row still live, `ItemMirroring` would trust it and make no SCF call."""
        if case.row is not None:
            async with self._ledger.unit_of_work() as uow:
                await uow.items.mark_deleted(self._inst, case.barcode)
                await uow.commit()
        outcome = await self._mirroring.mirror(self._published(case))
        await record_outcome(self._ledger, self._reports, self._clock, outcome, None)
        if isinstance(outcome.error, AlmaStop):
            raise outcome.error
        if outcome.result is ItemResult.FAILED:
            code = outcome.error.error_code if outcome.error else None
            return repair_failed(outcome.message, code, result=outcome.result.value)
        return repair_ok(outcome.message, result=outcome.result.value)

    async def delete(self, case: ItemCase, finding: Finding) -> Repaired:
        """I12; an item on loan (the bridge's transit loan) is scanned in first."""
        scf = scf_item_of(case)
        ids = ScfIds.of_item(scf)
        mirror = scf_barcode(case.barcode)
        scanned = False
        if scf.process_type == ON_LOAN:
            await self._loans.scan_in(ids)
            scanned = True
        try:
            await self._scf.delete_item(ids.mms_id, ids.holding_id, ids.item_pid)
            message = f"deleted {mirror}: {finding.message}"
        except ItemNotFound:
            message = f"{mirror} was already gone from the SCF"
        except AlmaError as error:
            reason = alma_reason(error)
            if scanned and case.row is not None:
                # The loan is over even though the item stays: R7 must not count it as transit.
                barcode = case.barcode

                async def returned(uow: LedgerUnitOfWork) -> None:
                    await uow.items.mark_loan_returned(self._inst, barcode)

                return Repaired(
                    RepairResult(Outcome.FAILED, f"scanned in, but {reason}", error.error_code),
                    returned,
                )
            return repair_failed(reason, error.error_code)
        outcome = ItemOutcome(
            self._published(case),
            ItemResult.DELETED,
            ItemAction.DELETE,
            message,
            scf=ids,
            mirror=MirrorChange.DELETED,
        )
        await record_outcome(self._ledger, self._reports, self._clock, outcome, None)
        return repair_ok(message, scanned_in=scanned, scf_item_pid=ids.item_pid)

    async def move(self, case: ItemCase, finding: Finding) -> Repaired:
        """The member changed the barcode: the mirror takes `{new}X`, keeping its pid, loan and
        requests, and the ledger row moves to the new barcode."""
        new, member, row = finding.new_barcode, case.renamed_member, case.row
        if new is None or member is None or row is None:
            raise RepairImpossible("the member item under its new barcode is not known")
        scf = scf_item_of(case)
        ids = ScfIds.of_item(scf)
        update = updated_scf_item(scf.raw, member.raw)
        body = update.body
        body["item_data"]["barcode"] = scf_barcode(new)
        await self._scf.update_item(ids.mms_id, ids.holding_id, ids.item_pid, body)
        old_mirror, new_mirror = scf_barcode(case.barcode), scf_barcode(new)
        message = f"gave {old_mirror} the member's new barcode: it is now {new_mirror}"
        fingerprint = member_fingerprint(member.raw)
        inst, old = self._inst, case.barcode

        async def moved(uow: LedgerUnitOfWork) -> None:
            await uow.items.mark_deleted(inst, old)
            await uow.items.upsert(
                inst,
                new,
                scf_mms_id=ids.mms_id,
                scf_holding_id=ids.holding_id,
                scf_item_pid=ids.item_pid,
                member_mms_id=row.member_mms_id or member.mms_id,
                nz_mms_id=row.nz_mms_id,
                member_item_pid=member.pid,
                fingerprint=fingerprint,
                state=row.state,
            )
            if row.in_transit_loan:
                await uow.items.mark_loan(inst, new)  # the same loan, now under the new barcode
            await uow.events.append(
                "item.update",
                Outcome.OK,
                institution=inst,
                barcode=new,
                message=f"{message} (was {old})",
                details={
                    "result": ItemResult.UPDATED.value,
                    "file": RECONCILE_SOURCE,
                    "previous_barcode": old,
                    "scf_mms_id": ids.mms_id,
                    "scf_holding_id": ids.holding_id,
                    "scf_item_pid": ids.item_pid,
                    "member_item_pid": member.pid,
                    "changed_fields": ["barcode", *update.changed_fields],
                },
            )

        return repair_ok(message, moved, new_barcode=new, scf_item_pid=ids.item_pid)

    async def update(self, case: ItemCase, finding: Finding) -> Repaired:
        """I11: the member's metadata over the SCF item as it is now, recorded as the sync's
        update (with the member's fingerprint, so the next sync needs no SCF call)."""
        scf, member = scf_item_of(case), case.member
        if member is None:
            raise RepairImpossible("the member item is gone")
        update = updated_scf_item(scf.raw, member.raw)
        if not update.changed:
            return repair_ok("nothing differs any more")
        ids = ScfIds.of_item(scf)
        await self._scf.update_item(ids.mms_id, ids.holding_id, ids.item_pid, update.body)
        fields = ", ".join(update.changed_fields)
        message = f"updated {fields} of {scf_barcode(case.barcode)} (it had drifted in the SCF)"
        outcome = ItemOutcome(
            self._published(case),
            ItemResult.UPDATED,
            ItemAction.UPDATE,
            message,
            scf=ids,
            mirror=MirrorChange.UPSERT,
            member_item_pid=member.pid,
            fingerprint=member_fingerprint(member.raw),
            loan_owed=case.row is not None and case.row.owes_loan,
            changed_fields=update.changed_fields,
        )
        await record_outcome(self._ledger, self._reports, self._clock, outcome, None)
        return repair_ok(message, changed_fields=list(update.changed_fields))

    # ---- the ledger alone ------------------------------------------------------------------

    async def forget(self, case: ItemCase, finding: Finding) -> Repaired:
        inst, barcode = self._inst, case.barcode

        async def forgotten(uow: LedgerUnitOfWork) -> None:
            await uow.items.mark_deleted(inst, barcode)

        return repair_ok("marked the ledger row deleted", forgotten)

    async def record_mirror(self, case: ItemCase, finding: Finding) -> Repaired:
        ids = ScfIds.of_item(scf_item_of(case))
        item, row, member = self._published(case), case.row, case.member

        async def record(uow: LedgerUnitOfWork) -> None:
            await uow.items.upsert(
                self._inst,
                case.barcode,
                scf_mms_id=ids.mms_id,
                scf_holding_id=ids.holding_id,
                scf_item_pid=ids.item_pid,
                member_mms_id=item.member_mms_id or None,
                nz_mms_id=item.nz_mms_id,
                member_item_pid=member.pid if member else (row.member_item_pid if row else None),
                # No fingerprint: the next sync compares with the SCF item once more (I11).
                fingerprint=None,
                state=row.state if row is not None else MirrorState.MIRRORED,
            )

        return repair_ok(f"recorded SCF item {ids.item_pid} as the mirror", record)

    def _published(self, case: ItemCase) -> PublishedItem:
        """The published item to mirror: the file's, else one built from the member item and
        the ledger row as the file would have described it (I3)."""
        if case.published is not None:
            return case.published
        member, row = case.member, case.row
        library = location = note = nz_id = None
        if member is not None:
            library, location = current_location(member.raw)
            note = text_at(member.raw, "item_data", "internal_note_2")
            numbers = at(member.raw, "bib_data", "network_number")
            nz_id = nz_mms_id(numbers if isinstance(numbers, list) else [])  # N5
        if row is not None and row.nz_mms_id:
            nz_id = row.nz_mms_id
        mms_id = (row.member_mms_id if row else None) or (member.mms_id if member else None)
        return PublishedItem(
            institution=self._inst,
            member_mms_id=mms_id or "",
            nz_mms_id=nz_id,
            barcode=case.barcode,
            library=library,
            location=location,
            internal_note_2=note,
            deleted=False,
            source_file=RECONCILE_SOURCE,
            record_position=0,
        )
