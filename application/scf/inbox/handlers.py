"""What the inbox worker calls for each kind of webhook (rules W4, W5), and when to try again.

`WebhookHandlers` is the worker's port onto the use cases; `BridgeHandlers` plays it with
ONE `SyncJobs` and ONE `Circulation`, so every message of a worker shares the same
per-institution locks (two JOB_ENDs of one member never sync it at once in this process).

Retrying. A handler that raises makes the worker retry the message with backoff, up to its
attempt limit. Besides the errors the use cases raise themselves (Circulation raises
`TransientAlmaError` and `QuotaExhausted`; anything unexpected is raised as it is), a sync that
*returns* without having finished raises `SyncIncomplete`, carrying its summary:

- the daily API quota stopped it (`summary.stopped`): retry after `quota_retry` (an hour by
  default), not the short backoff, because the quota only resets once a day and eight quick
  retries would kill the message long before;
- a claimed file was left unfinished (a download failed, transient failures inside a requests
  file, requests held back by R7 retries): retry with the normal backoff. Every step is safe to
  redo: the ledger resumes unfinished files (I1) and never forwards a request twice (R6).

Files finished as `failed` (malformed, refused archive) are not retried: reading them again gives
the same answer, and they are in the ledger and the P1 report.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from application.scf.circulation.carry_back import Circulation, CirculationOutcome
from application.scf.items.item_now import ItemNow, ItemNowResult
from application.scf.requests.outcomes import ForwardingSummary
from application.scf.requests.request_now import RequestNow, RequestNowResult
from application.scf.sync_jobs import ItemsJobSummary, SyncJobs
from application.shared.alma import QuotaExhausted
from domain.scf.member_webhooks import ItemChanged, RequestCreated
from domain.scf.webhooks import LoanReturned, RequestCanceled, SyncKind

QUOTA_RETRY = timedelta(hours=1)
"""How long a sync stopped by the daily quota waits before the inbox offers it again."""


@dataclass(frozen=True)
class RetryBackoff:
    """Delay before attempt n+1: initial·multiplier^(n-1), capped, plus up to `jitter` of it.

    The default schedule retries within seconds first (2 s, 8 s, 32 s: what failed is often
    a moment's fault, e.g. a request file left open by transient Alma faults), then backs off
    to minutes and at most an hour (2 min, 8.5 min, 34 min, 1 h): the eight attempts of the
    worker's default `max_attempts` span about 1 h 45 min of failing before a message is dead,
    enough to ride out an Alma outage. The jitter is only ever added, so a test can wait
    `maximum·(1+jitter)` and know it is due; it spreads the retries of messages that failed
    together (an Alma outage) over time.
    """

    initial: timedelta = timedelta(seconds=2)
    maximum: timedelta = timedelta(hours=1)
    multiplier: float = 4.0
    jitter: float = 0.25
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def delay(self, attempt: int) -> timedelta:
        """The wait after the attempt-th failed attempt (1-based)."""
        exponent = min(max(attempt - 1, 0), 64)  # 4.0**64 seconds is already past any cap
        base = min(
            self.maximum.total_seconds(), self.initial.total_seconds() * self.multiplier**exponent
        )
        return timedelta(seconds=base * (1 + self.jitter * self.random()))


def retry_delay(failure: BaseException, attempt: int, backoff: RetryBackoff) -> timedelta:
    """How long a message waits after its attempt-th attempt failed with this error."""
    delay = backoff.delay(attempt)
    if isinstance(failure, RetryLater) and failure.retry_after is not None:
        return max(delay, failure.retry_after)
    if isinstance(failure, QuotaExhausted):
        # Raised by circulation: the daily quota will not be back within the short backoff.
        return max(delay, QUOTA_RETRY)
    return delay


class RetryLater(Exception):
    """The work is not finished; run the message again later (after retry_after if given)."""

    def __init__(self, message: str, *, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SyncIncomplete(RetryLater):
    """A sync returned with work left over: stopped by the quota, or files left unfinished."""

    def __init__(
        self,
        institution: str,
        kind: SyncKind,
        reason: str,
        summary: ItemsJobSummary | ForwardingSummary,
        *,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(
            f"{kind} sync of {institution} incomplete: {reason}", retry_after=retry_after
        )
        self.institution = institution
        self.kind = kind
        self.summary = summary


class WebhookHandlers(Protocol):
    """The use cases a webhook can start; raising asks the inbox to retry the message."""

    async def items_sync(self, institution: str, inbox_id: int) -> ItemsJobSummary:
        """Items sync of a member, then its requests waiting for a mirror (W4, I1–I13, R7)."""
        ...

    async def requests_sync(self, institution: str, inbox_id: int) -> ForwardingSummary:
        """Forward a member's remote-storage requests to the SCF (W4, R1–R8)."""
        ...

    async def loan_returned(self, event: LoanReturned, inbox_id: int) -> CirculationOutcome:
        """Scan the member item in after the SCF returned its mirror (W5, C1)."""
        ...

    async def request_canceled(self, event: RequestCanceled, inbox_id: int) -> CirculationOutcome:
        """Cancel the member request behind a cancelled SCF request (W5, C2)."""
        ...

    async def request_created(self, event: RequestCreated, inbox_id: int) -> RequestNowResult:
        """Forward a member's new request now if its export would carry it (W6)."""
        ...

    async def item_changed(self, event: ItemChanged, inbox_id: int) -> ItemNowResult:
        """Mirror a member item's change now (W7)."""
        ...


class BridgeHandlers:
    """The handlers over one bridge: one SyncJobs and one Circulation for every message."""

    def __init__(
        self,
        jobs: SyncJobs,
        circulation: Circulation,
        request_now: RequestNow,
        item_now: ItemNow,
        *,
        quota_retry: timedelta = QUOTA_RETRY,
    ) -> None:
        self.jobs = jobs
        self.circulation = circulation
        self.request_now = request_now
        self.item_now = item_now
        self._quota_retry = quota_retry

    async def items_sync(self, institution: str, inbox_id: int) -> ItemsJobSummary:
        """Run the items job; `SyncIncomplete` when it stopped early or left files unfinished."""
        summary = await self.jobs.items_job(institution)
        waiting = summary.waiting_requests
        stopped = summary.items.stopped or (waiting.stopped if waiting else None)
        unfinished = [f.name for f in summary.items.files if f.status == "unfinished"]
        pending = waiting.files_pending if waiting else 0
        if stopped:
            reason = f"stopped: {stopped}"
        elif unfinished:
            reason = f"{len(unfinished)} files unfinished ({', '.join(unfinished[:5])})"
        elif pending:
            reason = f"{pending} request files of waiting requests left open"
        else:
            return summary
        raise SyncIncomplete(
            institution, SyncKind.ITEMS, reason, summary, retry_after=self._after(stopped)
        )

    async def requests_sync(self, institution: str, inbox_id: int) -> ForwardingSummary:
        """Run the requests job; `SyncIncomplete` when it stopped early or left files open."""
        summary = await self.jobs.requests_job(institution)
        if summary.stopped:
            reason = f"stopped: {summary.stopped}"
        elif summary.files_pending:
            reason = f"{summary.files_pending} request files left open for a retry"
        else:
            return summary
        raise SyncIncomplete(
            institution,
            SyncKind.REQUESTS,
            reason,
            summary,
            retry_after=self._after(summary.stopped),
        )

    async def loan_returned(self, event: LoanReturned, inbox_id: int) -> CirculationOutcome:
        """C1 through the shared Circulation; transient Alma failures propagate for a retry."""
        return await self.circulation.loan_returned(event, inbox_id=inbox_id)

    async def request_canceled(self, event: RequestCanceled, inbox_id: int) -> CirculationOutcome:
        """C2 through the shared Circulation; transient Alma failures propagate for a retry."""
        return await self.circulation.request_canceled(event, inbox_id=inbox_id)

    async def request_created(self, event: RequestCreated, inbox_id: int) -> RequestNowResult:
        """W6; transient Alma failures and the quota propagate for a retry."""
        result = await self.request_now.created(event)
        outcome = result.outcome
        if outcome is not None and outcome.transient:
            raise RetryLater(
                f"request {event.request_id} of {event.institution}: {outcome.reason}",
                retry_after=self._quota_retry if outcome.quota_exhausted else None,
            )
        return result

    async def item_changed(self, event: ItemChanged, inbox_id: int) -> ItemNowResult:
        """W7; an item left unfinished by a transient failure or the quota is retried."""
        result = await self.item_now.changed(event)
        if result.retry:
            raise RetryLater(
                f"item {event.barcode} of {event.institution}: {result.message}",
                retry_after=self._quota_retry if result.stopped else None,
            )
        return result

    def _after(self, stopped: str | None) -> timedelta | None:
        # Only the daily quota stops a sync early; anything else takes the worker's backoff.
        return self._quota_retry if stopped else None
