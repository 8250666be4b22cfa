"""The request checks of a reconciliation run: every request the ledger says was forwarded to
the SCF, checked concurrently like the barcodes (issue 7)."""

from __future__ import annotations

from application.ports.ledger import Ledger
from application.scf.reconcile.cases import RequestCase
from application.scf.reconcile.facts import ReconcileFacts
from application.scf.reconcile.run_state import RunState
from application.shared.alma import AlmaError
from application.shared.ledger_records import RequestStatus
from domain.scf.reconciliation import Finding, check_failed, classify_request
from domain.shared.errors import DomainError

RequestFinding = tuple[RequestCase | None, Finding]
"""A finding and the case it was found in (None when the request could not be checked)."""


async def check_requests(
    facts: ReconcileFacts, ledger: Ledger, state: RunState
) -> list[RequestFinding]:
    """The findings of the institution's forwarded requests, by request id."""
    institution = state.institution
    async with ledger.unit_of_work() as uow:
        rows = await uow.requests.list_for(institution, statuses=[RequestStatus.FORWARDED])
    forwarded = [row for row in rows if row.scf_request_id]
    work: list[RequestFinding] = []

    async def check(index: int) -> None:
        row = forwarded[index]
        try:
            case = await facts.request(row)
            work.extend((case, finding) for finding in classify_request(case.facts))
        except (AlmaError, DomainError) as error:
            failed = check_failed(
                institution, str(error), barcode=row.barcode, request_id=row.source_request_id
            )
            work.append((None, failed))
        state.requests_checked += 1
        state.tell("checking requests", state.requests_checked, len(forwarded))

    await state.bounded(range(len(forwarded)), check)
    state.findings += len(work)
    return sorted(work, key=lambda pair: pair[1].request_id or "")
