"""`AlmaGateway` and `AlmaDirectory` over the fake's state, without HTTP: the in-memory twin.

Each method does in-process what the fake's route for the same HTTP call does (the route modules
``routes_*.py`` are the specification) and returns the same typed view over the same JSON, so a
use case tested against this twin behaves as it would against the HTTP adapter talking to the
fake app. One contract suite (``tests/integration/alma_contract``) holds the two together.

What the twin does and does not imitate:

* Errors: the state's Alma errors become the typed errors of `application.shared.alma` through the
  HTTP adapter's own table (`error_class_for`), with the same operation, subject and HTTP status,
  and a tracking id in Alma's style (its value differs from the one the app would have sent).
* Requests the HTTP adapter builds (the 852 holding template, the ``<bib>`` wrapper of a local
  record, the loan body, default paging) are built the same way, so the state sees the same input.
* JSON goes in and comes out through ``json`` as it would over the wire: no view shares a dict
  with the state, and values have JSON's types.
* Each call yields to the event loop once before it runs, as real I/O would, so concurrent use
  cases interleave between calls as they do against Alma (a race hidden by a twin that never
  suspends would only show up in production).
* Not imitated: Alma's per-second and daily thresholds, injected faults and the call log. They
  belong to the fake's HTTP gateway middleware (`FaultInjector`), not to the state, so this twin
  never raises `RateLimited`, `QuotaExhausted` or `AlmaUnavailable`, records no calls and has no
  ``X-Exl-Api-Remaining`` (`api_remaining` stays None). Test those through the HTTP adapter.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from adapters.alma_http.error_envelope import Envelope, error_class_for
from adapters.alma_http.gateway import MAX_PAGE, holding_xml
from adapters.fake_alma import errors, marc, views
from adapters.fake_alma.errors import TrackingIds
from adapters.fake_alma.model import Bib, Institution, UserRequest
from adapters.fake_alma.state import FakeAlmaState
from application.shared.alma import (
    AlmaBib,
    AlmaFailure,
    AlmaHolding,
    AlmaItem,
    AlmaJson,
    AlmaLibrary,
    AlmaLoan,
    AlmaLocation,
    AlmaRequest,
    AlmaUnavailable,
    AlmaUser,
    Page,
    UnknownInstitution,
)
from application.shared.call_pacing import UNPACED

V = TypeVar("V")
DEFAULT_GATEWAY_URL = "http://fake-alma"
"""Where ``link`` values point: the fake app's URL in the contract suite, so links match."""
API_ROOT = "/almaws/v1"


def _wire(value: Any) -> Any:
    """``value`` as the other side of an HTTP call would see it: a fresh JSON copy."""
    return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))


def _check_limit(limit: int) -> int:
    # The HTTP adapter refuses this before sending anything; so does its twin.
    if not 0 <= limit <= MAX_PAGE:
        raise ValueError(f"Alma pages hold 0 to {MAX_PAGE} records, asked for {limit}")
    return limit


def _check_offset(offset: int) -> None:
    # The fake's ``paging`` refuses a negative offset with Alma's invalid-parameter error.
    if offset < 0:
        raise errors.invalid_parameter("offset", str(offset))


def _records(data: AlmaJson, key: str, view: Callable[[AlmaJson], V]) -> list[V]:
    # Alma (and the fake) omit the array key entirely for an empty list.
    return [view(v) for v in data.get(key) or [] if isinstance(v, dict)]


def _page(data: AlmaJson, key: str, view: Callable[[AlmaJson], V], offset: int) -> Page[V]:
    records = _records(data, key, view)
    return Page(records, total_record_count=int(data["total_record_count"]), offset=offset)


def _listing(key: str, rendered: list[AlmaJson], limit: int, offset: int) -> AlmaJson:
    return views.listing(key, rendered[offset : offset + limit], len(rendered))


def typed_error(
    error: errors.AlmaError,
    institution: str,
    operation: str,
    subject: Mapping[str, str],
    tracking_id: str,
) -> AlmaFailure:
    """The state's Alma error as the HTTP adapter would raise it: typed by `error_class_for`
    (code and operation) or, for a 5xx, `AlmaUnavailable` whatever the code says."""
    envelope = Envelope(error.code, error.message, tracking_id)
    error_class: type[AlmaFailure]
    if error.status >= 500:
        error_class = AlmaUnavailable
    else:
        error_class = error_class_for(error.status, envelope, operation)
    return error_class(
        institution,
        operation,
        http_status=error.status,
        error_code=envelope.error_code,
        error_message=envelope.error_message,
        tracking_id=envelope.tracking_id,
        subject=dict(subject),
    )


class InMemoryAlmaGateway:
    """One institution of a `FakeAlmaState`, reached by direct calls on the state."""

    def __init__(
        self,
        state: FakeAlmaState,
        institution: str,
        *,
        gateway_url: str = DEFAULT_GATEWAY_URL,
    ) -> None:
        code = _canonical_code(state, institution)
        if code is None:
            raise UnknownInstitution(institution)
        self.institution = institution
        self._state = state
        self._code = code
        self._base = gateway_url.rstrip("/") + API_ROOT
        self._tracking = TrackingIds(state.seed)

    def __repr__(self) -> str:
        return f"InMemoryAlmaGateway({self.institution!r})"

    @property
    def api_remaining(self) -> int | None:
        """Always None: the daily quota is counted by the fake's HTTP gateway, not its state."""
        return None

    @property
    def _inst(self) -> Institution:
        return self._state.institution(self._code)

    async def _run(
        self,
        operation: str,
        work: Callable[[], AlmaJson | None],
        subject: Mapping[str, str] | None = None,
    ) -> AlmaJson:
        """Run one logical Alma call on the state; returns the JSON body the route answers."""
        await asyncio.sleep(0)  # a point where other tasks run, as during a real call's I/O
        try:
            body = work()
        except errors.AlmaError as exc:
            raise self._typed(exc, operation, subject or {}) from None
        # A 204 answer has no body; the HTTP adapter reads it as {}.
        return {} if body is None else dict(_wire(body))

    def _typed(
        self, error: errors.AlmaError, operation: str, subject: Mapping[str, str]
    ) -> AlmaFailure:
        tracking_id = self._tracking.next(self._state.clock.now())
        return typed_error(error, self.institution, operation, subject, tracking_id)

    def _bib_json(self, bib: Bib) -> AlmaJson:
        # As routes_bibs: a bib carries the number of active requests on it.
        active = self._state.requests_of(self._code, mms_id=bib.mms_id)
        return views.bib_json(bib, self._base, requests=len(active))

    def _request_json(self, request: UserRequest) -> AlmaJson:
        return views.request_json(self._inst, request)

    # ---- items ----------------------------------------------------------------------------

    async def item_by_barcode(self, barcode: str) -> AlmaItem:
        def work() -> AlmaJson:
            # The route answers 302 to the item's URL, which the HTTP adapter follows.
            found = self._state.item_by_barcode(self._code, barcode)
            item = self._state.item(self._code, found.mms_id, found.holding_id, found.pid)
            return views.item_json(self._inst, item, self._base)

        return AlmaItem(await self._run("get item by barcode", work, {"barcode": barcode}))

    async def get_item(self, mms_id: str, holding_id: str, item_pid: str) -> AlmaItem:
        def work() -> AlmaJson:
            item = self._state.item(self._code, mms_id, holding_id, item_pid)
            return views.item_json(self._inst, item, self._base)

        return AlmaItem(await self._run("get item", work, {"item": item_pid}))

    async def list_items(
        self, mms_id: str, holding_id: str = "ALL", *, limit: int = MAX_PAGE, offset: int = 0
    ) -> Page[AlmaItem]:
        _check_limit(limit)

        def work() -> AlmaJson:
            _check_offset(offset)
            items = self._state.items_of(self._code, mms_id, holding_id)
            rendered = [views.item_json(self._inst, i, self._base) for i in items]
            return _listing("item", rendered, limit, offset)

        data = await self._run("list items", work, {"mms_id": mms_id})
        return _page(data, "item", AlmaItem, offset)

    async def create_item(self, mms_id: str, holding_id: str, item: AlmaJson) -> AlmaItem:
        barcode = str((item.get("item_data") or {}).get("barcode") or "")
        body = _wire(item)

        def work() -> AlmaJson:
            created = self._state.create_item(self._code, mms_id, holding_id, body)
            return views.item_json(self._inst, created, self._base)

        return AlmaItem(await self._run("create item", work, {"barcode": barcode}))

    async def update_item(
        self, mms_id: str, holding_id: str, item_pid: str, item: AlmaJson
    ) -> AlmaItem:
        barcode = str((item.get("item_data") or {}).get("barcode") or "")
        body = _wire(item)

        def work() -> AlmaJson:
            updated = self._state.update_item(self._code, mms_id, holding_id, item_pid, body)
            return views.item_json(self._inst, updated, self._base)

        return AlmaItem(await self._run("update item", work, {"barcode": barcode}))

    async def delete_item(
        self, mms_id: str, holding_id: str, item_pid: str, *, override: bool = False
    ) -> None:
        def work() -> None:
            self._state.delete_item(self._code, mms_id, holding_id, item_pid, override=override)

        await self._run("delete item", work, {"item": item_pid})

    async def scan_in(
        self, mms_id: str, holding_id: str, item_pid: str, *, library: str, circ_desk: str
    ) -> AlmaItem:
        def work() -> AlmaJson:
            item, info = self._state.scan_in(
                self._code,
                mms_id,
                holding_id,
                item_pid,
                library=library,
                circ_desk=circ_desk,
                done=True,
            )
            return views.scan_json(self._inst, item, info, self._base)

        subject = {"item": item_pid, "library": library}
        return AlmaItem(await self._run("scan in item", work, subject))

    # ---- bibs and holdings ------------------------------------------------------------------

    def _find_bibs(self, *, nz_mms_id: str = "", other_system_id: str = "") -> AlmaJson:
        # As routes_bibs: a search needs one of its keys, and keeps "bib": [] when empty.
        if not (nz_mms_id or other_system_id):
            raise errors.invalid_parameter("mms_id", "")
        bibs = self._state.find_bibs(
            self._code, nz_mms_id=nz_mms_id or None, other_system_id=other_system_id or None
        )
        return {"bib": [self._bib_json(b) for b in bibs], "total_record_count": len(bibs)}

    async def bibs_by_nz_id(self, nz_mms_id: str) -> list[AlmaBib]:
        data = await self._run(
            "find bib by NZ id",
            lambda: self._find_bibs(nz_mms_id=nz_mms_id),
            {"nz_mms_id": nz_mms_id},
        )
        return _records(data, "bib", AlmaBib)

    async def bibs_by_other_system_id(self, other_system_id: str) -> list[AlmaBib]:
        data = await self._run(
            "find bib by other system id",
            lambda: self._find_bibs(other_system_id=other_system_id),
            {"other_system_id": other_system_id},
        )
        return _records(data, "bib", AlmaBib)

    async def get_bib(self, mms_id: str) -> AlmaBib:
        def work() -> AlmaJson:
            return self._bib_json(self._state.bib(self._code, mms_id))

        return AlmaBib(await self._run("get bib", work, {"mms_id": mms_id}))

    async def create_bib_from_nz(self, nz_mms_id: str) -> AlmaBib:
        def work() -> AlmaJson:
            if not nz_mms_id:
                # The route then reads the body, an empty <bib>, as a local record: none.
                raise errors.mandatory_field_missing("record")
            return self._bib_json(self._state.create_bib_from_nz(self._code, nz_mms_id))

        return AlmaBib(await self._run("create bib from NZ", work, {"nz_mms_id": nz_mms_id}))

    async def create_local_bib(self, marc_record_xml: str) -> AlmaBib:
        def work() -> AlmaJson:
            # The body the HTTP adapter sends, read as the route reads it.
            record = marc.find_record(marc.parse_xml(f"<bib>{marc_record_xml}</bib>"))
            if record is None:
                raise errors.mandatory_field_missing("record")
            return self._bib_json(self._state.create_bib(self._code, record))

        return AlmaBib(await self._run("create local bib", work))

    async def list_holdings(self, mms_id: str) -> list[AlmaHolding]:
        def work() -> AlmaJson:
            bib = self._state.bib(self._code, mms_id)
            holdings = self._state.holdings_of(self._code, mms_id)
            return views.holdings_list_json(self._inst, bib, holdings, self._base)

        data = await self._run("list holdings", work, {"mms_id": mms_id})
        return _records(data, "holding", AlmaHolding)

    async def create_holding(self, mms_id: str, library: str, location: str) -> AlmaHolding:
        def work() -> AlmaJson:
            # The HTTP adapter's 852 template, parsed as the route parses it. Not the state's
            # library/location shortcut: that builds a fuller record (leader, 008) than
            # the template, so the holding's MARC would differ between the two adapters.
            root = marc.parse_xml(holding_xml(library, location))
            record = marc.find_record(root)
            if record is None:  # pragma: no cover - the template always has one
                raise errors.mandatory_field_missing("record")
            suppress = (root.findtext("suppress_from_publishing") or "false").strip() == "true"
            holding = self._state.create_holding(
                self._code, mms_id, record=record, suppress_from_publishing=suppress
            )
            return views.holding_json(holding)

        subject = {"mms_id": mms_id, "location": location}
        return AlmaHolding(await self._run("create holding", work, subject))

    # ---- requests ---------------------------------------------------------------------------

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
        body = _wire(request)

        def work() -> AlmaJson:
            created = self._state.create_item_request(
                self._code,
                mms_id,
                holding_id,
                item_pid,
                user_id,
                body,
                allow_same_request=allow_same_request,
            )
            return self._request_json(created)

        subject = {"item": item_pid, "user": user_id}
        return AlmaRequest(await self._run("create item request", work, subject))

    async def create_title_request(
        self, mms_id: str, user_id: str, request: AlmaJson, *, allow_same_request: bool = False
    ) -> AlmaRequest:
        body = _wire(request)

        def work() -> AlmaJson:
            created = self._state.create_title_request(
                self._code, mms_id, user_id, body, allow_same_request=allow_same_request
            )
            return self._request_json(created)

        subject = {"mms_id": mms_id, "user": user_id}
        return AlmaRequest(await self._run("create title request", work, subject))

    async def list_item_requests(
        self, mms_id: str, holding_id: str, item_pid: str
    ) -> list[AlmaRequest]:
        def work() -> AlmaJson:
            self._state.item(self._code, mms_id, holding_id, item_pid)
            found = self._state.requests_of(self._code, item_pid=item_pid, active=True)
            rendered = [self._request_json(r) for r in found]
            # The HTTP adapter pages through every request, so the whole list is the answer.
            return _listing("user_request", rendered, max(len(rendered), 1), 0)

        data = await self._run("list item requests", work, {"item": item_pid})
        return _records(data, "user_request", AlmaRequest)

    async def get_title_request(self, mms_id: str, request_id: str) -> AlmaRequest:
        def work() -> AlmaJson:
            self._state.bib(self._code, mms_id)
            return self._request_json(self._state.request(self._code, request_id, mms_id=mms_id))

        return AlmaRequest(await self._run("get request", work, {"request_id": request_id}))

    async def get_user_request(self, user_id: str, request_id: str) -> AlmaRequest:
        def work() -> AlmaJson:
            found = self._state.request(self._code, request_id, user_id=user_id)
            return self._request_json(found)

        return AlmaRequest(await self._run("get user request", work, {"request_id": request_id}))

    async def list_user_requests(
        self, user_id: str, *, limit: int = MAX_PAGE, offset: int = 0
    ) -> Page[AlmaRequest]:
        _check_limit(limit)

        def work() -> AlmaJson:
            _check_offset(offset)
            found = self._state.requests_of(self._code, user_id=user_id, active=True)
            rendered = [self._request_json(r) for r in found]
            return _listing("user_request", rendered, limit, offset)

        data = await self._run("list user requests", work, {"user": user_id})
        return _page(data, "user_request", AlmaRequest, offset)

    async def _cancel(
        self,
        operation: str,
        request_id: str,
        check: Callable[[], object],
        reason: str,
        note: str,
        notify_user: bool | None,
        **scope: str,
    ) -> None:
        def work() -> None:
            check()
            self._state.cancel_request(
                self._code,
                request_id,
                reason=reason,
                note=note,
                notify_user=notify_user,
                **scope,
            )

        await self._run(operation, work, {"request_id": request_id})

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
        await self._cancel(
            "cancel item request",
            request_id,
            lambda: self._state.item(self._code, mms_id, holding_id, item_pid),
            reason,
            note,
            notify_user,
            mms_id=mms_id,
            item_pid=item_pid,
        )

    async def cancel_title_request(
        self, mms_id: str, request_id: str, *, reason: str, note: str, notify_user: bool | None
    ) -> None:
        await self._cancel(
            "cancel title request",
            request_id,
            lambda: self._state.bib(self._code, mms_id),
            reason,
            note,
            notify_user,
            mms_id=mms_id,
        )

    async def cancel_user_request(
        self, user_id: str, request_id: str, *, reason: str, note: str, notify_user: bool | None
    ) -> None:
        await self._cancel(
            "cancel user request",
            request_id,
            lambda: None,
            reason,
            note,
            notify_user,
            user_id=user_id,
        )

    # ---- loans and users --------------------------------------------------------------------

    async def create_loan(
        self, user_id: str, item_pid: str, *, circ_desk: str, library: str
    ) -> AlmaLoan:
        def work() -> AlmaJson:
            loan = self._state.create_loan(
                self._code,
                user_id,
                item_pid=item_pid,
                # The route reads {"value": …} codes and treats an empty one as missing.
                circ_desk=circ_desk or None,
                library=library or None,
            )
            return views.loan_json(self._inst, loan)

        subject = {"user": user_id, "item": item_pid}
        return AlmaLoan(await self._run("create loan", work, subject))

    async def list_user_loans(
        self, user_id: str, *, limit: int = MAX_PAGE, offset: int = 0
    ) -> Page[AlmaLoan]:
        _check_limit(limit)

        def work() -> AlmaJson:
            _check_offset(offset)
            found = self._state.loans_of(self._code, user_id)
            rendered = [views.loan_json(self._inst, loan) for loan in found]
            return _listing("item_loan", rendered, limit, offset)

        data = await self._run("list loans", work, {"user": user_id})
        return _page(data, "item_loan", AlmaLoan, offset)

    async def item_loans(self, mms_id: str, holding_id: str, item_pid: str) -> list[AlmaLoan]:
        def work() -> AlmaJson:
            found = self._state.loans_of_item(self._code, mms_id, holding_id, item_pid)
            rendered = [views.loan_json(self._inst, loan) for loan in found]
            return views.listing("item_loan", rendered, len(rendered))

        data = await self._run("get item loans", work, {"item": item_pid})
        return [loan for loan in _records(data, "item_loan", AlmaLoan) if loan.active]

    async def get_user(self, user_id: str, *, id_type: str = "all_unique") -> AlmaUser:
        def work() -> AlmaJson:
            return views.user_json(self._state.user(self._code, user_id, id_type=id_type))

        return AlmaUser(await self._run("get user", work, {"user": user_id}))

    async def get_linked_user(self, link_id: str, source_institution_code: str) -> AlmaUser:
        def work() -> AlmaJson:
            if not source_institution_code:
                # The route, given an empty source, looks the id up as an ordinary user.
                return views.user_json(self._state.user(self._code, link_id))
            found = self._state.linked_user(self._code, link_id, source_institution_code)
            return views.user_json(found)

        subject = {"user": link_id, "source_institution": source_institution_code}
        return AlmaUser(await self._run("get linked user", work, subject))

    async def create_linked_user(
        self, source_institution_code: str, source_user_id: str
    ) -> AlmaUser:
        def work() -> AlmaJson:
            if not source_institution_code or not source_user_id:
                raise errors.mandatory_field_missing("source_institution_code and source_user_id")
            user = self._state.create_linked_user(
                self._code, source_institution_code, source_user_id
            )
            return views.user_json(user)

        subject = {"user": source_user_id, "source_institution": source_institution_code}
        return AlmaUser(await self._run("create linked user", work, subject))

    async def refresh_user(self, user_id: str) -> None:
        def work() -> None:
            self._state.refresh_user(self._code, user_id)

        await self._run("refresh linked user", work, {"user": user_id})

    # ---- configuration and courses ----------------------------------------------------------

    async def libraries(self) -> list[AlmaLibrary]:
        def work() -> AlmaJson:
            # The state has no accessor for this; the route reads the institution directly.
            found = [views.library_json(lib, self._base) for lib in self._inst.libraries.values()]
            return {"library": found}

        return _records(await self._run("list libraries", work), "library", AlmaLibrary)

    async def locations(self, library: str) -> list[AlmaLocation]:
        def work() -> AlmaJson:
            lib = self._state.library(self._code, library)
            found = [views.location_json(lib, loc, self._base) for loc in lib.locations.values()]
            return {"location": found, "total_record_count": len(found)}

        data = await self._run("list locations", work, {"library": library})
        return _records(data, "location", AlmaLocation)


class InMemoryAlmaDirectory:
    """The gateways of the institutions a `FakeAlmaState` holds (codes case-insensitive)."""

    def __init__(self, state: FakeAlmaState, *, gateway_url: str = DEFAULT_GATEWAY_URL) -> None:
        self._state = state
        self._gateway_url = gateway_url
        self._gateways: dict[str, InMemoryAlmaGateway] = {}

    def calls_wanted(self, institution: str) -> int:
        """`CallPacing`: no limiter to keep busy in memory, so never more than the floor."""
        return UNPACED.calls_wanted(institution)

    async def next_call_start(self, institution: str) -> None:
        """`CallPacing`: no call start is ever signalled."""
        await UNPACED.next_call_start(institution)

    def gateway(self, institution: str) -> InMemoryAlmaGateway:
        key = institution.casefold()
        if key not in self._gateways:
            self._gateways[key] = InMemoryAlmaGateway(
                self._state, institution, gateway_url=self._gateway_url
            )
        return self._gateways[key]


def _canonical_code(state: FakeAlmaState, institution: str) -> str | None:
    # Configuration may spell a code in another case than Alma does (HttpAlmaDirectory too).
    wanted = institution.casefold()
    return next((code for code in state.institutions if code.casefold() == wanted), None)
