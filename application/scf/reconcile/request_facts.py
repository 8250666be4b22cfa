"""The facts of a forwarded request, as reconciliation reads them (issue 7). Only GET calls.

Per forwarded request (`ForwardedRequestFacts.request`): the SCF request and the member's source
request by id; and, when the first is gone while the second is active, whether the SCF copy is
out of place (the SCF may have fulfilled the request rather than lost it).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace

from application.ports.alma.gateway import AlmaGateway
from application.ports.ledger import Ledger
from application.scf.items.bib_items import list_bib_items
from application.scf.reconcile.cases import LIVE, RequestCase, is_gone, route_of
from application.scf.requests.request_data import request_from_json
from application.shared.alma import AlmaError, AlmaItem, AlmaRequest, ItemNotFound
from application.shared.ledger_records import ForwardedRequest
from domain.scf.institutions import Consortium
from domain.scf.naming import member_barcode_of, provenance_of, scf_barcode
from domain.scf.reconciliation import ON_LOAN, RequestFacts, RequestState, request_state
from domain.scf.requests.routing import Route


class ForwardedRequestFacts:
    """Reads the facts of one member institution's forwarded requests."""

    def __init__(
        self,
        scf: AlmaGateway,
        member: AlmaGateway,
        ledger: Ledger,
        consortium: Consortium,
        institution: str,
    ) -> None:
        self._scf = scf
        self._member = member
        self._ledger = ledger
        self._consortium = consortium
        self._inst = institution

    async def request(self, row: ForwardedRequest) -> RequestCase:
        """The facts of one forwarded request (its row has an SCF request id)."""
        assert row.scf_request_id is not None
        route = route_of(row)
        facts = RequestFacts(
            institution=self._inst,
            request_id=row.source_request_id,
            barcode=row.barcode,
            route=route,
            scf_request_id=row.scf_request_id,
            scf=RequestState.UNKNOWN,
            source=RequestState.UNKNOWN,
        )
        if route is not None and route.is_patron_digitization:
            return RequestCase(row, facts)  # its source request is switched off by design
        scf = await self._scf_request(row, row.scf_request_id)
        source = await self._source_request(row)
        busy = False
        if scf is RequestState.GONE and source is RequestState.ACTIVE:
            busy = await self._scf_copy_busy(row, route)
        return RequestCase(row, replace(facts, scf=scf, source=source, scf_copy_busy=busy))

    async def _scf_request(self, row: ForwardedRequest, scf_request_id: str) -> RequestState:
        if row.scf_mms_id:
            return await _state_of(self._scf.get_title_request(row.scf_mms_id, scf_request_id))
        if row.user_id:
            return await _state_of(self._scf.get_user_request(row.user_id, scf_request_id))
        return RequestState.UNKNOWN

    async def _source_request(self, row: ForwardedRequest) -> RequestState:
        request_id = row.source_request_id
        if row.mms_id:
            # Alma's bib endpoint answers for item- and title-level requests alike.
            return await _state_of(self._member.get_title_request(row.mms_id, request_id))
        request, _ = request_from_json(row.request_data)
        patron = request.patron_user_id
        if patron is None:
            return RequestState.UNKNOWN
        return await _state_of(self._member.get_user_request(patron, request_id))

    async def _scf_copy_busy(self, row: ForwardedRequest, route: Route | None) -> bool:
        """Whether an SCF copy the request could have been filled from is out of place for a
        reason other than the bridge's own transit loan."""
        candidates: list[AlmaItem]
        if route is not None and not route.is_title_level and row.barcode:
            try:
                candidates = [await self._scf.item_by_barcode(scf_barcode(row.barcode))]
            except ItemNotFound:
                return False
        elif row.scf_mms_id:
            candidates = list((await list_bib_items(self._scf, row.scf_mms_id)).by_barcode.values())
        else:
            return False
        for item in candidates:
            process = item.process_type or ""
            if process and not (process == ON_LOAN and await self._transit_loan(item)):
                return True
        return False

    async def _transit_loan(self, item: AlmaItem) -> bool:
        """The SCF item's loan is its mirror's open I10 transit loan (the ledger knows, R7)."""
        barcode = member_barcode_of(item.barcode or "")
        owner = provenance_of(item.raw) or self._inst
        member = self._consortium.institution(owner)
        if barcode is None or member is None:
            return False
        async with self._ledger.unit_of_work() as uow:
            row = await uow.items.get(member.code, barcode)
        return (
            row is not None
            and row.state in LIVE
            and row.scf_item_pid == item.pid
            and row.in_transit_loan
        )


async def _state_of(lookup: Awaitable[AlmaRequest]) -> RequestState:
    """The state of the request Alma answers with; GONE when it no longer exists."""
    try:
        found = await lookup
    except AlmaError as error:
        if is_gone(error):
            return RequestState.GONE
        raise
    return request_state(found.raw)
