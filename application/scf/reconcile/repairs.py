"""Carrying out reconciliation's repairs through the services the syncs use (issue 7).

* A missing mirror is made by `ItemMirroring` with `MirrorCreation` (bib I7, holding I8, item
  I9, loan I10) and recorded by `record_outcome`, exactly as the items sync makes one.
* An orphan (or a mirror left behind by a barcode change) is deleted as I12 says; Alma refuses to
  delete an item on loan, so the bridge's transit loan is first ended by a scan-in at the SCF
  circulation desk.
* Drift is PUT back as I11 builds it and recorded as the sync's `item.update`.
* Loans go through `TransitLoans` (I10, with its retries while Alma is not ready).
* A lost SCF request is forwarded again by `RequestForwarding.replay` (R4-R8), after its row is
  set to failed: replay refuses a row still marked forwarded (R6).
* An SCF request whose member request is gone is cancelled through the SCF's bib endpoint.

Each repair returns its result and, when it changes the ledger itself, the writes to make; the
caller writes them in the same unit of work as the `reconcile.<kind>` event (`Reconciliation`).
Alma's refusals come back as the repair's failure; the daily quota (`QuotaExhausted`, or a
replay that hit it: `RunStopped`) goes up to stop the run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.scf.items.item_mirroring import mirroring_for
from application.scf.items.item_outcomes import (
    CannotMirror,
    ItemOutcome,
    ItemResult,
    MirrorChange,
    ScfIds,
    alma_reason,
    record_outcome,
)
from application.scf.items.transit_loans import LoanRetry, TransitLoans
from application.scf.ports import FailureReports
from application.scf.reconcile.facts import ItemCase, RequestCase, is_gone
from application.scf.reconcile.report import RepairResult
from application.scf.requests.forwarding import RequestForwarding
from application.scf.requests.outcomes import Action
from application.shared.alma import AlmaError, AlmaItem, ItemNotFound, QuotaExhausted
from application.shared.ledger_records import (
    JsonValue,
    MirroredItem,
    MirrorState,
    Outcome,
    RequestStatus,
)
from domain.scf.institutions import Consortium
from domain.scf.items.decisions import ItemAction
from domain.scf.items.item_records import member_fingerprint, updated_scf_item
from domain.scf.items.published import PublishedItem
from domain.scf.naming import nz_mms_id, scf_barcode
from domain.scf.reconciliation import (
    ON_LOAN,
    SCF_CANCEL_REASON,
    Finding,
    Repair,
    current_location,
    scf_cancel_note,
)
from domain.shared.alma_json import at, text_at
from domain.shared.errors import DomainError

RECONCILE_SOURCE = "almabridge reconcile"
"""The `file` of the item events a repair writes: no publishing file was read for them."""

LedgerWrites = Callable[[LedgerUnitOfWork], Awaitable[None]]


class RunStopped(Exception):
    """The daily API quota is spent (seen through a service's outcome): stop the run."""


class RepairImpossible(Exception):
    """The facts lack what the repair needs (e.g. the member item under its new barcode)."""


@dataclass(frozen=True)
class Repaired:
    """A repair's result and the ledger writes that go with its `reconcile.<kind>` event."""

    result: RepairResult
    ledger: LedgerWrites | None = None
    details: dict[str, JsonValue] = field(default_factory=dict)


def _ok(message: str, ledger: LedgerWrites | None = None, /, **details: JsonValue) -> Repaired:
    return Repaired(RepairResult(Outcome.OK, message), ledger, dict(details))


def _failed(message: str, error_code: str | None = None, /, **details: JsonValue) -> Repaired:
    return Repaired(RepairResult(Outcome.FAILED, message, error_code), None, dict(details))


class ReconcileRepairs:
    """The repairs of one member institution's findings, within one run."""

    def __init__(
        self,
        *,
        alma: AlmaDirectory,
        ledger: Ledger,
        reports: FailureReports,
        clock: Clock,
        consortium: Consortium,
        forwarding: RequestForwarding,
        institution: str,
        loan_retry: LoanRetry | None,
    ) -> None:
        remote_storage = consortium.remote_storage
        scf = alma.gateway(remote_storage.institution)
        self._ledger = ledger
        self._reports = reports
        self._clock = clock
        self._inst = institution
        self._rs = remote_storage
        self._scf = scf
        self._loans = TransitLoans(scf, remote_storage, loan_retry)
        self._mirroring = mirroring_for(alma, ledger, consortium, institution, self._loans)
        self._forwarding = forwarding

    # ---- dispatch --------------------------------------------------------------------------

    async def item(self, case: ItemCase, finding: Finding) -> Repaired:
        """Carry out the repair of one barcode's finding; Alma's refusal is its failure."""
        repairs: dict[Repair, Callable[[ItemCase, Finding], Awaitable[Repaired]]] = {
            Repair.CREATE_MIRROR: self._create,
            Repair.DELETE_MIRROR: self._delete,
            Repair.MOVE_MIRROR: self._move,
            Repair.UPDATE_MIRROR: self._update,
            Repair.LEND: self._lend,
            Repair.RELEND: self._relend,
            Repair.FORGET_MIRROR: self._forget,
            Repair.RECORD_MIRROR: self._record_mirror,
            Repair.RECORD_LOAN: self._record_loan,
            Repair.RECORD_LOAN_RETURNED: self._record_loan_returned,
        }
        return await self._guarded(repairs[finding.repair](case, finding))

    async def request(self, case: RequestCase, finding: Finding) -> Repaired:
        """Carry out the repair of one forwarded request's finding."""
        if finding.repair is Repair.FORWARD_AGAIN:
            return await self._guarded(self._forward_again(case, finding))
        return await self._guarded(self._cancel_scf_request(case))

    @staticmethod
    async def _guarded(work: Awaitable[Repaired]) -> Repaired:
        try:
            return await work
        except QuotaExhausted:
            raise
        except AlmaError as error:
            return _failed(alma_reason(error), error.error_code)
        except (CannotMirror, DomainError, RepairImpossible) as error:
            return _failed(str(error))

    # ---- mirrors ---------------------------------------------------------------------------

    async def _create(self, case: ItemCase, finding: Finding) -> Repaired:
        """I7-I10 through the items sync's own code, after closing the stale ledger row: with
        the row still live, `ItemMirroring` would trust it and make no SCF call."""
        if case.row is not None:
            async with self._ledger.unit_of_work() as uow:
                await uow.items.mark_deleted(self._inst, case.barcode)
                await uow.commit()
        outcome = await self._mirroring.mirror(self._published(case))
        await record_outcome(self._ledger, self._reports, self._clock, outcome, None)
        if isinstance(outcome.error, QuotaExhausted):
            raise outcome.error
        if outcome.result is ItemResult.FAILED:
            code = outcome.error.error_code if outcome.error else None
            return _failed(outcome.message, code, result=outcome.result.value)
        return _ok(outcome.message, result=outcome.result.value)

    async def _delete(self, case: ItemCase, finding: Finding) -> Repaired:
        """I12; an item on loan (the bridge's transit loan) is scanned in first."""
        scf = self._scf_item(case)
        ids = ScfIds.of_item(scf)
        mirror = scf_barcode(case.barcode)
        scanned = False
        if scf.process_type == ON_LOAN:
            await self._scan_in(ids)
            scanned = True
        try:
            await self._scf.delete_item(ids.mms_id, ids.holding_id, ids.item_pid)
            message = f"deleted {mirror}: {finding.message}"
        except ItemNotFound:
            message = f"{mirror} was already gone from the SCF"
        except AlmaError as error:
            if isinstance(error, QuotaExhausted):
                raise
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
            return _failed(reason, error.error_code)
        outcome = ItemOutcome(
            self._published(case),
            ItemResult.DELETED,
            ItemAction.DELETE,
            message,
            scf=ids,
            mirror=MirrorChange.DELETED,
        )
        await record_outcome(self._ledger, self._reports, self._clock, outcome, None)
        return _ok(message, scanned_in=scanned, scf_item_pid=ids.item_pid)

    async def _move(self, case: ItemCase, finding: Finding) -> Repaired:
        """The member changed the barcode: the mirror takes `{new}X`, keeping its pid, loan and
        requests, and the ledger row moves to the new barcode."""
        new, member, row = finding.new_barcode, case.renamed_member, case.row
        if new is None or member is None or row is None:
            raise RepairImpossible("the member item under its new barcode is not known")
        scf = self._scf_item(case)
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

        return _ok(message, moved, new_barcode=new, scf_item_pid=ids.item_pid)

    async def _update(self, case: ItemCase, finding: Finding) -> Repaired:
        """I11: the member's metadata over the SCF item as it is now, recorded as the sync's
        update (with the member's fingerprint, so the next sync needs no SCF call)."""
        scf, member = self._scf_item(case), case.member
        if member is None:
            raise RepairImpossible("the member item is gone")
        update = updated_scf_item(scf.raw, member.raw)
        if not update.changed:
            return _ok("nothing differs any more")
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
        return _ok(message, changed_fields=list(update.changed_fields))

    # ---- loans -----------------------------------------------------------------------------

    async def _lend(self, case: ItemCase, finding: Finding) -> Repaired:
        user, row = case.facts.system_user, case.row
        if user is None or row is None:
            raise RepairImpossible("no system user or ledger row for the loan")
        ids = ScfIds.of_item(self._scf_item(case))
        await self._loans.lend(user, ids.item_pid)
        message = f"lent {scf_barcode(finding.barcode or case.barcode)} to {user} (I10)"
        return _ok(message, self._loan_made(row, finding), user_id=user)

    async def _relend(self, case: ItemCase, finding: Finding) -> Repaired:
        user, row = case.facts.system_user, case.row
        if user is None or row is None:
            raise RepairImpossible("no system user or ledger row for the loan")
        ids = ScfIds.of_item(self._scf_item(case))
        await self._scan_in(ids)
        await self._loans.lend(user, ids.item_pid)
        borrower = case.facts.scf.borrower if case.facts.scf else None
        message = (
            f"scanned {scf_barcode(finding.barcode or case.barcode)} in at {self._rs.circ_desk} "
            f"(it was lent to {borrower}) and lent it to {user} (I10)"
        )
        return _ok(message, self._loan_made(row, finding), user_id=user, previous_user=borrower)

    def _loan_made(self, row: MirroredItem, finding: Finding) -> LedgerWrites:
        """The loan is recorded on the finding's barcode: the row's own, or the barcode a
        moved mirror's row went to (a barcode change repaired just before)."""
        barcode = finding.barcode or row.barcode

        async def lent(uow: LedgerUnitOfWork) -> None:
            if row.owes_loan:
                await self._upsert(uow, row, MirrorState.MIRRORED, barcode)
            await uow.items.mark_loan(row.institution, barcode)

        return lent

    async def _scan_in(self, ids: ScfIds) -> None:
        """End whatever loan the SCF item has, at the SCF's own desk (C1's scan-in, SCF side)."""
        await self._scf.scan_in(
            ids.mms_id,
            ids.holding_id,
            ids.item_pid,
            library=self._rs.holding_library,
            circ_desk=self._rs.circ_desk,
        )

    # ---- the ledger alone ------------------------------------------------------------------

    async def _forget(self, case: ItemCase, finding: Finding) -> Repaired:
        inst, barcode = self._inst, case.barcode

        async def forget(uow: LedgerUnitOfWork) -> None:
            await uow.items.mark_deleted(inst, barcode)

        return _ok("marked the ledger row deleted", forget)

    async def _record_mirror(self, case: ItemCase, finding: Finding) -> Repaired:
        ids = ScfIds.of_item(self._scf_item(case))
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

        return _ok(f"recorded SCF item {ids.item_pid} as the mirror", record)

    async def _record_loan(self, case: ItemCase, finding: Finding) -> Repaired:
        row = self._row(case)
        return _ok("recorded the transit loan Alma shows", self._loan_made(row, finding))

    async def _record_loan_returned(self, case: ItemCase, finding: Finding) -> Repaired:
        row = self._row(case)
        barcode = finding.barcode or row.barcode

        async def returned(uow: LedgerUnitOfWork) -> None:
            if row.owes_loan:
                # No longer owed; a row owing its loan has no loan facts: MIRRORED starts without.
                await self._upsert(uow, row, MirrorState.MIRRORED, barcode)
            else:
                await uow.items.mark_loan_returned(row.institution, barcode)

        return _ok("recorded the transit loan as returned", returned)

    @staticmethod
    async def _upsert(
        uow: LedgerUnitOfWork, row: MirroredItem, state: MirrorState, barcode: str
    ) -> None:
        """The row's facts again (under `barcode`, where a moved mirror's row went)."""
        await uow.items.upsert(
            row.institution,
            barcode,
            scf_mms_id=row.scf_mms_id,
            scf_holding_id=row.scf_holding_id,
            scf_item_pid=row.scf_item_pid,
            member_mms_id=row.member_mms_id,
            nz_mms_id=row.nz_mms_id,
            member_item_pid=row.member_item_pid,
            fingerprint=row.fingerprint,
            state=state,
        )

    # ---- requests --------------------------------------------------------------------------

    async def _forward_again(self, case: RequestCase, finding: Finding) -> Repaired:
        row = case.row
        inst, request_id = row.source_institution, row.source_request_id
        async with self._ledger.unit_of_work() as uow:
            # R6 keeps a forwarded row from being sent again; this one's SCF request is gone.
            await uow.requests.set_status(
                inst, request_id, RequestStatus.FAILED, last_error=f"reconcile: {finding.message}"
            )
            await uow.commit()
        outcome = await self._forwarding.replay(inst, request_id)
        if outcome is None:
            return _failed(f"the ledger has no row for request {request_id}")
        if outcome.quota_exhausted:
            raise RunStopped(outcome.reason)
        details: dict[str, JsonValue] = {
            "previous_scf_request_id": row.scf_request_id,
            "scf_request_id": outcome.scf_request_id,
            "action": outcome.action.value,
        }
        if outcome.action is Action.FORWARDED:
            message = f"forwarded again as SCF request {outcome.scf_request_id}"
            return _ok(message, **details)
        if outcome.action in (Action.WAITING, Action.CANCELLED):
            # A rule decided otherwise (R7): waiting for the mirror, or a business reason to
            # cancel. Either way the request is no longer a forwarded one with nothing behind.
            return _ok(f"not forwarded again, {outcome.action.value}: {outcome.reason}", **details)
        return _failed(outcome.reason, outcome.error_code, **details)

    async def _cancel_scf_request(self, case: RequestCase) -> Repaired:
        row = case.row
        inst, request_id, scf_id = (
            row.source_institution,
            row.source_request_id,
            case.facts.scf_request_id,
        )
        reason, note = SCF_CANCEL_REASON.value, scf_cancel_note(inst, request_id)
        try:
            if row.scf_mms_id:
                await self._scf.cancel_title_request(
                    row.scf_mms_id, scf_id, reason=reason, note=note, notify_user=False
                )
            elif row.user_id:
                await self._scf.cancel_user_request(
                    row.user_id, scf_id, reason=reason, note=note, notify_user=False
                )
            else:
                raise RepairImpossible(f"the ledger knows neither bib nor user of {scf_id}")
            message = f"cancelled SCF request {scf_id}: {note}"
        except AlmaError as error:
            if isinstance(error, QuotaExhausted) or not is_gone(error):
                raise
            message = f"SCF request {scf_id} was already gone"

        async def cancelled(uow: LedgerUnitOfWork) -> None:
            await uow.requests.set_status(inst, request_id, RequestStatus.CANCELLED)

        return _ok(message, cancelled, scf_request_id=scf_id, cancel_reason=reason, note=note)

    # ---- helpers ---------------------------------------------------------------------------

    def _scf_item(self, case: ItemCase) -> AlmaItem:
        if case.scf is None:
            raise RepairImpossible(f"the SCF has no {scf_barcode(case.barcode)}")
        return case.scf

    @staticmethod
    def _row(case: ItemCase) -> MirroredItem:
        if case.row is None:
            raise RepairImpossible("the ledger has no live row for the barcode")
        return case.row

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
