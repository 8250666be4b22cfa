"""One member request: plan it, carry the decision out in Alma, record it (R6–R8).

A request already settled in the ledger is not sent again (R6). Otherwise the plan's decision is
carried out: forward (then switch a patron digitization's source request off), wait for the
mirror, or cancel exactly as the R8 row says. `request_records` writes each outcome.

Nothing but a definitive business reason cancels a member request (R7): transient Alma failures,
an unresolvable patron account, a request the bridge cannot read and Alma's refusals all park the
request as `failed`, with the request's data kept in the ledger for a later retry or replay.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.linked_users import ScfUserUnresolved
from application.scf.requests.cancels import cancel_source_request
from application.scf.requests.handlers import place
from application.scf.requests.outcomes import Action, RequestOutcome
from application.scf.requests.patron_contact import with_patron_contact
from application.scf.requests.plans import Plan, Planner, Unforwardable
from application.scf.requests.records import RequestRecorder, Switch, cancellation_details
from application.shared.alma import (
    AlmaError,
    AlmaFailure,
    AlmaStop,
    QuotaExhausted,
    RequestGone,
    TransientAlmaError,
    UnknownInstitution,
)
from application.shared.ledger_records import ForwardedRequest, JsonValue, Outcome, RequestStatus
from domain.scf.institutions import RemoteStorage
from domain.scf.requests.cancellations import SWITCHED_TO_REMOTE_STORAGE, Cancellation
from domain.scf.requests.forwarding import Cancel, Wait, cancels_source_after_success
from domain.scf.requests.routing import RemoteStorageRequest, route_request
from domain.shared.errors import DomainError

log = logging.getLogger(__name__)

_TRANSIENT = (TransientAlmaError, QuotaExhausted, TimeoutError)
"""Failures that retrying may cure: they never cancel (R7) and keep their file open."""
_FAILURES = (
    *_TRANSIENT,
    ScfUserUnresolved,
    Unforwardable,
    AlmaError,
    DomainError,
    UnknownInstitution,
)
"""Everything one request can fail with that must not stop the others."""

_SETTLED = frozenset(
    {RequestStatus.FORWARDED, RequestStatus.CANCELLED, RequestStatus.WAITING_FOR_MIRROR}
)
"""Rows a request file's re-reading leaves alone (R6); waiting rows are `retry_waiting`'s."""


class RequestProcessor:
    """Plans, carries out and records single requests."""

    def __init__(
        self,
        alma: AlmaDirectory,
        ledger: Ledger,
        clock: Clock,
        storage: RemoteStorage,
        planner: Planner,
        recorder: RequestRecorder,
    ) -> None:
        self._alma = alma
        self._ledger = ledger
        self._clock = clock
        self._storage = storage
        self._planner = planner
        self._recorder = recorder

    async def from_file(
        self,
        institution: str,
        request: RemoteStorageRequest,
        file_id: int | None,
        *,
        malformed: bool,
        run_pass: int = 1,
        withheld: tuple[str, ...] = (),
    ) -> RequestOutcome:
        """A request read from a file, or tried again in the run's pass `run_pass` after a
        transient failure: checked against the ledger first (R6), so a request another run
        settled meanwhile is not sent again."""
        if not request.request_id.strip():
            # No key for the ledger and nothing Alma could cancel: report it, row-less.
            outcome = self._outcome(institution, request, file_id, Action.FAILED, "no requestId")
            return await self._recorder.record(outcome, request)
        async with self._ledger.unit_of_work() as uow:
            row = await uow.requests.get(institution, request.request_id)
        if row is not None and row.status in _SETTLED:
            outcome = self._outcome(
                institution,
                request,
                file_id,
                Action.ALREADY_HANDLED,
                f"already {row.status.value} (R6): not sent again",
                scf_request_id=row.scf_request_id,
                scf_mms_id=row.scf_mms_id,
                run_pass=run_pass,
            )
            return await self._recorder.record(outcome, request)
        return await self.handle(
            institution,
            request,
            file_id,
            row,
            malformed=malformed,
            run_pass=run_pass,
            withheld=withheld,
        )

    async def handle(
        self,
        institution: str,
        request: RemoteStorageRequest,
        file_id: int | None,
        row: ForwardedRequest | None,
        *,
        malformed: bool = False,
        run_pass: int = 1,
        withheld: tuple[str, ...] = (),
    ) -> RequestOutcome:
        """Plan and carry out one request; every failure becomes a recorded `failed` outcome.

        Planned afresh on every pass: an earlier attempt's SCF request, placed before its answer
        was lost, is found by `place` (Alma refuses the duplicate, the handler adopts it: R6).
        `withheld`: the patron contact fields a request rebuilt from the ledger lacks (P2), read
        again from the member's Alma only when the request is forwarded.
        """
        first_seen = row.first_seen_at if row is not None else self._clock.now()
        try:
            plan = await self._planner.plan(institution, request, first_seen)
            return await self._carry_out(
                plan, file_id, malformed=malformed, run_pass=run_pass, withheld=withheld
            )
        except _FAILURES as error:
            failed = self._failure(institution, request, file_id, error, run_pass=run_pass)
        return await self._recorder.record(failed, request)

    async def preview(self, institution: str, request: RemoteStorageRequest) -> RequestOutcome:
        """What a run would do with `request`, from reads only: nothing is written (dry run)."""
        if not request.request_id.strip():
            return self._outcome(institution, request, None, Action.FAILED, "no requestId")
        async with self._ledger.unit_of_work() as uow:
            row = await uow.requests.get(institution, request.request_id)
        if row is not None and row.status in _SETTLED:
            reason = f"already {row.status.value} (R6): would not be sent again"
            return self._outcome(institution, request, None, Action.ALREADY_HANDLED, reason)
        first_seen = row.first_seen_at if row is not None else self._clock.now()
        try:
            plan = await self._planner.plan(institution, request, first_seen)
        except _FAILURES as error:
            return self._failure(institution, request, None, error)
        decision = plan.decision
        ids: dict[str, Any] = {"route": plan.route, "mms_id": plan.member_mms_id}
        if isinstance(decision, Wait):
            action, reason = Action.WOULD_WAIT, f"{decision.reason} (until {decision.until})"
        elif isinstance(decision, Cancel):
            action = Action.WOULD_CANCEL
            reason = f"{decision.reason}: {decision.cancellation.note}"
        else:
            action, reason = Action.WOULD_FORWARD, decision.reason
            ids["scf_mms_id"] = plan.target.mms_id if plan.target else None
            ids["user_id"] = (
                f"SCF account of {plan.member_user_id}"
                if plan.route.is_patron_digitization
                else plan.pickup.system_user
            )
        return self._outcome(institution, request, None, action, reason, **ids)

    def _failure(
        self,
        institution: str,
        request: RemoteStorageRequest,
        file_id: int | None,
        error: Exception,
        *,
        run_pass: int = 1,
    ) -> RequestOutcome:
        """A failed outcome; transient ones say so, and an exhausted quota stops the run."""
        code = getattr(error, "error_code", None)
        if isinstance(error, _TRANSIENT):
            return self._outcome(
                institution,
                request,
                file_id,
                Action.FAILED,
                f"transient failure, retried later: {error or type(error).__name__}",
                error_code=code,
                transient=True,
                quota_exhausted=isinstance(error, QuotaExhausted),
                run_pass=run_pass,
            )
        return self._outcome(
            institution,
            request,
            file_id,
            Action.FAILED,
            str(error),
            error_code=code,
            run_pass=run_pass,
        )

    async def _carry_out(
        self,
        plan: Plan,
        file_id: int | None,
        *,
        malformed: bool,
        run_pass: int,
        withheld: tuple[str, ...] = (),
    ) -> RequestOutcome:
        decision = plan.decision
        request, institution = plan.request, plan.institution
        ids: dict[str, Any] = {
            "route": plan.route,
            "mms_id": plan.member_mms_id,
            "scf_mms_id": plan.target.mms_id if plan.target else None,
            "run_pass": run_pass,
        }
        if isinstance(decision, Wait):
            outcome = self._outcome(
                institution, request, file_id, Action.WAITING, decision.reason, **ids
            )
            until = decision.until.isoformat()
            return await self._recorder.record(outcome, request, extra={"until": until})
        would_cancel = isinstance(decision, Cancel) or cancels_source_after_success(plan.route)
        if malformed and would_cancel:
            reason = f"{decision.reason}; the file is malformed, so nothing is cancelled (R1)"
            outcome = self._outcome(institution, request, file_id, Action.FAILED, reason, **ids)
            return await self._recorder.record(outcome, request)
        if isinstance(decision, Cancel):
            reason = decision.reason + await self._cancel(plan, decision.cancellation)
            outcome = self._outcome(institution, request, file_id, Action.CANCELLED, reason, **ids)
            cancelled = cancellation_details(decision.cancellation)
            return await self._recorder.record(outcome, request, extra=cancelled)
        contact: str | None = None
        if withheld:
            member = self._alma.gateway(institution)
            restored, contact = await with_patron_contact(member, request, withheld)
            plan = dataclasses.replace(plan, request=restored)
        placed = await place(self._alma, self._storage, plan)
        ids.update(
            scf_request_id=placed.scf_request_id,
            scf_mms_id=placed.scf_mms_id,
            user_id=placed.user_id,
        )
        outcome = self._outcome(
            institution, request, file_id, Action.FORWARDED, decision.reason, **ids
        )
        details: dict[str, JsonValue] = {"user_how": placed.user_how, "adopted": placed.adopted}
        if contact is not None:
            details["patron_contact"] = contact
        if plan.target is not None and plan.target.item_pid:
            details["scf_item_pid"] = plan.target.item_pid
        switch: Switch | None = None
        if cancels_source_after_success(plan.route):
            try:
                gone = await self._cancel(plan, SWITCHED_TO_REMOTE_STORAGE)
                switch = Switch(Outcome.OK, SWITCHED_TO_REMOTE_STORAGE.note + gone)
            except (AlmaFailure, DomainError) as error:
                # The SCF request exists, so the outcome stays forwarded and recorded, whatever
                # stopped the cancel (a quota stop included); the switch is reported.
                code = error.error_code if isinstance(error, AlmaFailure) else None
                switch = Switch(Outcome.FAILED, f"RequestSwitched cancel failed: {error}", code)
                quota = isinstance(error, AlmaStop)
                outcome = dataclasses.replace(outcome, quota_exhausted=quota)
        return await self._recorder.record(outcome, request, switch=switch, extra=details)

    async def _cancel(self, plan: Plan, cancellation: Cancellation) -> str:
        """Cancel the source request; "" once done, or what to add to the outcome's reason
        when Alma had no active request left to cancel (`RequestGone`).

        That answer is what a retry gets after an earlier attempt cancelled the request and was
        killed before recording it (or the request was closed meanwhile): the request is not
        active, which is all the cancel was for, so it is not a failure (R7, R8).
        """
        try:
            await cancel_source_request(
                self._alma.gateway(plan.institution),
                cancellation,
                request_id=plan.request.request_id,
                mms_id=plan.member_mms_id,
                user_id=plan.member_user_id,
                member_item=plan.member_item,
            )
        except RequestGone as error:
            return f" (Alma had no active request left to cancel, {error.error_code})"
        return ""

    @staticmethod
    def _outcome(
        institution: str,
        request: RemoteStorageRequest,
        file_id: int | None,
        action: Action,
        reason: str,
        **fields: Any,
    ) -> RequestOutcome:
        fields.setdefault("route", route_request(request))
        fields.setdefault("mms_id", request.mms_id)
        return RequestOutcome(
            institution=institution,
            request_id=request.request_id,
            action=action,
            reason=reason,
            barcode=request.barcode,
            file_id=file_id,
            **fields,
        )
