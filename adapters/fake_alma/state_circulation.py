"""The circulation layer of the state: requests, loans and scan-in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.fake_alma import errors, templates
from adapters.fake_alma.clock import alma_date
from adapters.fake_alma.model import (
    Institution,
    Item,
    Loan,
    User,
    UserRequest,
)
from adapters.fake_alma.state_base import LOAN_PERIOD, REQUEST_BODY_KEYS, REQUEST_EXPIRY
from adapters.fake_alma.state_patrons import PatronState


class CirculationState(PatronState):
    """Item- and title-level requests, loans, and scanning items in."""

    def scan_in(
        self,
        institution: str,
        mms_id: str,
        holding_id: str,
        item_pid: str,
        *,
        library: str | None,
        circ_desk: str | None,
        department: str | None = None,
        done: bool = False,
    ) -> tuple[Item, str]:
        """``POST …/items/{pid}?op=scan``: returns the item and Alma's ``additional_info``.

        An active loan is returned. A waiting hold sends the item to the hold shelf (or in
        transit to the pickup library); otherwise the item is back in place when ``done`` or
        scanned at its own library, and in transit home when not."""
        inst = self.institution(institution)
        item = inst.items.get(item_pid)
        if item is None or item.mms_id != mms_id or item.holding_id != holding_id:
            raise errors.invalid_item_pid(item_pid)
        if not circ_desk and not department:
            raise errors.scan_missing_desk()
        if not library:
            raise errors.mandatory_field_missing("library")
        lib = self.library(institution, library)
        if circ_desk and circ_desk not in lib.circ_desks:
            raise errors.invalid_parameter("circ_desk", circ_desk)
        if department and not circ_desk and department not in lib.departments:
            raise errors.invalid_parameter("department", department)
        now = self._now()
        loan = self._active_loan(inst, item.pid)
        if loan is not None:
            loan.status = "COMPLETE"
            loan.returned_at = now
            loan.return_circ_desk = circ_desk
            loan.return_library = library
        waiting = self._queue(inst, item.pid)
        home = item.data["library"]["value"]
        request_text = "Request/Process Type: . Requester: . Requester ID: . Place in Queue: 0"
        if waiting:
            first = waiting[0]
            pickup = str(first.fields.get("pickup_location_library") or library)
            requester = inst.users.get(first.user_primary_id)
            request_text = (
                f"Request/Process Type: {first.sub_type.get('desc') or ''}. "
                f"Requester: {requester.data.get('full_name', '') if requester else ''}. "
                f"Requester ID: {first.user_primary_id}. Place in Queue: 1"
            )
            if pickup == library:
                self._set_process_type(item, "HOLDSHELF")
                first.request_status = "ON_HOLD_SHELF"
                first.task_name = "On Hold Shelf"
                destination = "Hold Shelf"
            else:
                self._set_process_type(item, "TRANSIT")
                first.task_name = "In Transit"
                destination = f"Transit to {self._library_name(inst, pickup) or pickup}"
        elif done or library == home:
            self._set_process_type(item, "")
            location = item.data["location"]["value"]
            destination = f"Reshelve to {location} {home}"
        else:
            self._set_process_type(item, "TRANSIT")
            destination = f"Transit to {self._library_name(inst, home) or home}"
        item.data["modification_date"] = alma_date(now)
        return item, f"Item's destination is: {destination}. {request_text}"

    def _request_user(self, institution: str, user_id: str | None, id_type: str) -> User:
        if not user_id:
            raise errors.mandatory_field_missing("user_id")
        try:
            return self.user(institution, user_id, id_type=id_type)
        except errors.AlmaError:
            raise errors.user_of_type_not_found(user_id, id_type) from None

    def _new_request(
        self,
        inst: Institution,
        user: User,
        body: Mapping[str, Any],
        *,
        mms_id: str,
        holding_id: str | None,
        item: Item | None,
        allow_same_request: bool,
    ) -> UserRequest:
        request_type = str(body.get("request_type") or "")
        if not request_type:
            raise errors.mandatory_field_missing("request_type")
        if request_type not in templates.REQUEST_TYPES:
            raise errors.invalid_parameter("request_type", request_type)
        sub = body.get("request_sub_type")
        sub_value = sub.get("value") if isinstance(sub, Mapping) else sub
        sub_value = str(sub_value or templates.DEFAULT_SUB_TYPE.get(request_type, ""))
        sub_desc = templates.REQUEST_SUB_TYPES.get(sub_value)
        if sub_desc is None and isinstance(sub, Mapping):
            sub_desc = sub.get("desc")
        item_pid = item.pid if item else None
        if not allow_same_request:
            for other in inst.requests.values():
                same_target = other.item_pid == item_pid and other.mms_id == mms_id
                if other.active and other.user_primary_id == user.primary_id and same_target:
                    raise errors.duplicate_request()
        pickup_type = str(body.get("pickup_location_type") or "LIBRARY")
        pickup_library = body.get("pickup_location_library")
        if pickup_type in ("LIBRARY", "CIRCULATION_DESK") and pickup_library:
            self.library(inst.code, str(pickup_library))
        now = self._now()
        fields = {key: body[key] for key in REQUEST_BODY_KEYS if key in body}
        fields["pickup_location_type"] = pickup_type
        in_place = [item] if item else [i for i in inst.items.values() if i.mms_id == mms_id]
        queue = self._queue(inst, item_pid) if item_pid else []
        first_in_line = not queue and any(i.process_type == "" for i in in_place)
        request = UserRequest(
            request_id=inst.ids.request_id(),
            user_primary_id=user.primary_id,
            mms_id=mms_id,
            holding_id=holding_id,
            item_pid=item_pid,
            request_type=request_type,
            sub_type=templates.code_desc(sub_value, sub_desc),
            created=now,
            expiry=now + REQUEST_EXPIRY,
            request_status="IN_PROCESS" if first_in_line else "NOT_STARTED",
            task_name="Pickup From Shelf",
            fields=fields,
        )
        inst.requests[request.request_id] = request
        self._refresh_requested(inst, item_pid)
        return request

    def create_item_request(
        self,
        institution: str,
        mms_id: str,
        holding_id: str,
        item_pid: str,
        user_id: str | None,
        body: Mapping[str, Any],
        *,
        user_id_type: str = "all_unique",
        allow_same_request: bool = False,
    ) -> UserRequest:
        """``POST …/items/{pid}/requests?user_id=``; a second active request of the user on
        the item is refused (401136) unless ``allow_same_request``."""
        inst = self.institution(institution)
        user = self._request_user(institution, user_id, user_id_type)
        item = self.item(institution, mms_id, holding_id, item_pid)
        return self._new_request(
            inst,
            user,
            body,
            mms_id=mms_id,
            holding_id=holding_id,
            item=item,
            allow_same_request=allow_same_request,
        )

    def create_title_request(
        self,
        institution: str,
        mms_id: str,
        user_id: str | None,
        body: Mapping[str, Any],
        *,
        user_id_type: str = "all_unique",
        allow_same_request: bool = False,
    ) -> UserRequest:
        """``POST /bibs/{mms}/requests?user_id=``: needs an item of the bib (else 401129)."""
        inst = self.institution(institution)
        user = self._request_user(institution, user_id, user_id_type)
        self.bib(institution, mms_id)
        wanted_holding = body.get("holding_id")
        items = [
            i
            for i in inst.items.values()
            if i.mms_id == mms_id and (not wanted_holding or i.holding_id == wanted_holding)
        ]
        if not items:
            raise errors.no_items_can_fulfill()
        return self._new_request(
            inst,
            user,
            body,
            mms_id=mms_id,
            holding_id=str(wanted_holding or items[0].holding_id),
            item=None,
            allow_same_request=allow_same_request,
        )

    def request(
        self,
        institution: str,
        request_id: str,
        *,
        mms_id: str | None = None,
        item_pid: str | None = None,
        user_id: str | None = None,
    ) -> UserRequest:
        """A request, checked against the bib, item or user of the path it was asked under."""
        inst = self.institution(institution)
        request = inst.requests.get(request_id)
        if request is None:
            raise errors.request_not_found(request_id)
        if mms_id is not None and request.mms_id != mms_id:
            raise errors.request_not_found(request_id)
        if item_pid is not None and request.item_pid != item_pid:
            raise errors.request_not_found(request_id)
        if user_id is not None:
            user = self.user(institution, user_id)
            if request.user_primary_id != user.primary_id:
                raise errors.request_not_found(request_id)
        return request

    def requests_of(
        self,
        institution: str,
        *,
        mms_id: str | None = None,
        item_pid: str | None = None,
        user_id: str | None = None,
        active: bool | None = True,
        request_type: str | None = None,
    ) -> list[UserRequest]:
        """Requests filtered by bib, item, user, state (None = any) and type."""
        inst = self.institution(institution)
        primary = self.user(institution, user_id).primary_id if user_id is not None else None
        return [
            r
            for r in inst.requests.values()
            if (mms_id is None or r.mms_id == mms_id)
            and (item_pid is None or r.item_pid == item_pid)
            and (primary is None or r.user_primary_id == primary)
            and (active is None or r.active == active)
            and (request_type is None or r.request_type == request_type)
        ]

    def cancel_request(
        self,
        institution: str,
        request_id: str,
        *,
        reason: str | None = None,
        note: str | None = None,
        notify_user: bool | None = None,
        mms_id: str | None = None,
        item_pid: str | None = None,
        user_id: str | None = None,
    ) -> UserRequest:
        """``DELETE …/requests/{rid}``: records reason, note and notify flag on the request."""
        inst = self.institution(institution)
        request = self.request(
            institution, request_id, mms_id=mms_id, item_pid=item_pid, user_id=user_id
        )
        if not request.active:
            raise errors.request_not_found(request_id)
        self._close_request(request, reason, note, notify_user, self._now())
        self._refresh_requested(inst, request.item_pid)
        return request

    def create_loan(
        self,
        institution: str,
        user_id: str,
        *,
        item_pid: str | None = None,
        item_barcode: str | None = None,
        circ_desk: str | None,
        library: str | None,
    ) -> Loan:
        """``POST /users/{uid}/loans?item_pid=`` with ``{circ_desk, library}``: the item's
        process type becomes LOAN until it is scanned in."""
        inst = self.institution(institution)
        user = self.user(institution, user_id)
        if item_pid:
            found = inst.items.get(item_pid)
            if found is None:
                raise errors.invalid_item_pid(item_pid)
            item = found
        elif item_barcode:
            item = self.item_by_barcode(institution, item_barcode)
        else:
            raise errors.mandatory_field_missing("item_pid")
        if not circ_desk:
            raise errors.mandatory_field_missing("circ_desk")
        if not library:
            raise errors.mandatory_field_missing("library")
        lib = self.library(institution, library)
        if circ_desk not in lib.circ_desks:
            raise errors.invalid_parameter("circ_desk", circ_desk)
        if self._active_loan(inst, item.pid) is not None or item.process_type == "LOAN":
            raise errors.item_already_loaned()
        now = self._now()
        loan = Loan(
            loan_id=inst.ids.loan_id(),
            user_id=user.primary_id,
            item_pid=item.pid,
            mms_id=item.mms_id,
            holding_id=item.holding_id,
            circ_desk=circ_desk,
            library=library,
            loan_date=now,
            due_date=now + LOAN_PERIOD,
            item_barcode=item.barcode,
        )
        inst.loans[loan.loan_id] = loan
        self._set_process_type(item, "LOAN")
        item.data["modification_date"] = alma_date(now)
        return loan

    def loans_of(
        self, institution: str, user_id: str | None = None, *, active: bool | None = True
    ) -> list[Loan]:
        """Loans, optionally of one user, active only by default (None = all)."""
        inst = self.institution(institution)
        primary = self.user(institution, user_id).primary_id if user_id is not None else None
        return [
            loan
            for loan in inst.loans.values()
            if (primary is None or loan.user_id == primary)
            and (active is None or loan.active == active)
        ]

    def loans_of_item(
        self, institution: str, mms_id: str, holding_id: str, item_pid: str
    ) -> list[Loan]:
        """``GET …/items/{pid}/loans``: the item's active loan (at most one), or 401683."""
        item = self.item(institution, mms_id, holding_id, item_pid)
        loan = self._active_loan(self.institution(institution), item.pid)
        return [] if loan is None else [loan]

    def renew_loan(self, institution: str, user_id: str, loan_id: str) -> Loan:
        """``POST /users/{uid}/loans/{lid}?op=renew``: one more loan period from today."""
        loan = self.loan(institution, user_id, loan_id)
        if not loan.active:
            raise errors.loan_not_found(loan_id)
        loan.due_date = max(loan.due_date, self._now()) + LOAN_PERIOD
        loan.last_renew_status = "SUCCESS"
        return loan

    def loan(self, institution: str, user_id: str, loan_id: str) -> Loan:
        """One loan of a user, or 401823."""
        loan = self.institution(institution).loans.get(loan_id)
        if loan is None or loan.user_id != self.user(institution, user_id).primary_id:
            raise errors.loan_not_found(loan_id)
        return loan
