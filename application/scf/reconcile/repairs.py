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

The mirrors' repairs are in `mirror_repairs`, the loans' in `loan_repairs`, the requests' in
`request_repairs`; this module picks the repair of a finding.

Each repair returns its result and, when it changes the ledger itself, the writes to make; the
caller writes them in the same unit of work as the `reconcile.<kind>` event (`Reconciliation`).
Alma's refusals come back as the repair's failure; the daily quota (`QuotaExhausted`, or a
replay that hit it: `RunStopped`) goes up to stop the run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.items.item_mirroring import mirroring_for
from application.scf.items.item_outcomes import CannotMirror, alma_reason
from application.scf.items.transit_loans import LoanRetry, TransitLoans
from application.scf.ports import FailureReports
from application.scf.reconcile.cases import ItemCase, RequestCase
from application.scf.reconcile.loan_repairs import LoanRepairs
from application.scf.reconcile.mirror_repairs import MirrorRepairs
from application.scf.reconcile.repair_results import Repaired, RepairImpossible, repair_failed
from application.scf.reconcile.request_repairs import RequestRepairs
from application.scf.requests.forwarding import RequestForwarding
from application.shared.alma import AlmaError
from domain.scf.institutions import Consortium
from domain.scf.reconciliation import Finding, Repair
from domain.shared.errors import DomainError


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
        transit_loans = TransitLoans(scf, remote_storage, loan_retry)
        self._loans = LoanRepairs(scf, remote_storage, transit_loans)
        self._mirrors = MirrorRepairs(
            scf=scf,
            ledger=ledger,
            reports=reports,
            clock=clock,
            institution=institution,
            mirroring=mirroring_for(alma, ledger, consortium, institution, transit_loans),
            loans=self._loans,
        )
        self._requests = RequestRepairs(scf, ledger, forwarding)

    async def item(self, case: ItemCase, finding: Finding) -> Repaired:
        """Carry out the repair of one barcode's finding; Alma's refusal is its failure."""
        mirrors, loans = self._mirrors, self._loans
        repairs: dict[Repair, Callable[[ItemCase, Finding], Awaitable[Repaired]]] = {
            Repair.CREATE_MIRROR: mirrors.create,
            Repair.DELETE_MIRROR: mirrors.delete,
            Repair.MOVE_MIRROR: mirrors.move,
            Repair.UPDATE_MIRROR: mirrors.update,
            Repair.LEND: loans.lend,
            Repair.RELEND: loans.relend,
            Repair.FORGET_MIRROR: mirrors.forget,
            Repair.RECORD_MIRROR: mirrors.record_mirror,
            Repair.RECORD_LOAN: loans.record_loan,
            Repair.RECORD_LOAN_RETURNED: loans.record_loan_returned,
        }
        return await self._guarded(repairs[finding.repair](case, finding))

    async def request(self, case: RequestCase, finding: Finding) -> Repaired:
        """Carry out the repair of one forwarded request's finding."""
        if finding.repair is Repair.FORWARD_AGAIN:
            return await self._guarded(self._requests.forward_again(case, finding))
        return await self._guarded(self._requests.cancel_scf_request(case))

    @staticmethod
    async def _guarded(work: Awaitable[Repaired]) -> Repaired:
        try:
            return await work
        except AlmaError as error:
            return repair_failed(alma_reason(error), error.error_code)
        except (CannotMirror, DomainError, RepairImpossible) as error:
            return repair_failed(str(error))
