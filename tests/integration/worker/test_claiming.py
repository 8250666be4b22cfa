"""`run_forever` claims by what it holds (issue 19; W6, W7, W8; `application.scf.inbox.claiming`).

A worker holding only short messages (a member's ITEM or REQUEST webhook) claims the next one at
once, so a stream of webhooks is handled side by side as it arrives instead of one message per
busy interval (the cause of a 285 s median in `bench/webhook_latency.py` before). A worker holding
a long one (a file sync's JOB_END) takes only messages that have waited its busy grace, which
leaves them to an idle worker sharing the inbox (`test_sharing`), and alone still takes them.
Real time, the system clock; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest

from adapters.ledger.clock import SystemClock
from application.scf.inbox.claiming import runs_long
from domain.scf.webhooks import dedupe_key
from tests.integration.ledger.support import Backend
from tests.integration.worker.support import (
    AB_PUBLISHING_JOB,
    FIXTURES,
    consortium,
    enqueue,
    job_end,
    loan_returned,
    make_worker,
)
from tests.integration.worker.test_sharing import Gate, running
from tests.scenarios.world import AB

SLOW_POLL = 5.0
"""An idle poll interval far longer than the test: whatever is claimed before it ends was claimed
because a claim found work, not because a poll came round."""


@pytest.fixture
def clock() -> SystemClock:
    return SystemClock()


def item_updated(barcode: str, webhook_id: str) -> bytes:
    """The real ITEM webhook sample, as member AB's ITEM_UPDATED of `barcode` (W7)."""
    document = json.loads(
        (FIXTURES / "latoohey-libraryapps-server-webhooks__webhook_item.json").read_text()
    )
    document["id"] = webhook_id
    document["institution"]["value"] = AB
    document["event"]["value"] = "ITEM_UPDATED"
    document["item"]["item_data"]["barcode"] = barcode
    return json.dumps(document).encode()


def test_member_records_are_short_and_syncs_long() -> None:
    members = consortium()
    assert not runs_long(item_updated("AB0001", "1"), members)
    assert not runs_long(loan_returned("AB0001X", "2"), members)
    assert runs_long(job_end(AB, AB_PUBLISHING_JOB, "3"), members)
    assert runs_long(b"not json", members)  # unknown: as careful as a sync


async def test_W7_a_worker_takes_waiting_member_webhooks_side_by_side(backend: Backend) -> None:
    ledger = backend.open()
    ids = await enqueue(
        ledger, backend.clock, *(item_updated(f"AB{n:04d}", f"19{n:02d}") for n in range(5))
    )
    gate = Gate()
    worker = make_worker(backend.open(), gate.handlers("w"), backend.clock, owner="w", batch=5)
    began = time.monotonic()

    async with running([worker], poll_interval=SLOW_POLL, busy_grace=SLOW_POLL):
        started = await gate.wait_started(5)  # all five held at once
        took = time.monotonic() - began
        gate.release.set()

    assert sorted(inbox_id for _, inbox_id in started) == ids
    assert took < SLOW_POLL, took


async def test_W7_a_freed_slot_takes_the_next_webhook_at_once(backend: Backend) -> None:
    ledger = backend.open()
    gate = Gate()
    worker = make_worker(backend.open(), gate.handlers("w"), backend.clock, owner="w", batch=1)
    await enqueue(
        ledger, backend.clock, item_updated("AB0001", "1950"), item_updated("AB0002", "1951")
    )

    async with running([worker], poll_interval=SLOW_POLL, busy_grace=SLOW_POLL):
        await gate.wait_started(1)
        began = time.monotonic()
        gate.release.set()  # the one slot frees: the second is claimed without a poll
        await gate.wait_started(2)
        took = time.monotonic() - began

    assert took < SLOW_POLL, took


async def test_W8_with_a_sync_in_hand_a_new_webhook_waits_the_busy_grace(backend: Backend) -> None:
    ledger = backend.open()
    gate = Gate()
    worker = make_worker(backend.open(), gate.handlers("w"), backend.clock, owner="w")
    grace = 1.0

    async with running([worker], poll_interval=0.05, busy_grace=grace):
        await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "1960"))
        await gate.wait_started(1)
        began = time.monotonic()
        await enqueue(ledger, backend.clock, item_updated("AB0001", "1961"))
        await gate.wait_started(2)  # no idle worker took it: this one does, after the grace
        took = time.monotonic() - began
        gate.release.set()

    assert grace <= took < grace + 2.0, took


async def test_claim_inbox_waited_leaves_young_messages(backend: Backend) -> None:
    ledger = backend.open()
    await enqueue(ledger, backend.clock, item_updated("AB0001", "1970"))
    assert await ledger.claim_inbox("w", timedelta(minutes=1), 1, waited=timedelta(hours=1)) == []
    [claimed] = await ledger.claim_inbox("w", timedelta(minutes=1), 1, waited=timedelta(0))
    assert claimed.lock_owner == "w"


async def test_W8_a_worker_that_just_took_a_sync_leaves_old_messages_to_a_starting_one(
    backend: Backend,
) -> None:
    """Messages that waited long before any worker started are no younger than the busy grace:
    the busy worker still leaves them for busy_grace after its own claim (CI, 2026-12-07: one
    process took two of three syncs while the third was starting)."""
    ledger = backend.open()
    long_ago = backend.clock.now() - timedelta(minutes=10)
    async with ledger.unit_of_work() as uow:
        for webhook_id in ("1980", "1981"):
            body = job_end(AB, AB_PUBLISHING_JOB, webhook_id)
            await uow.inbox.add(dedupe_key(body), body, long_ago)
        await uow.commit()
    gate = Gate()
    busy = make_worker(backend.open(), gate.handlers("busy"), backend.clock, owner="busy")
    late = make_worker(backend.open(), gate.handlers("late"), backend.clock, owner="late")

    async with running([busy], poll_interval=0.05, busy_grace=2.0):
        assert [name for name, _ in await gate.wait_started(1)] == ["busy"]
        await asyncio.sleep(0.5)  # the other process is still starting: ten of busy's polls
        async with running([late], poll_interval=0.05, busy_grace=2.0):
            started = await gate.wait_started(2)
            gate.release.set()

    assert [name for name, _ in started] == ["busy", "late"]
