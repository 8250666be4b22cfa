"""Cancelling a member request exactly as the R8 table row says (research §7.6).

The row gives the reason, the note, whether the patron is notified and which endpoint to use;
this module only turns the row's scope into the right `RequestsPort` call. Requests cancelled while
forwarding always live in the source institution (the row's owner is `SOURCE`), so the caller
passes the source institution's gateway.
"""

from __future__ import annotations

from application.ports.alma.requests import RequestsPort
from application.shared.alma import AlmaItem
from domain.scf.requests.cancellations import Cancellation, CancelScope, RequestOwner
from domain.shared.errors import InvalidIdentifier


async def cancel_source_request(
    source: RequestsPort,
    cancellation: Cancellation,
    *,
    request_id: str,
    mms_id: str | None,
    user_id: str | None,
    member_item: AlmaItem | None = None,
) -> None:
    """Cancel request `request_id` of the source institution through the row's endpoint.

    Raises `InvalidIdentifier` when the ids that endpoint needs are unknown; Alma's refusals
    propagate as typed `AlmaError`s.
    """
    if cancellation.owner is not RequestOwner.SOURCE:
        raise InvalidIdentifier(
            f"forwarding cancels source requests only, not {cancellation.owner.name}",
            institution=source.institution,
            request_id=request_id,
        )
    reason, note, notify = cancellation.reason.value, cancellation.note, cancellation.notify_user
    scope = cancellation.scope
    if scope is CancelScope.ITEM_REQUEST:
        ids = _item_ids(member_item)
        if ids is None:
            raise _missing("the member item", source, request_id)
        await source.cancel_item_request(
            *ids, request_id, reason=reason, note=note, notify_user=notify
        )
        return
    # SOURCE_REQUEST prefers the bib and falls back to the user (Java's cancelRequest).
    if scope in (CancelScope.SOURCE_REQUEST, CancelScope.BIB_REQUEST) and mms_id:
        await source.cancel_title_request(
            mms_id, request_id, reason=reason, note=note, notify_user=notify
        )
        return
    if scope in (CancelScope.SOURCE_REQUEST, CancelScope.USER_REQUEST) and user_id:
        await source.cancel_user_request(
            user_id, request_id, reason=reason, note=note, notify_user=notify
        )
        return
    raise _missing("an MMS id or a user id", source, request_id)


def _item_ids(item: AlmaItem | None) -> tuple[str, str, str] | None:
    if item is None or not item.mms_id or not item.holding_id or not item.pid:
        return None
    return item.mms_id, item.holding_id, item.pid


def _missing(what: str, source: RequestsPort, request_id: str) -> InvalidIdentifier:
    return InvalidIdentifier(
        f"cannot cancel the request without {what}",
        institution=source.institution,
        request_id=request_id,
    )
