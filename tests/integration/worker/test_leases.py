"""Leases: renewed while a job runs, reclaimed from a killed worker, fenced when lost (item 2).

Each test runs on every ledger backend; a "killed" worker is one that claimed and never
finished, and time moves only when the test moves the FakeClock.
"""

from __future__ import annotations

import asyncio

import pytest

from application.inbox_records import INBOX_LEASES_LOST, WORKER_HEARTBEAT
from application.ledger_records import InboxStatus, Outcome
from application.metrics import Metrics
from tests.integration.ledger.support import Backend
from tests.integration.worker.support import (
    AB_PUBLISHING_JOB,
    LEASE,
    RecordingHandlers,
    enqueue,
    job_end,
    make_worker,
    message,
    process_events,
)
from tests.scenarios.world import AB


class BeatingMetrics(Metrics):
    """Metrics that signal every heartbeat: the worker beats after each lease renewal."""

    def __init__(self) -> None:
        super().__init__()
        self.beat = asyncio.Event()

    def set(self, name: str, value: float, **labels: str) -> None:
        super().set(name, value, **labels)
        if name == WORKER_HEARTBEAT:
            self.beat.set()


async def test_a_killed_workers_message_is_reclaimed_after_its_lease_and_done_once(
    backend: Backend,
) -> None:
    ledger = backend.open()
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "901"))
    [taken] = await ledger.claim_inbox("killed-worker", LEASE, limit=5)  # and then kill -9
    handlers = RecordingHandlers()
    worker = make_worker(backend.open(), handlers, backend.clock, owner="worker-b")

    assert await worker.run_until_idle() == 0  # the lease is still the killed worker's
    backend.clock.advance(minutes=10)
    assert await worker.run_until_idle() == 1
    backend.clock.advance(days=1)
    assert await worker.run_until_idle() == 0

    assert handlers.per_message == {inbox_id: 1}
    done = await message(ledger, inbox_id)
    assert (done.status, done.attempts, taken.attempts) == (InboxStatus.DONE, 2, 1)
    (event,) = await process_events(ledger)
    assert (event.outcome, event.details["attempt"]) == (Outcome.OK, 2)


async def test_a_long_job_renews_its_lease_so_no_other_worker_takes_it(backend: Backend) -> None:
    ledger = backend.open()
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "902"))
    first_lease_end = backend.clock.now() + LEASE
    rival_handlers = RecordingHandlers()
    rival = make_worker(backend.open(), rival_handlers, backend.clock, owner="worker-b")
    metrics = BeatingMetrics()

    async def long_job(method: str, inbox_id: int) -> None:
        backend.clock.advance(minutes=9)
        metrics.beat.clear()
        async with asyncio.timeout(10):
            await metrics.beat.wait()  # renewed: every lease/3 of real time (here 10 ms)
        renewed = (await message(ledger, inbox_id)).lease_until
        assert renewed == backend.clock.now() + LEASE
        assert renewed > first_lease_end
        backend.clock.advance(minutes=9)  # past the first lease, inside the renewed one
        assert await rival.run_once() == 0

    handlers = RecordingHandlers(long_job)
    worker = make_worker(ledger, handlers, backend.clock, metrics=metrics, renew_every=0.01)
    assert await worker.run_until_idle() == 1

    assert handlers.per_message == {inbox_id: 1}
    assert rival_handlers.calls == []
    assert (await message(ledger, inbox_id)).status is InboxStatus.DONE
    # A renewal is a heartbeat too: /health sees a worker busy for hours as alive.
    assert metrics.value(WORKER_HEARTBEAT) >= (first_lease_end - LEASE).timestamp() + 9 * 60


async def test_a_worker_that_lost_its_lease_leaves_the_outcome_to_the_new_owner(
    backend: Backend,
) -> None:
    ledger = backend.open()
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "903"))
    rival_handlers = RecordingHandlers()
    rival = make_worker(backend.open(), rival_handlers, backend.clock, owner="worker-b")

    async def stalled(method: str, inbox_id: int) -> None:
        # Renewal did not happen (the process was frozen): the lease ran out, and B took over.
        backend.clock.advance(minutes=11)
        assert await rival.run_until_idle() == 1

    metrics = Metrics()
    worker = make_worker(
        ledger, RecordingHandlers(stalled), backend.clock, metrics=metrics, renew_every=3600
    )
    assert await worker.run_until_idle() == 1

    stored = await message(ledger, inbox_id)
    assert (stored.status, stored.attempts) == (InboxStatus.DONE, 2)
    (event,) = await process_events(ledger)  # B's; A wrote nothing
    assert event.details["attempt"] == 2
    assert metrics.value(INBOX_LEASES_LOST) == 1


async def test_a_cancelled_worker_hands_its_message_back_at_once(backend: Backend) -> None:
    ledger = backend.open()
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "904"))
    started = asyncio.Event()

    async def forever(method: str, inbox_id: int) -> None:
        started.set()
        await asyncio.Event().wait()

    worker = make_worker(ledger, RecordingHandlers(forever), backend.clock)
    running = asyncio.create_task(worker.run_once())
    await started.wait()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running

    released = await message(ledger, inbox_id)
    assert (released.status, released.lock_owner) == (InboxStatus.PENDING, None)
    assert released.available_at == backend.clock.now()
    rival_handlers = RecordingHandlers()
    rival = make_worker(backend.open(), rival_handlers, backend.clock, owner="worker-b")
    assert await rival.run_until_idle() == 1  # no need to wait for the lease to run out
    assert rival_handlers.per_message == {inbox_id: 1}


async def test_renewal_stops_with_the_message(backend: Backend) -> None:
    ledger = backend.open()
    await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "905"))
    worker = make_worker(ledger, RecordingHandlers(), backend.clock, renew_every=0.001)
    assert await worker.run_until_idle() == 1
    # No renewal task outlives its message.
    renewals = [t for t in asyncio.all_tasks() if "_keep_lease" in repr(t.get_coro())]
    assert renewals == []
