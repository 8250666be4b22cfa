"""What the inbox worker writes down: event details, safe error text, and its metrics.

Kept apart from the worker's loop so that the loop reads as claim → dispatch → mark. Metric
names are constants here so that `/metrics` and `/health` can import them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from application.scf.items.item_outcomes import ItemResult
from application.scf.recorded_via import WEBHOOK
from application.scf.requests.outcomes import Action, ForwardingSummary, RequestOutcome
from application.scf.sync_jobs import ItemsJobSummary
from application.shared.alma import AlmaFailure
from application.shared.ledger_records import JsonValue, Outcome
from application.shared.metrics import Metrics
from domain.scf.institutions import Consortium
from domain.scf.member_webhooks import ItemChanged, RequestCreated
from domain.scf.webhooks import (
    ItemsSyncDue,
    JobFailed,
    LoanReturned,
    RequestCanceled,
    RequestsSyncDue,
    WebhookEvent,
)

WEBHOOK_PROCESS = "webhook.process"
"""The ledger action of the worker's one event per attempt at a message."""

WORKER_HEARTBEAT = "almabridge_worker_heartbeat_seconds"
INBOX_PROCESSED = "almabridge_inbox_messages_processed_total"
INBOX_LEASES_LOST = "almabridge_inbox_leases_lost_total"
ITEMS = "almabridge_items_total"
REQUESTS = "almabridge_requests_total"

MAX_ERROR_CHARS = 2000
"""An error kept in the ledger is cut here: a stack of Alma messages must not bloat the row."""

Details = dict[str, JsonValue]


def declare_worker_metrics(metrics: Metrics) -> None:
    """Name and explain every metric the worker writes."""
    metrics.declare(WORKER_HEARTBEAT, "gauge", "Clock time (Unix seconds) the worker last beat.")
    metrics.declare(
        INBOX_PROCESSED,
        "counter",
        "Inbox messages by outcome (ok, skipped, retry, dead) and webhook kind.",
    )
    metrics.declare(
        INBOX_LEASES_LOST, "counter", "Messages whose lease another worker took over mid-work."
    )
    metrics.declare(ITEMS, "counter", "Items synced, by institution and outcome.")
    metrics.declare(REQUESTS, "counter", "Member requests, by institution, outcome and reason.")


@dataclass(frozen=True)
class Handled:
    """How a message ended when its handler returned: the `webhook.process` event to write."""

    outcome: Outcome
    message: str
    institution: str | None = None
    details: Details = field(default_factory=dict)


def kind_of(event: WebhookEvent) -> str:
    """A short, stable name of the classification, for details and metric labels."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(event).__name__).lower()


def webhook_facts(body: bytes, consortium: Consortium) -> tuple[str | None, Details]:
    """The sender (its configured spelling, if configured) and the webhook's id, action, event.

    Read again from the body because only `Skipped` carries them; never raises.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None, {}
    if not isinstance(document, dict):
        return None, {}

    def code(key: str) -> str | None:
        value = document.get(key)
        inner = value.get("value") if isinstance(value, dict) else None
        return inner if isinstance(inner, str) else None

    def text(key: str) -> str | None:
        value = document.get(key)
        return value if isinstance(value, str) else None

    sender = code("institution")
    configured = None if sender is None else consortium.institution(sender)
    facts: Details = {
        "webhook_id": text("id"),
        "action": text("action"),
        "event": code("event"),
        "sender": sender,
    }
    return (None if configured is None else configured.code), facts


def classification_details(event: WebhookEvent) -> Details:
    """The classification's own fields: job id and status (W4), barcodes and ids (W5), reason."""
    details: Details = {"classification": kind_of(event)}
    if isinstance(event, ItemsSyncDue | RequestsSyncDue | JobFailed):
        details.update(
            job_id=event.job_id, job_instance_id=event.job_instance_id, job_status=event.status
        )
        if isinstance(event, JobFailed):
            details["job_kind"] = event.kind.value
    elif isinstance(event, LoanReturned):
        details.update(barcode=event.barcode, scf_barcode=event.scf_barcode, loan_id=event.loan_id)
    elif isinstance(event, RequestCanceled):
        details.update(
            scf_request_id=event.request_id, barcode=event.barcode, scf_barcode=event.scf_barcode
        )
    elif isinstance(event, RequestCreated):
        details.update(request_id=event.request_id, via=WEBHOOK)
    elif isinstance(event, ItemChanged):
        details.update(barcode=event.barcode, item_event=event.event, via=WEBHOOK)
    else:
        details["reason"] = event.reason
    return details


def error_text(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """`Type: message`, cut to MAX_ERROR_CHARS, with any known secret masked.

    Errors of the adapters never carry a key or password by construction (`Secret`, AlmaError
    built from response bodies); masking the configured secrets is a second line of defence
    for errors from third-party code.
    """
    text = str(error) if isinstance(error, AlmaFailure) else f"{type(error).__name__}: {error}"
    for secret in secrets:
        if len(secret) >= 4:  # masking a one-letter "secret" would shred the message
            text = text.replace(secret, "***")
    if len(text) > MAX_ERROR_CHARS:
        text = text[: MAX_ERROR_CHARS - 1] + "…"
    return text


def items_details(summary: ItemsJobSummary) -> Details:
    """The counts of an items job for the event's details."""
    counts: dict[str, JsonValue] = {r.value: n for r, n in summary.items.counts.items()}
    details: Details = {
        "items": counts,
        "files": [f"{f.name}: {f.status}" for f in summary.items.files],
    }
    if summary.waiting_requests is not None:
        details["waiting_requests"] = requests_counts(summary.waiting_requests)
    return details


def requests_counts(summary: ForwardingSummary) -> Details:
    """The counts of a forwarding run for the event's details."""
    return {
        "files": summary.files,
        "files_failed": summary.files_failed,
        "files_pending": summary.files_pending,
        "forwarded": summary.forwarded,
        "waiting": summary.waiting,
        "cancelled": summary.cancelled,
        "failed": summary.failed,
    }


def count_summary(metrics: Metrics, summary: ItemsJobSummary | ForwardingSummary) -> None:
    """Add a job's items and requests to the counters."""
    if isinstance(summary, ForwardingSummary):
        _count_requests(metrics, summary)
        return
    items = summary.items
    for result in ItemResult:
        if items.count(result):
            metrics.inc(
                ITEMS, items.count(result), institution=items.institution, outcome=result.value
            )
    if summary.waiting_requests is not None:
        _count_requests(metrics, summary.waiting_requests)


def _count_requests(metrics: Metrics, summary: ForwardingSummary) -> None:
    for outcome in summary.outcomes:
        if outcome.action.value.startswith("would"):
            continue  # a dry run's plan is not something that happened
        metrics.inc(
            REQUESTS,
            institution=outcome.institution,
            outcome=outcome.action.value.replace(" ", "_"),
            reason=_reason_label(outcome),
        )


def _reason_label(outcome: RequestOutcome) -> str:
    """A bounded label: the decision's reason with numbers folded, or the failure's code.

    A failure's reason quotes Alma's message, which would make one time series per request.
    """
    if outcome.action is Action.FAILED:
        return outcome.error_code or ("transient" if outcome.transient else "refused")
    return re.sub(r"\d+(?:\.\d+)?", "N", outcome.reason)[:80]
