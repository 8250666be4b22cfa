"""The SCF's circulation carried back to the members that own the items (rules C1, C2).

``loan_returned``: the SCF returned the loan on a mirror ``{b}X``, so the member item ``{b}`` is
scanned in at its owner (C1). ``request_canceled``: the SCF cancelled a request, so exactly the
member request behind it is cancelled: ledger first, then the ``{Source Request …}`` tag, then
``Internal identifier:`` with the mirror's barcode (C2). The decisions are the domain's
(``domain.scf.circulation``); this module fetches what they need, calls Alma, and records one ledger
event per webhook (``application.scf.circulation.records``; failures also go to the P1 report).

Transient Alma failures (5xx, timeouts, per-second 429, the daily quota) are raised, not
recorded: the inbox keeps the message with its attempts and last error and retries it, and an
event per attempt would only bury the outcome that counts. Every step is safe to redo: a scan-in
twice leaves the item in place, and a cancel that did reach Alma comes back "already gone".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.ports.ledger import Ledger
from application.scf.circulation.records import (
    CANCEL_SOURCE,
    SCAN_IN,
    CirculationOutcome,
    CirculationRecorder,
    Details,
    Refused,
)
from application.shared.alma import (
    AlmaError,
    AlmaItem,
    NotFound,
    RequestGone,
    TransientAlmaError,
    UnknownInstitution,
)
from application.shared.ledger_records import Outcome
from domain.scf.circulation import (
    CancelByInternalIdentifier,
    CancelByTag,
    CancelMapped,
    NoMatch,
    ScanInRefused,
    plan_cancel_propagation,
    plan_scan_in,
)
from domain.scf.institutions import Consortium
from domain.scf.naming import member_barcode_of, provenance_of
from domain.scf.requests.cancellations import Cancellation
from domain.scf.requests.routing import SourceRequestRef
from domain.scf.webhooks import LoanReturned, RequestCanceled

__all__ = ["CANCEL_SOURCE", "SCAN_IN", "Circulation", "CirculationOutcome"]

T = TypeVar("T")
Cancel = Callable[[AlmaGateway], Awaitable[None]]


class Circulation:
    """Carries LOAN_RETURNED and REQUEST_CANCELED of the SCF to the owning member (C1, C2)."""

    def __init__(
        self,
        alma: AlmaDirectory,
        ledger: Ledger,
        consortium: Consortium,
        recorder: CirculationRecorder,
    ) -> None:
        self._directory = alma
        self._ledger = ledger
        self._consortium = consortium
        self._recorder = recorder
        self._scf = self._consortium.remote_storage.institution

    async def loan_returned(
        self, event: LoanReturned, *, inbox_id: int | None = None
    ) -> CirculationOutcome:
        """Scan the member item in at its owner after the SCF returned its mirror (rule C1)."""
        # Parity: the borrower is not checked, any return of a mirror scans in; kept for audit.
        details: Details = {
            "scf_barcode": event.scf_barcode,
            "user_id": event.user_id,
            "loan_id": event.loan_id,
        }
        barcode = member_barcode_of(event.scf_barcode)
        if barcode is None:
            reason = f"{event.scf_barcode} is not an SCF mirror (N1)"
            skipped = CirculationOutcome(SCAN_IN, Outcome.SKIPPED, reason, self._scf)
            return await self._recorder.record(
                skipped, details, inbox_id=inbox_id, barcode=event.scf_barcode
            )
        owner: str | None = None
        try:
            scf_item = await self._item(self._scf, event.scf_barcode, "SCF item")
            details["scf_item_pid"] = scf_item.pid
            provenance = provenance_of(scf_item.raw)
            owner = self._member_code(provenance)
            # Without a member owner there is no item to fetch; the plan names the bad provenance.
            member = {} if owner is None else (await self._item(owner, barcode, "member item")).raw
            plan = plan_scan_in(event.scf_barcode, provenance, member, self._consortium)
            if isinstance(plan, ScanInRefused):
                raise Refused(plan.reason, institution=plan.institution)
            details.update(
                member_mms_id=plan.mms_id,
                member_holding_id=plan.holding_id,
                member_item_pid=plan.item_pid,
                library=plan.library,
                circ_desk=plan.circ_desk,
            )
            scanned = await self._alma(
                plan.institution,
                lambda alma: alma.scan_in(
                    plan.mms_id,
                    plan.holding_id,
                    plan.item_pid,
                    library=plan.library,
                    circ_desk=plan.circ_desk,
                ),
                f"scan-in of member item {barcode} at {plan.library}",
            )
            details["additional_info"] = scanned.raw.get("additional_info")
            done = f"scanned member item {barcode} in at {plan.library}, desk {plan.circ_desk}"
            result = CirculationOutcome(SCAN_IN, Outcome.OK, done, plan.institution)
        except Refused as refused:
            result = refused.outcome_of(SCAN_IN, owner or self._scf)
        # The SCF loan ended whatever happens at the member, so R7 must stop treating the mirror
        # as on its way in: marked with every outcome once the owner is known.
        return await self._recorder.record(
            result,
            details,
            inbox_id=inbox_id,
            barcode=barcode,
            loan_returned_of=owner,
        )

    async def request_canceled(
        self, event: RequestCanceled, *, inbox_id: int | None = None
    ) -> CirculationOutcome:
        """Cancel exactly the member request behind a cancelled SCF request (rule C2)."""
        details: Details = {
            "scf_request_id": event.request_id,
            "scf_barcode": event.scf_barcode,
            "scf_user_primary_id": event.user_primary_id,
        }
        mapped = None
        if event.request_id is not None:
            async with self._ledger.unit_of_work() as uow:
                mapped = await uow.requests.get_by_scf_request(event.request_id)
        source = None
        if mapped is not None:
            source = SourceRequestRef(
                mapped.source_institution, mapped.source_request_id, mapped.user_id, mapped.mms_id
            )
        plan = plan_cancel_propagation(event, source)
        barcode = event.barcode or (mapped.barcode if mapped is not None else None)
        if isinstance(plan, NoMatch):
            details["path"] = "none"
            skipped = CirculationOutcome(CANCEL_SOURCE, Outcome.SKIPPED, plan.reason, self._scf)
            return await self._recorder.record(skipped, details, inbox_id=inbox_id, barcode=barcode)
        how = plan.cancellation
        details.update(reason=how.reason.value, note=how.note, notify_user=how.notify_user)
        if isinstance(plan, CancelByInternalIdentifier):
            details["path"] = "internal_identifier"
            institution, request_id = self._scf, plan.request_id  # owner: from provenance
        else:
            details["path"] = "ledger" if isinstance(plan, CancelMapped) else "tag"
            # The configured spelling keys the ledger row; a tag may spell the code otherwise.
            named = plan.source.institution
            institution, request_id = self._member_code(named) or named, plan.source.request_id
        try:
            if isinstance(plan, CancelByInternalIdentifier):
                institution, item = await self._owned_item(plan.scf_barcode, plan.member_barcode)
                cancel = self._item_cancel(item, request_id, how, details)
            else:
                cancel = await self._source_cancel(plan, barcode, details)
            what = f"cancel of request {request_id} of {institution}"
            gone = await self._cancel(institution, cancel, what)
            if gone is None:
                done = f"cancelled request {request_id} of {institution} ({how.note})"
                result = CirculationOutcome(CANCEL_SOURCE, Outcome.OK, done, institution)
            else:
                already = f"request {request_id} of {institution} was already gone: {gone}"
                refused = Refused(already, error=gone, outcome=Outcome.SKIPPED)
                result = refused.outcome_of(CANCEL_SOURCE, institution)
        except Refused as refused:
            result = refused.outcome_of(CANCEL_SOURCE, institution)
        # The SCF request no longer exists, so the forwarding is over unless the cancel failed.
        over = result.outcome is not Outcome.FAILED
        return await self._recorder.record(
            result,
            details,
            inbox_id=inbox_id,
            barcode=barcode,
            request_id=request_id,
            cancelled=(institution, request_id) if over else None,
        )

    async def _source_cancel(
        self, plan: CancelMapped | CancelByTag, barcode: str | None, details: Details
    ) -> Cancel:
        """The call that cancels a source request named by the ledger or by the tag."""
        institution, rid = plan.source.institution, plan.source.request_id
        mms_id, user = plan.source.mms_id, plan.source.user_primary_id
        how = plan.cancellation
        reason, note, notify = how.reason.value, how.note, how.notify_user
        if isinstance(plan, CancelMapped) and mms_id is not None:
            # Through the bib, as the Java app cancels a source request (research §7.5); Alma's
            # bib endpoint takes item- and title-level requests alike.
            details["endpoint"] = f"bibs/{mms_id}/requests/{rid}"
            return lambda alma: alma.cancel_title_request(
                mms_id, rid, reason=reason, note=note, notify_user=notify
            )
        if user is not None:
            details["endpoint"] = f"users/{user}/requests/{rid}"
            return lambda alma: alma.cancel_user_request(
                user, rid, reason=reason, note=note, notify_user=notify
            )
        if barcode is not None:
            # A ledger row with neither bib nor user: cancel it, by id, on its member item.
            item = await self._item(institution, barcode, "member item")
            return self._item_cancel(item, rid, how, details)
        raise Refused(f"the ledger knows no bib, user or barcode of request {rid}")

    async def _owned_item(self, scf_barcode: str, member_barcode: str) -> tuple[str, AlmaItem]:
        """The owner named by the mirror's provenance (N2), and its member item."""
        provenance = provenance_of((await self._item(self._scf, scf_barcode, "SCF item")).raw)
        owner = self._member_code(provenance)
        if owner is None:
            raise Refused(f"provenance {provenance} of SCF item {scf_barcode} is not a member")
        return owner, await self._item(owner, member_barcode, "member item")

    def _item_cancel(
        self, item: AlmaItem, request_id: str, how: Cancellation, details: Details
    ) -> Cancel:
        """Cancel one request, by id, on the member item; never the item's whole queue (fix)."""
        mms_id, holding_id, pid = item.mms_id, item.holding_id, item.pid
        if mms_id is None or holding_id is None or pid is None:
            raise Refused(f"member item {item.barcode} lacks its bib, holding or item id")
        details["endpoint"] = f"bibs/{mms_id}/holdings/{holding_id}/items/{pid}/requests"
        reason, note, notify = how.reason.value, how.note, how.notify_user
        return lambda alma: alma.cancel_item_request(
            mms_id, holding_id, pid, request_id, reason=reason, note=note, notify_user=notify
        )

    def _member_code(self, code: str | None) -> str | None:
        """The configured spelling of a member's code; None for the SCF or a stranger."""
        member = None if code is None else self._consortium.institution(code)
        return None if member is None or self._consortium.is_scf(member.code) else member.code

    async def _item(self, institution: str, barcode: str, what: str) -> AlmaItem:
        # Named on a miss, where the Java app hit a null institution and reported nothing.
        missing = f"{what} {barcode} not found in {institution}"
        return await self._alma(
            institution, lambda alma: alma.item_by_barcode(barcode), f"{what} {barcode}", missing
        )

    async def _alma(
        self,
        institution: str,
        call: Callable[[AlmaGateway], Awaitable[T]],
        what: str,
        missing: str | None = None,
    ) -> T:
        """One Alma call; a refusal becomes `Refused`, a transient failure goes to the inbox."""
        try:
            return await call(self._directory.gateway(institution))
        except UnknownInstitution as unknown:
            raise Refused(f"{what}: {unknown}", institution=institution) from unknown
        except TransientAlmaError:
            raise
        except AlmaError as error:
            message = missing if missing and isinstance(error, NotFound) else None
            message = message or f"{what}: {error.error_message or error}"
            raise Refused(message, institution=institution, error=error) from error

    async def _cancel(self, institution: str, cancel: Cancel, what: str) -> AlmaError | None:
        """Cancel; None when done, Alma's error when the request was already gone."""
        try:
            await self._alma(institution, cancel, what)
        except Refused as refused:
            if isinstance(refused.error, RequestGone):
                return refused.error
            raise
        return None
