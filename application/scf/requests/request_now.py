"""A member's `REQUEST_CREATED` forwarded now, without waiting for its export file (rule W6).

The export carries a request when its item, or for a title request the copy Alma assigned, is in
remote storage (I5). `RequestNow` reads from the member's Alma what the export file would have
said (the request, its item, the user), builds the same `RemoteStorageRequest` and hands it to
`RequestForwarding.forward_now`: R3–R7 exactly as for a file's request, under the institution's
lock, recorded with the same events plus `via: webhook`. The export's later copy of the request
is a no-op (R6).

A request the export would not carry (no copy assigned yet, the copy not in remote storage, the
request no longer in Alma) is recorded as skipped with the reason and left alone: never
cancelled. A transient Alma failure or the daily quota propagates, so the inbox retries the
message. Patron contact fields go only into the R5 comment, never into the ledger or logs (P2).
"""

from __future__ import annotations

from dataclasses import dataclass

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.ports.ledger import Ledger
from application.scf.recorded_via import WEBHOOK, recorded_via, via_details
from application.scf.requests.forwarding import RequestForwarding
from application.scf.requests.outcomes import RequestOutcome
from application.scf.requests.patron_contact import contact_fields
from application.shared.alma import (
    AlmaError,
    AlmaItem,
    AlmaRequest,
    ItemNotFound,
    TransientAlmaError,
)
from application.shared.ledger_records import Outcome
from domain.scf.institutions import Consortium
from domain.scf.items.decisions import in_remote_storage
from domain.scf.member_webhooks import RequestCreated
from domain.scf.requests.routing import PatronInfo, RemoteStorageRequest
from domain.shared.alma_json import text_at

SKIP_ACTION = "request.skip"
"""The event of a member request the export would not carry (W6): left alone."""


@dataclass(frozen=True)
class RequestNowResult:
    """What W6 came to: the forwarding's outcome, or why the request was skipped."""

    institution: str
    request_id: str
    outcome: RequestOutcome | None = None
    skipped: str | None = None


class _Skip(Exception):
    """The export would not carry the request; the message says why."""

    def __init__(self, reason: str, barcode: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.barcode = barcode


class RequestNow:
    """W6: forward a member's new request now if its export would carry it."""

    def __init__(
        self,
        *,
        alma: AlmaDirectory,
        ledger: Ledger,
        consortium: Consortium,
        forwarding: RequestForwarding,
    ) -> None:
        self._alma = alma
        self._ledger = ledger
        self._consortium = consortium
        self._forwarding = forwarding

    async def created(self, event: RequestCreated) -> RequestNowResult:
        """Forward the request by R3–R7, or record it skipped with the reason."""
        institution = event.institution
        with recorded_via(WEBHOOK):
            try:
                request = await self._as_exported(event)
            except _Skip as skip:
                await self._record_skip(event, skip)
                return RequestNowResult(institution, event.request_id, skipped=skip.reason)
            outcome = await self._forwarding.forward_now(institution, request)
        return RequestNowResult(institution, event.request_id, outcome=outcome)

    async def _as_exported(self, event: RequestCreated) -> RemoteStorageRequest:
        """The request as the export file would list it; `_Skip` when it would not."""
        member = self._alma.gateway(event.institution)
        found = await self._request(member, event)
        barcode = text_at(found.raw, "barcode")
        if barcode is None:
            raise _Skip(
                "no copy is assigned to the request yet, so the export would not carry it: "
                "the export file brings it once Alma assigns one in remote storage (W6)"
            )
        item = await self._item(member, barcode)
        if not in_remote_storage(self._consortium, event.institution, item.library, item.location):
            raise _Skip(
                f"item {barcode} is at {item.library}/{item.location}, not in remote storage "
                "(I5): the export would not carry the request, left alone (W6)",
                barcode,
            )
        raw = found.raw
        return RemoteStorageRequest(
            request_id=event.request_id,
            request_type=text_at(raw, "request_sub_type", "value")
            or text_at(raw, "request_type")
            or "",
            barcode=barcode,
            mms_id=found.mms_id or item.mms_id,
            description=text_at(raw, "description"),
            institution_code=text_at(raw, "pickup_location_institution"),
            pickup_library_name=text_at(raw, "pickup_location"),
            library_code=text_at(raw, "pickup_location_library"),
            patron=await self._patron(member, found.user_primary_id),
            request_note=found.comment,
        )

    async def _request(self, member: AlmaGateway, event: RequestCreated) -> AlmaRequest:
        try:
            if event.user_primary_id:
                request = await member.get_user_request(event.user_primary_id, event.request_id)
            elif event.mms_id:
                request = await member.get_title_request(event.mms_id, event.request_id)
            else:
                raise _Skip("the webhook names neither the user nor the bib to read it by (W6)")
        except TransientAlmaError:
            raise
        except AlmaError as error:
            reason = f"the request cannot be read from Alma ({error.error_code}): {error}"
            raise _Skip(reason) from None
        return request

    async def _item(self, member: AlmaGateway, barcode: str) -> AlmaItem:
        try:
            return await member.item_by_barcode(barcode)
        except ItemNotFound:
            raise _Skip(f"Alma has no item {barcode}: nothing to carry (W6)", barcode) from None

    async def _patron(self, member: AlmaGateway, user_id: str | None) -> PatronInfo | None:
        """`Last, First`, the primary id, the preferred e-mail and address (R5, W6)."""
        if not user_id:
            return None
        try:
            user = await member.get_user(user_id)
        except TransientAlmaError:
            raise
        except AlmaError:
            # A user Alma does not know: the comment lacks the contact fields (patron_contact).
            return PatronInfo(identifier=user_id)
        contact = contact_fields(user.raw)
        return PatronInfo(
            name=contact["name"],
            identifier=user.primary_id or user_id,
            email=contact["email"],
            address=contact["address"],
        )

    async def _record_skip(self, event: RequestCreated, skip: _Skip) -> None:
        async with self._ledger.unit_of_work() as uow:
            await uow.events.append(
                SKIP_ACTION,
                Outcome.SKIPPED,
                institution=event.institution,
                barcode=skip.barcode,
                request_id=event.request_id,
                message=skip.reason,
                details={"webhook_id": event.webhook_id, **via_details()},
            )
            await uow.commit()
