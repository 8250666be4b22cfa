"""Writing a request's outcome to the ledger and the failure report (rules R6, R7, P1, item 4).

Each outcome is one unit of work: the `forwarded_requests` row and the events that explain it
(the decision, Alma's ids, and on failure Alma's errorCode and message) commit together or not at
all. Failures and cancellations are also appended to the `RequestHandler` CSV report (P1).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.ports import FailureReports
from application.scf.recorded_via import via_details
from application.scf.reports import ReportName, ReportRow
from application.scf.requests.outcomes import Action, RequestOutcome
from application.scf.requests.request_data import request_to_json
from application.shared.ledger_records import JsonValue, Outcome
from domain.scf.requests.cancellations import SWITCHED_TO_REMOTE_STORAGE, Cancellation
from domain.scf.requests.routing import RemoteStorageRequest

log = logging.getLogger(__name__)

RETRY_LIMIT = 10
"""Runs after which a transiently failing request stops holding its file open (R7: "retried,
then parked as failed for replay"); `RequestForwarding.replay` still retries it on demand.
Each run may try a request up to `attempts_per_run` times (its in-run retries), so the limit on
the ledger's attempt count is `RETRY_LIMIT * attempts_per_run`."""

_EVENT = {
    Action.FORWARDED: ("request.forward", Outcome.OK),
    Action.WAITING: ("request.wait", Outcome.SKIPPED),
    Action.CANCELLED: ("request.cancel", Outcome.OK),
    Action.FAILED: ("request.fail", Outcome.FAILED),
    Action.ALREADY_HANDLED: ("request.duplicate", Outcome.SKIPPED),
}


@dataclass(frozen=True)
class Switch:
    """How the RequestSwitched cancel after a patron digitization went (research §7.4.3)."""

    outcome: Outcome
    message: str
    error_code: str | None = None


def cancellation_details(cancellation: Cancellation) -> dict[str, JsonValue]:
    """The R8 row as event details: what Alma was told, and through which endpoint."""
    return {
        "cancel_reason": cancellation.reason.value,
        "cancel_note": cancellation.note,
        "notify_user": cancellation.notify_user,
        "cancel_scope": cancellation.scope.value,
    }


def _last_error(outcome: RequestOutcome, switch: Switch | None) -> str | None:
    if outcome.action is Action.FAILED:
        return outcome.reason
    if switch is not None and switch.outcome is Outcome.FAILED:
        return switch.message
    return None


class RequestRecorder:
    """Records request outcomes in the ledger and the failure report."""

    def __init__(
        self, ledger: Ledger, reports: FailureReports, clock: Clock, *, attempts_per_run: int = 1
    ) -> None:
        self._ledger = ledger
        self._reports = reports
        self._clock = clock
        self._attempt_limit = RETRY_LIMIT * max(1, attempts_per_run)

    async def record(
        self,
        outcome: RequestOutcome,
        request: RemoteStorageRequest,
        *,
        switch: Switch | None = None,
        extra: Mapping[str, JsonValue] | None = None,
    ) -> RequestOutcome:
        """Write the row and its events in one unit of work; report failures (P1)."""
        ids: dict[str, JsonValue] = {
            "route": outcome.route.value if outcome.route else None,
            "mms_id": outcome.mms_id,
            "scf_request_id": outcome.scf_request_id,
            "scf_mms_id": outcome.scf_mms_id,
            "user_id": outcome.user_id,
        }
        # Unknown ids are left out; extra facts stay even when null (notify_user: not sent).
        details: dict[str, JsonValue] = {k: v for k, v in ids.items() if v is not None}
        details.update(extra or {})
        details.update(via_details())
        if outcome.transient:
            details["transient"] = True
        message = outcome.reason
        if outcome.run_pass > 1:
            # An in-run retry after a transient failure (its `request.fail` event is before).
            details["pass"] = outcome.run_pass
            message = f"{message} (pass {outcome.run_pass} of this run)"
        status = outcome.action.status
        action, event_outcome = _EVENT[outcome.action]
        common: dict[str, Any] = {
            "institution": outcome.institution,
            "barcode": outcome.barcode,
            "request_id": outcome.request_id or None,
            "file_id": outcome.file_id,
        }
        async with self._ledger.unit_of_work() as uow:
            row = None
            if status is not None and outcome.request_id.strip():
                row = await uow.requests.upsert(
                    outcome.institution,
                    outcome.request_id,
                    route=outcome.route.value if outcome.route else "unrouted",
                    status=status,
                    barcode=outcome.barcode,
                    mms_id=outcome.mms_id,
                    scf_request_id=outcome.scf_request_id,
                    scf_mms_id=outcome.scf_mms_id,
                    user_id=outcome.user_id,
                    last_error=_last_error(outcome, switch),
                    request_data=request_to_json(request, outcome.file_id),
                )
            await uow.events.append(
                action,
                event_outcome,
                message=message,
                details=details,
                error_code=outcome.error_code,
                **common,
            )
            if switch is not None:
                switch_details = cancellation_details(SWITCHED_TO_REMOTE_STORAGE)
                switch_details["scf_request_id"] = outcome.scf_request_id
                await uow.events.append(
                    "request.switch",
                    switch.outcome,
                    message=switch.message,
                    details=switch_details,
                    error_code=switch.error_code,
                    **common,
                )
            await uow.commit()
        if row is not None and outcome.transient:
            retry_later = row.attempts < self._attempt_limit
            outcome = dataclasses.replace(outcome, retry_later=retry_later)
        await self._report(outcome, switch)
        return outcome

    async def _report(self, outcome: RequestOutcome, switch: Switch | None) -> None:
        messages = []
        if outcome.action in (Action.FAILED, Action.CANCELLED):
            messages.append(
                f"Request {outcome.request_id or '(no requestId)'} {outcome.action.value}: "
                f"{outcome.reason}"
            )
        if switch is not None and switch.outcome is Outcome.FAILED:
            messages.append(f"Request {outcome.request_id} forwarded; {switch.message}")
        for message in messages:
            log.warning("%s: %s", outcome.institution, message)
            await self._reports.append(
                ReportRow(
                    ReportName.REQUESTS,
                    self._clock.now(),
                    outcome.barcode,
                    outcome.institution,
                    message,
                )
            )
