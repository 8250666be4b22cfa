"""Alma as the use cases call it (one gateway per institution) and the directory of gateways."""

from __future__ import annotations

from typing import Protocol

from application.shared.alma import (
    AlmaBib,
    AlmaCourse,
    AlmaHolding,
    AlmaItem,
    AlmaJson,
    AlmaLibrary,
    AlmaLoan,
    AlmaLocation,
    AlmaRequest,
    AlmaUser,
    Page,
)
from application.shared.call_pacing import CallPacing


class AlmaGateway(Protocol):
    """One institution's Alma REST API: the operations the SCF rules carry out (A1–A5).

    Failures raise the typed errors of `application.shared.alma` (`ItemNotFound`, `UserNotFound`,
    `QuotaExhausted`, `AlmaUnavailable`, …); lists page with limit (≤ 100) and offset.
    """

    institution: str

    @property
    def api_remaining(self) -> int | None:
        """Calls left today, from Alma's last `X-Exl-Api-Remaining` header."""
        ...

    async def item_by_barcode(self, barcode: str) -> AlmaItem:
        """The item with this barcode; `ItemNotFound` (401689) when there is none."""
        ...

    async def get_item(self, mms_id: str, holding_id: str, item_pid: str) -> AlmaItem:
        """An item by its ids."""
        ...

    async def list_items(
        self, mms_id: str, holding_id: str = "ALL", *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaItem]:
        """One page of a bib's items (of one holding, or `ALL`)."""
        ...

    async def create_item(self, mms_id: str, holding_id: str, item: AlmaJson) -> AlmaItem:
        """Create an item under a holding from Alma item JSON."""
        ...

    async def update_item(
        self, mms_id: str, holding_id: str, item_pid: str, item: AlmaJson
    ) -> AlmaItem:
        """Replace an item with this Alma item JSON."""
        ...

    async def delete_item(
        self, mms_id: str, holding_id: str, item_pid: str, *, override: bool = False
    ) -> None:
        """Delete an item; Alma refuses (an `AlmaError`) e.g. while it is on loan."""
        ...

    async def scan_in(
        self, mms_id: str, holding_id: str, item_pid: str, *, library: str, circ_desk: str
    ) -> AlmaItem:
        """Scan an item in at a library and desk, completing its transit (`op=scan&done=true`)."""
        ...

    async def bibs_by_nz_id(self, nz_mms_id: str) -> list[AlmaBib]:
        """Bibs linked to this Network Zone record (empty when none)."""
        ...

    async def bibs_by_other_system_id(self, other_system_id: str) -> list[AlmaBib]:
        """Bibs carrying this other-system id, e.g. `(01AAA_AB)991234` (rule N4)."""
        ...

    async def get_bib(self, mms_id: str) -> AlmaBib:
        """A bib by MMS id."""
        ...

    async def create_bib_from_nz(self, nz_mms_id: str) -> AlmaBib:
        """Create a local bib linked to a Network Zone record."""
        ...

    async def create_local_bib(self, marc_record_xml: str) -> AlmaBib:
        """Create a bib from a MARCXML `<record>`."""
        ...

    async def list_holdings(self, mms_id: str) -> list[AlmaHolding]:
        """A bib's holdings."""
        ...

    async def create_holding(self, mms_id: str, library: str, location: str) -> AlmaHolding:
        """Create a holding at a library and location (852 template of rule I8)."""
        ...

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

    async def create_loan(
        self, user_id: str, item_pid: str, *, circ_desk: str, library: str
    ) -> AlmaLoan:
        """Loan an item to a user at a library's desk (rule I10)."""
        ...

    async def list_user_loans(
        self, user_id: str, *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaLoan]:
        """One page of a user's loans."""
        ...

    async def get_user(self, user_id: str, *, id_type: str = "all_unique") -> AlmaUser:
        """A user by any unique id (or `linking_id`)."""
        ...

    async def get_linked_user(self, link_id: str, source_institution_code: str) -> AlmaUser:
        """The local copy of another institution's user."""
        ...

    async def create_linked_user(
        self, source_institution_code: str, source_user_id: str
    ) -> AlmaUser:
        """Create the local copy of another institution's user."""
        ...

    async def refresh_user(self, user_id: str) -> None:
        """Refresh a linked user from its source institution."""
        ...

    async def libraries(self) -> list[AlmaLibrary]:
        """The institution's libraries (`/conf/libraries`)."""
        ...

    async def locations(self, library: str) -> list[AlmaLocation]:
        """A library's locations."""
        ...

    async def search_courses(
        self, query: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaCourse]:
        """One page of courses matching Alma's `q` syntax."""
        ...

    async def get_course(self, course_id: str) -> AlmaCourse:
        """A course by id."""
        ...


class AlmaDirectory(CallPacing, Protocol):
    """Hands out the gateway of an institution code, member or SCF, and tells how many more calls
    each institution could take on (`CallPacing`, rule A4)."""

    def gateway(self, institution: str) -> AlmaGateway:
        """The gateway of this institution; `UnknownInstitution` when it has no API key."""
        ...
