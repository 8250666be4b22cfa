"""Reconciliation's repairs of forwarded requests (issue 7).

* A lost SCF request is forwarded again by `RequestForwarding.replay` (R4-R8), after its row is
  set to failed: replay refuses a row still marked forwarded (R6).
* An SCF request whose member request is gone is cancelled through the SCF's bib endpoint.
"""

from __future__ import annotations

from application.ports.alma.gateway import AlmaGateway
from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.scf.reconcile.cases import RequestCase, is_gone
from application.scf.reconcile.repair_results import (
    Repaired,
    RepairImpossible,
    RunStopped,
    repair_failed,
    repair_ok,
)
from application.scf.requests.forwarding import RequestForwarding
from application.scf.requests.outcomes import Action
from application.shared.alma import AlmaError
from application.shared.ledger_records import JsonValue, RequestStatus
from domain.scf.reconciliation import SCF_CANCEL_REASON, Finding, scf_cancel_note


class RequestRepairs:
    """The forwarded-request repairs of one member institution's findings."""

    def __init__(self, scf: AlmaGateway, ledger: Ledger, forwarding: RequestForwarding) -> None:
        self._scf = scf
        self._ledger = ledger
        self._forwarding = forwarding

    async def forward_again(self, case: RequestCase, finding: Finding) -> Repaired:
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
            return repair_failed(f"the ledger has no row for request {request_id}")
        if outcome.quota_exhausted:
            raise RunStopped(outcome.reason)
        details: dict[str, JsonValue] = {
            "previous_scf_request_id": row.scf_request_id,
            "scf_request_id": outcome.scf_request_id,
            "action": outcome.action.value,
        }
        if outcome.action is Action.FORWARDED:
            message = f"forwarded again as SCF request {outcome.scf_request_id}"
            return repair_ok(message, **details)
        if outcome.action in (Action.WAITING, Action.CANCELLED):
            # A rule decided otherwise (R7): waiting for the mirror, or a business reason to
            # cancel. Either way the request is no longer a forwarded one with nothing behind.
            said = f"not forwarded again, {outcome.action.value}: {outcome.reason}"
            return repair_ok(said, **details)
        return repair_failed(outcome.reason, outcome.error_code, **details)

    async def cancel_scf_request(self, case: RequestCase) -> Repaired:
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
            if not is_gone(error):
                raise
            message = f"SCF request {scf_id} was already gone"

        async def cancelled(uow: LedgerUnitOfWork) -> None:
            await uow.requests.set_status(inst, request_id, RequestStatus.CANCELLED)

        return repair_ok(message, cancelled, scf_request_id=scf_id, cancel_reason=reason, note=note)
