"""Which handler a classified webhook goes to, and what it came to (rules W4, W5).

A sync's summary is counted in the metrics here, also when the sync stopped short
(`SyncIncomplete` carries it), so the counters match what was really done in Alma.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import TypeVar

from application.scf.inbox.handlers import SyncIncomplete, WebhookHandlers
from application.scf.inbox.records import (
    Details,
    Handled,
    count_summary,
    items_details,
    requests_counts,
)
from application.scf.items.item_outcomes import ItemResult
from application.scf.recorded_via import WEBHOOK
from application.scf.requests.outcomes import ForwardingSummary
from application.scf.sync_jobs import ItemsJobSummary
from application.shared.ledger_records import Outcome
from application.shared.metrics import Metrics
from domain.scf.member_webhooks import ItemChanged, RequestCreated
from domain.scf.webhooks import (
    ItemsSyncDue,
    JobFailed,
    LoanReturned,
    RequestCanceled,
    RequestsSyncDue,
    Skipped,
    WebhookEvent,
)

S = TypeVar("S", ItemsJobSummary, ForwardingSummary)


async def dispatch(
    handlers: WebhookHandlers, metrics: Metrics, event: WebhookEvent, inbox_id: int
) -> Handled:
    """Run the handler the event asks for; a failed job, a skip or a rejection is only recorded.

    Whatever the handler raises propagates: the worker retries the message.
    """
    if isinstance(event, ItemsSyncDue):
        items = await _counted(metrics, handlers.items_sync(event.institution, inbox_id))
        message = f"items sync of {event.institution}: {_items_line(items.items.counts)}"
        return Handled(Outcome.OK, message, event.institution, items_details(items))
    if isinstance(event, RequestsSyncDue):
        requests = await _counted(metrics, handlers.requests_sync(event.institution, inbox_id))
        details: Details = {"requests": requests_counts(requests)}
        return Handled(Outcome.OK, f"requests sync: {requests}", event.institution, details)
    if isinstance(event, LoanReturned | RequestCanceled):
        if isinstance(event, LoanReturned):
            done = await handlers.loan_returned(event, inbox_id)
        else:
            done = await handlers.request_canceled(event, inbox_id)
        # The circulation event has the detail; this one says the message was carried out,
        # even when the member refused (a refusal is final: retrying gives the same answer).
        details = {"result": done.outcome.value, "result_action": done.action}
        return Handled(Outcome.OK, done.message, done.institution, details)
    if isinstance(event, RequestCreated):
        return await _request_created(handlers, event, inbox_id)
    if isinstance(event, ItemChanged):
        item = await handlers.item_changed(event, inbox_id)
        details = {"via": WEBHOOK, "event": event.event, "result": item.result.value}
        outcome = Outcome.SKIPPED if item.result is ItemResult.SKIPPED else Outcome.OK
        return Handled(
            outcome, f"{event.event} {event.barcode}: {item.message}", item.institution, details
        )
    if isinstance(event, JobFailed):
        why = f"{event.kind} job {event.job_id} of {event.institution} ended {event.status}"
        return Handled(Outcome.SKIPPED, f"{why}: recorded, not synced (W4)", event.institution)
    reason = event.reason if isinstance(event, Skipped) else f"rejected: {event.reason}"
    return Handled(Outcome.SKIPPED, reason)


async def _request_created(
    handlers: WebhookHandlers, event: RequestCreated, inbox_id: int
) -> Handled:
    """W6: the forwarding's outcome is its own event; this one says what became of it."""
    done = await handlers.request_created(event, inbox_id)
    details: Details = {"via": WEBHOOK, "request_id": event.request_id}
    if done.outcome is None:
        return Handled(Outcome.SKIPPED, done.skipped or "skipped", done.institution, details)
    details["result"] = done.outcome.action.value
    message = f"request {event.request_id}: {done.outcome.action.value}: {done.outcome.reason}"
    return Handled(Outcome.OK, message, done.institution, details)


def institution_of(event: WebhookEvent | None, sender: str | None) -> str | None:
    """The member a job or member event is about, else the configured sender of the webhook."""
    if isinstance(event, ItemsSyncDue | RequestsSyncDue | JobFailed | RequestCreated | ItemChanged):
        return event.institution
    return sender


async def _counted(metrics: Metrics, job: Awaitable[S]) -> S:
    """A sync's summary, counted in the metrics also when it stopped short."""
    try:
        summary = await job
    except SyncIncomplete as incomplete:
        count_summary(metrics, incomplete.summary)
        raise
    count_summary(metrics, summary)
    return summary


def _items_line(counts: Mapping[ItemResult, int]) -> str:
    return ", ".join(f"{n} {result.value}" for result, n in counts.items() if n) or "no items"
