"""Helpers of the worker tests: Alma-shaped webhook bodies, the inbox, and a handler double.

Bodies are the real samples in `tests/fixtures/alma/` with `id`, `institution.value` and the
payload adjusted; the examples' consortium has AB's publishing job `S987654321` (which is also
CD's requests job: W4 settles it by the sender) and AB's requests job `S123456789`.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.circulation.carry_back import SCAN_IN, CirculationOutcome
from application.scf.inbox.handlers import WebhookHandlers
from application.scf.inbox.worker import InboxWorker, RetryBackoff
from application.scf.items.item_now import ItemNowResult
from application.scf.items.item_outcomes import ItemResult
from application.scf.items.item_sync_summary import ItemSyncSummary
from application.scf.requests.outcomes import ForwardingSummary
from application.scf.requests.request_now import RequestNowResult
from application.scf.sync_jobs import ItemsJobSummary
from application.shared.ledger_records import InboxMessage, LedgerEvent, Outcome
from application.shared.metrics import Metrics
from domain.scf.institutions import Consortium
from domain.scf.member_webhooks import ItemChanged, RequestCreated
from domain.scf.webhooks import LoanReturned, RequestCanceled, dedupe_key
from tests.scenarios.world import SCF, example_settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "alma"
AB_PUBLISHING_JOB = "S987654321"
AB_REQUESTS_JOB = "S123456789"
LEASE = timedelta(minutes=10)
NO_JITTER = RetryBackoff(
    initial=timedelta(seconds=30), maximum=timedelta(hours=1), multiplier=2.0, jitter=0
)


def _sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return document


def job_end(
    institution: str, job_id: str, webhook_id: str, *, status: str = "COMPLETED_SUCCESS"
) -> bytes:
    """Michigan's publishing JOB_END, as sent by `institution` for `job_id`."""
    document = _sample("mlibrary-alma-events__publishing_job_response.json")
    document["id"] = webhook_id
    document["institution"]["value"] = institution
    document["job_instance"]["id"] = f"{webhook_id}0001"
    document["job_instance"]["job_info"]["id"] = job_id
    document["job_instance"]["status"] = {"desc": status.title(), "value": status}
    return json.dumps(document).encode()


def loan_returned(scf_barcode: str, webhook_id: str, *, institution: str = SCF) -> bytes:
    """Lancaster's LOAN_RETURNED, from the SCF, for the mirror `scf_barcode`."""
    document = _sample("lulibrary-alma-webhook-handler__loan_returned_event.body.json")
    document["id"] = webhook_id
    document["institution"]["value"] = institution
    document["item_loan"]["item_barcode"] = scf_barcode
    return json.dumps(document).encode()


def request_canceled(scf_request_id: str, webhook_id: str) -> bytes:
    """Lancaster's REQUEST_CANCELED (title level, no barcode), from the SCF."""
    document = _sample("lulibrary-alma-webhook-handler__request_canceled_event.body.json")
    document["id"] = webhook_id
    document["institution"]["value"] = SCF
    document["user_request"]["request_id"] = scf_request_id
    return json.dumps(document).encode()


def with_action(body: bytes, action: str) -> bytes:
    """The same body with another `action`."""
    document = json.loads(body)
    document["action"] = action
    return json.dumps(document).encode()


async def enqueue(ledger: Ledger, clock: Clock, *bodies: bytes) -> list[int]:
    """Store bodies in the inbox as the HTTP app does (W3); their ids."""
    async with ledger.unit_of_work() as uow:
        ids = [(await uow.inbox.add(dedupe_key(b), b, clock.now())).id for b in bodies]
        await uow.commit()
    return ids


async def message(ledger: Ledger, inbox_id: int) -> InboxMessage:
    async with ledger.unit_of_work() as uow:
        found = await uow.inbox.get(inbox_id)
    assert found is not None
    return found


async def process_events(ledger: Ledger) -> list[LedgerEvent]:
    """The worker's `webhook.process` events, oldest first."""
    return await ledger.events(action="webhook.process", limit=10_000)


def consortium() -> Consortium:
    return example_settings().consortium


def make_worker(
    ledger: Ledger,
    handlers: WebhookHandlers,
    clock: Clock,
    *,
    owner: str = "worker-a",
    metrics: Metrics | None = None,
    **options: Any,
) -> InboxWorker:
    """A worker over the examples' consortium, with a jitter-free backoff unless told."""
    settings = example_settings()
    options.setdefault("backoff", NO_JITTER)
    return InboxWorker(
        ledger,
        handlers,
        lambda: settings.consortium,
        clock,
        metrics or Metrics(),
        owner=owner,
        lease=options.pop("lease", LEASE),
        **options,
    )


Behaviour = Callable[[str, int], Awaitable[None]]
"""What the double does on a call (method name, inbox id): wait, raise, move the clock…"""


class RecordingHandlers:
    """A `WebhookHandlers` double: counts calls per inbox id, then runs a scripted behaviour."""

    def __init__(self, behaviour: Behaviour | None = None, *, name: str = "") -> None:
        self.calls: list[tuple[str, int]] = []
        self.behaviour = behaviour
        self.name = name

    @property
    def per_message(self) -> Counter[int]:
        return Counter(inbox_id for _, inbox_id in self.calls)

    async def _call(self, method: str, inbox_id: int) -> None:
        self.calls.append((method, inbox_id))
        await asyncio.sleep(0)  # let another worker in between, as real work would
        if self.behaviour is not None:
            await self.behaviour(method, inbox_id)

    async def items_sync(self, institution: str, inbox_id: int) -> ItemsJobSummary:
        await self._call("items_sync", inbox_id)
        return ItemsJobSummary(ItemSyncSummary(institution, dry_run=False), None)

    async def requests_sync(self, institution: str, inbox_id: int) -> ForwardingSummary:
        await self._call("requests_sync", inbox_id)
        return ForwardingSummary(institution)

    async def loan_returned(self, event: LoanReturned, inbox_id: int) -> CirculationOutcome:
        await self._call("loan_returned", inbox_id)
        return CirculationOutcome(SCAN_IN, Outcome.OK, "scanned in", SCF)

    async def request_canceled(self, event: RequestCanceled, inbox_id: int) -> CirculationOutcome:
        await self._call("request_canceled", inbox_id)
        return CirculationOutcome(SCAN_IN, Outcome.OK, "cancelled", SCF)

    async def request_created(self, event: RequestCreated, inbox_id: int) -> RequestNowResult:
        await self._call("request_created", inbox_id)
        return RequestNowResult(event.institution, event.request_id, skipped="recorded")

    async def item_changed(self, event: ItemChanged, inbox_id: int) -> ItemNowResult:
        await self._call("item_changed", inbox_id)
        return ItemNowResult(event.institution, event.barcode, ItemResult.SKIPPED, "recorded")
