"""Requests: one role of an institution's Alma API."""

from __future__ import annotations

from typing import Protocol

from application.shared.alma import (
    AlmaJson,
    AlmaRequest,
    Page,
)


class RequestsPort(Protocol):
    """Requests: created on items and titles, read, listed and cancelled (R3–R8). Failures raise
    the typed errors of `application.shared.alma`."""

    institution: str

    async def create_item_request(
        self,
        mms_id: str,
        holding_id: str,
        item_pid: str,
        user_id: str,
        request: AlmaJson,
        *,
        allow_same_request: bool = False,
    ) -> AlmaRequest:
        """Place an item-level request for a user; without `allow_same_request` Alma refuses
        (401136) when that user already has an active request on the item."""
        ...

    async def create_title_request(
        self, mms_id: str, user_id: str, request: AlmaJson, *, allow_same_request: bool = False
    ) -> AlmaRequest:
        """Place a title-level request for a user (`allow_same_request` as for items)."""
        ...

    async def list_item_requests(
        self, mms_id: str, holding_id: str, item_pid: str
    ) -> list[AlmaRequest]:
        """Active requests on an item."""
        ...

    async def get_title_request(self, mms_id: str, request_id: str) -> AlmaRequest:
        """A request by bib and request id."""
        ...

    async def get_user_request(self, user_id: str, request_id: str) -> AlmaRequest:
        """A request by user and request id."""
        ...

    async def list_user_requests(
        self, user_id: str, *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaRequest]:
        """One page of a user's active requests."""
        ...

    async def cancel_item_request(
        self,
        mms_id: str,
        holding_id: str,
        item_pid: str,
        request_id: str,
        *,
        reason: str,
        note: str,
        notify_user: bool | None = None,
    ) -> None:
        """Cancel a request through its item (rule R8 says which reason, note and flag)."""
        ...

    async def cancel_title_request(
        self, mms_id: str, request_id: str, *, reason: str, note: str, notify_user: bool | None
    ) -> None:
        """Cancel a request through its bib."""
        ...

    async def cancel_user_request(
        self, user_id: str, request_id: str, *, reason: str, note: str, notify_user: bool | None
    ) -> None:
        """Cancel a request through its user."""
        ...
