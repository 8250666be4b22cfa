"""How a circulation webhook's outcome is recorded: one ledger event, and a P1 row on failure.

The event is written in the same unit of work as the ledger state it changes (the mirror's loan
returned for rule R7, the forwarded request's status for C2), so the two never disagree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.ports import FailureReports
from application.scf.reports import ReportName, ReportRow
from application.shared.alma import AlmaError
from application.shared.ledger_records import JsonValue, Outcome, RequestStatus

log = logging.getLogger("application.scf.circulation.carry_back")

SCAN_IN = "circulation.scan_in"
CANCEL_SOURCE = "circulation.cancel_source"
_REPORTS = {SCAN_IN: ReportName.LOAN_RETURNED, CANCEL_SOURCE: ReportName.REQUEST_CANCELED}

Details = dict[str, JsonValue]


@dataclass(frozen=True)
class CirculationOutcome:
    """What one circulation webhook came to, as its ledger event records it."""

    action: str
    outcome: Outcome
    message: str
    institution: str | None = None
    barcode: str | None = None
    request_id: str | None = None
    error_code: str | None = None
    details: Details = field(default_factory=dict)


class Refused(Exception):
    """A business failure on the way (Alma's refusal, a missing item, a bad configuration).

    Caught by the use case and recorded as one event; never reaches the inbox, because
    retrying would not change the answer.
    """

    def __init__(
        self,
        message: str,
        *,
        institution: str | None = None,
        error: AlmaError | None = None,
        outcome: Outcome = Outcome.FAILED,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.institution = institution
        self.error = error
        self.outcome = outcome

    def outcome_of(self, action: str, institution: str) -> CirculationOutcome:
        """The outcome this refusal records, with Alma's errorCode and message when it has them."""
        error = self.error
        details: Details = {}
        if error is not None:
            details = {
                "alma_error_message": error.error_message,
                "alma_tracking_id": error.tracking_id,
                "alma_operation": error.operation,
                "http_status": error.http_status,
            }
        return CirculationOutcome(
            action,
            self.outcome,
            self.message,
            self.institution or institution,
            error_code=None if error is None else error.error_code,
            details=details,
        )


@dataclass(frozen=True)
class CirculationRecorder:
    """Writes circulation outcomes to the ledger and failures to their P1 report."""

    _ledger: Ledger
    _reports: FailureReports
    _clock: Clock
    _scf: str
    """The SCF's code: a failure's report row names it when the owner is not known yet."""

    async def record(
        self,
        result: CirculationOutcome,
        details: Details,
        *,
        inbox_id: int | None,
        barcode: str | None,
        request_id: str | None = None,
        loan_returned_of: str | None = None,
        cancelled: tuple[str, str] | None = None,
    ) -> CirculationOutcome:
        """Write the event (with the state it changes), then append a failure to its P1 report.

        ``loan_returned_of``: the owner whose mirror of ``barcode`` had its SCF loan returned.
        ``cancelled``: the source (institution, request id) whose forwarding is now over.
        """
        details = {**details, **result.details}
        async with self._ledger.unit_of_work() as uow:
            if loan_returned_of is not None and barcode is not None:
                mirror = await uow.items.mark_loan_returned(loan_returned_of, barcode)
                details["mirror_in_ledger"] = mirror is not None
            if cancelled is not None:
                why = None if result.outcome is Outcome.OK else result.message
                row = await uow.requests.set_status(
                    *cancelled, RequestStatus.CANCELLED, last_error=why
                )
                details["forwarded_in_ledger"] = row is not None
            await uow.events.append(
                result.action,
                result.outcome,
                institution=result.institution,
                barcode=barcode,
                request_id=request_id,
                message=result.message,
                inbox_id=inbox_id,
                details=details,
                error_code=result.error_code,
            )
            await uow.commit()
        result = replace(result, barcode=barcode, request_id=request_id, details=details)
        failed = result.outcome is Outcome.FAILED
        log.log(
            logging.WARNING if failed else logging.INFO,
            "%s %s %s %s: %s",
            result.action,
            result.outcome,
            result.institution,
            barcode,
            result.message,
        )
        if failed:
            # Never null (the Java app NPE'd on a null institution and lost the row): the SCF stands
            # in for an owner not yet known, and a title-level request has no barcode.
            scf = self._scf
            row_of = ReportRow(
                _REPORTS[result.action],
                self._clock.now(),
                barcode or "",
                result.institution or scf,
                result.message,
            )
            await self._reports.append(row_of)
        return result
