"""What a member's own webhook asks of the bridge now, ahead of its nightly files (W6, W7).

A member's ``REQUEST`` / ``REQUEST_CREATED`` becomes `RequestCreated` and its ``ITEM`` /
``ITEM_CREATED``, ``ITEM_UPDATED`` or ``ITEM_DELETED`` becomes `ItemChanged`. Both carry only
the keys the bridge reads the facts again by: the member's Alma, not the body, says what the
export or the publishing file would have said (the body may be stale, or arrive out of order).
`member_event` answers None for anything else, which `classify_webhook` records as skipped (W5).
Pure: no I/O, never raises but `ValueError` for a body whose fields have the wrong types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.scf.institutions import Consortium

ITEM = "ITEM"
REQUEST = "REQUEST"
REQUEST_CREATED = "REQUEST_CREATED"
ITEM_CREATED = "ITEM_CREATED"
ITEM_UPDATED = "ITEM_UPDATED"
ITEM_DELETED = "ITEM_DELETED"
ITEM_EVENTS = frozenset({ITEM_CREATED, ITEM_UPDATED, ITEM_DELETED})


@dataclass(frozen=True)
class RequestCreated:
    """A member created a request: forward it now if its export would carry it (W6)."""

    institution: str
    request_id: str
    user_primary_id: str | None
    mms_id: str | None
    webhook_id: str | None


@dataclass(frozen=True)
class ItemChanged:
    """A member created, updated or deleted an item: mirror its state now (W7)."""

    institution: str
    event: str
    barcode: str
    mms_id: str | None
    holding_id: str | None
    item_pid: str | None
    webhook_id: str | None

    @property
    def deleted(self) -> bool:
        return self.event == ITEM_DELETED


class MemberBodyMalformed(ValueError):
    """A field W6 or W7 reads is missing or has the wrong type; the body is rejected."""


def member_event(
    document: Mapping[str, Any],
    consortium: Consortium,
    *,
    action: str,
    event: str | None,
    institution: str | None,
    webhook_id: str | None,
) -> RequestCreated | ItemChanged | None:
    """The W6/W7 event of a member's webhook, or None when it is not one."""
    wanted = (action == REQUEST and event == REQUEST_CREATED) or (
        action == ITEM and event in ITEM_EVENTS
    )
    if not wanted or institution is None:
        return None
    member = consortium.institution(institution)
    if member is None or consortium.is_scf(member.code):
        return None
    if action == REQUEST:
        request = _object(document, "user_request")
        request_id = _text(request, "request_id")
        if request_id is None:
            raise MemberBodyMalformed("REQUEST_CREATED without user_request.request_id")
        return RequestCreated(
            institution=member.code,
            request_id=request_id,
            user_primary_id=_text(request, "user_primary_id"),
            mms_id=_text(request, "mms_id"),
            webhook_id=webhook_id,
        )
    assert event is not None
    item = _object(document, "item")
    item_data = _object(item, "item_data")
    barcode = _text(item_data, "barcode")
    if barcode is None or not barcode.strip():
        raise MemberBodyMalformed(f"{event} without item.item_data.barcode")
    return ItemChanged(
        institution=member.code,
        event=event,
        barcode=barcode,
        mms_id=_text(_object(item, "bib_data"), "mms_id"),
        holding_id=_text(_object(item, "holding_data"), "holding_id"),
        item_pid=_text(item_data, "pid"),
        webhook_id=webhook_id,
    )


def _object(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = document.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MemberBodyMalformed(f"{key} is not an object")
    return value


def _text(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MemberBodyMalformed(f"{key} is not a string")
    return value or None
