"""Reconciliation's repairs of the bridge's I10 transit loans (issue 7).

Loans go through `TransitLoans` (I10, with its retries while Alma is not ready); a mirror lent
to someone else is first scanned in at the SCF circulation desk. A loan Alma shows but the
ledger does not (or the other way round) is only recorded.
"""

from __future__ import annotations

from application.ports.alma.gateway import AlmaGateway
from application.ports.ledger import LedgerUnitOfWork
from application.scf.items.item_outcomes import ScfIds
from application.scf.items.transit_loans import TransitLoans
from application.scf.reconcile.cases import ItemCase
from application.scf.reconcile.repair_results import (
    LedgerWrites,
    Repaired,
    RepairImpossible,
    ledger_row_of,
    repair_ok,
    scf_item_of,
)
from application.shared.ledger_records import MirroredItem, MirrorState
from domain.scf.institutions import RemoteStorage
from domain.scf.naming import scf_barcode
from domain.scf.reconciliation import Finding


class LoanRepairs:
    """The transit-loan repairs of one member institution's findings."""

    def __init__(
        self, scf: AlmaGateway, remote_storage: RemoteStorage, loans: TransitLoans
    ) -> None:
        self._scf = scf
        self._rs = remote_storage
        self._loans = loans

    async def lend(self, case: ItemCase, finding: Finding) -> Repaired:
        user, row, ids = self._loan_to_make(case)
        await self._loans.lend(user, ids.item_pid)
        message = f"lent {scf_barcode(finding.barcode or case.barcode)} to {user} (I10)"
        return repair_ok(message, self._loan_made(row, finding), user_id=user)

    async def relend(self, case: ItemCase, finding: Finding) -> Repaired:
        user, row, ids = self._loan_to_make(case)
        await self.scan_in(ids)
        await self._loans.lend(user, ids.item_pid)
        borrower = case.facts.scf.borrower if case.facts.scf else None
        message = (
            f"scanned {scf_barcode(finding.barcode or case.barcode)} in at {self._rs.circ_desk} "
            f"(it was lent to {borrower}) and lent it to {user} (I10)"
        )
        return repair_ok(
            message, self._loan_made(row, finding), user_id=user, previous_user=borrower
        )

    @staticmethod
    def _loan_to_make(case: ItemCase) -> tuple[str, MirroredItem, ScfIds]:
        """The system user to lend to, the ledger row and the SCF item of a loan to make."""
        user, row = case.facts.system_user, case.row
        if user is None or row is None:
            raise RepairImpossible("no system user or ledger row for the loan")
        return user, row, ScfIds.of_item(scf_item_of(case))

    def _loan_made(self, row: MirroredItem, finding: Finding) -> LedgerWrites:
        """The loan is recorded on the finding's barcode: the row's own, or the barcode a
        moved mirror's row went to (a barcode change repaired just before)."""
        barcode = finding.barcode or row.barcode

        async def lent(uow: LedgerUnitOfWork) -> None:
            if row.owes_loan:
                await self._upsert(uow, row, MirrorState.MIRRORED, barcode)
            await uow.items.mark_loan(row.institution, barcode)

        return lent

    async def scan_in(self, ids: ScfIds) -> None:
        """End whatever loan the SCF item has, at the SCF's own desk (C1's scan-in, SCF side)."""
        await self._scf.scan_in(
            ids.mms_id,
            ids.holding_id,
            ids.item_pid,
            library=self._rs.holding_library,
            circ_desk=self._rs.circ_desk,
        )

    # ---- the ledger alone ------------------------------------------------------------------

    async def record_loan(self, case: ItemCase, finding: Finding) -> Repaired:
        row = ledger_row_of(case)
        return repair_ok("recorded the transit loan Alma shows", self._loan_made(row, finding))

    async def record_loan_returned(self, case: ItemCase, finding: Finding) -> Repaired:
        row = ledger_row_of(case)
        barcode = finding.barcode or row.barcode

        async def returned(uow: LedgerUnitOfWork) -> None:
            if row.owes_loan:
                # No longer owed; a row owing its loan has no loan facts: MIRRORED starts without.
                await self._upsert(uow, row, MirrorState.MIRRORED, barcode)
            else:
                await uow.items.mark_loan_returned(row.institution, barcode)

        return repair_ok("recorded the transit loan as returned", returned)

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
