"""Leases: renewed while a job runs, reclaimed from a killed worker, fenced when lost (item 2);
short by default, kept through a database hiccup, given up before they run out, and handed back
at once when their owner is known dead (rule W8, issue 13).

Each test runs on every ledger backend; a "killed" worker is one that claimed and never
finished, and time moves only when the test moves the FakeClock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.scf.inbox.records import INBOX_LEASES_LOST, WORKER_HEARTBEAT
from application.shared.ledger_records import InboxMessage, InboxStatus, Outcome
from application.shared.metrics import Metrics
from entrypoints.worker_runtime import DEFAULT_LEASE
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
    renewals = [t for t in asyncio.all_tasks() if "keep_lease" in repr(t.get_coro())]
    assert renewals == []


# ---- W8: short leases, kept alive by renewals, handed back at once when the owner is dead ------


class FlakyLedger:
    """A ledger whose units of work fail while `failing` is set (a database hiccup); the
    claim and everything else go through. Counts the units of work tried and failed."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.failing = False
        self.tried = 0
        self.failed = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)

    def unit_of_work(self) -> LedgerUnitOfWork:
        self.tried += 1
        if self.failing:
            self.failed += 1
            raise ConnectionError("the database went away for a moment")
        return self._ledger.unit_of_work()


def test_W8_the_default_lease_frees_a_dead_workers_message_well_within_30_s() -> None:
    # Free at most a lease after the last renewal; taken up within a poll by an idle worker,
    # within a busy poll (3 × 1 s) by a busy one.
    assert DEFAULT_LEASE.total_seconds() == 20
    assert DEFAULT_LEASE + timedelta(seconds=3 * 1.0) < timedelta(seconds=30)


async def test_W8_with_the_default_lease_another_worker_takes_a_dead_ones_message_in_20_s(
    backend: Backend,
) -> None:
    ledger = backend.open()
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "906"))
    await ledger.claim_inbox("elsewhere:4242", DEFAULT_LEASE, limit=1)  # then kill -9
    handlers = RecordingHandlers()
    survivor = make_worker(backend.open(), handlers, backend.clock, lease=DEFAULT_LEASE)

    backend.clock.advance(seconds=19.9)
    assert await survivor.run_until_idle() == 0
    backend.clock.advance(seconds=0.1)
    assert await survivor.run_until_idle() == 1
    assert handlers.per_message == {inbox_id: 1}


async def test_a_failed_renewal_is_tried_again_and_the_lease_kept(backend: Backend) -> None:
    flaky = FlakyLedger(backend.open())
    [inbox_id] = await enqueue(flaky, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "907"))
    metrics = BeatingMetrics()

    async def through_a_hiccup(method: str, inbox_id: int) -> None:
        flaky.failing = True
        async with asyncio.timeout(10):
            while flaky.failed < 3:  # three renewals in a row fail...
                metrics.beat.clear()
                await asyncio.sleep(0.01)
            flaky.failing = False
            await metrics.beat.wait()  # ...and the next one renews the lease

    handlers = RecordingHandlers(through_a_hiccup)
    # Lease 2 s, renewed every 0.2 s, failed renewals tried again after 0.2 s: the lease
    # outlives the hiccup.
    worker = make_worker(
        flaky, handlers, backend.clock, metrics=metrics, lease=timedelta(seconds=2), renew_every=0.2
    )
    assert await worker.run_until_idle() == 1

    assert metrics.value(INBOX_LEASES_LOST) == 0
    assert (await message(flaky, inbox_id)).status is InboxStatus.DONE
    (event,) = await process_events(flaky)
    assert event.outcome is Outcome.OK


async def test_a_worker_that_cannot_renew_stops_before_its_lease_runs_out(
    backend: Backend,
) -> None:
    flaky = FlakyLedger(backend.open())
    [inbox_id] = await enqueue(flaky, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "908"))
    lease = timedelta(seconds=1)
    stopped: list[float] = []

    async def long_job(method: str, inbox_id: int) -> None:
        flaky.failing = True  # the database is gone for the rest of the job
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            stopped.append(asyncio.get_running_loop().time())
            raise

    metrics = Metrics()
    worker = make_worker(
        flaky,
        RecordingHandlers(long_job),
        backend.clock,
        metrics=metrics,
        lease=lease,
        renew_every=0.1,
    )
    started = asyncio.get_running_loop().time()
    assert await worker.run_once() == 1

    # Given up before the lease ran out (another worker may claim it from then on).
    assert len(stopped) == 1
    assert stopped[0] - started < lease.total_seconds()
    assert metrics.value(INBOX_LEASES_LOST) == 1
    flaky.failing = False
    held = await message(flaky, inbox_id)
    assert (held.status, held.lock_owner) == (InboxStatus.PROCESSING, "worker-a")  # nothing written
    backend.clock.advance(seconds=1)
    rival_handlers = RecordingHandlers()
    rival = make_worker(backend.open(), rival_handlers, backend.clock, owner="worker-b")
    assert await rival.run_until_idle() == 1
    assert rival_handlers.per_message == {inbox_id: 1}


async def test_a_worker_whose_lease_was_taken_over_stops_its_handler(backend: Backend) -> None:
    """The fence: two live workers never run one message at once."""
    ledger = backend.open()
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "909"))
    cancelled = asyncio.Event()
    other = backend.open()

    async def frozen_then_taken_over(method: str, inbox_id: int) -> None:
        # The renewals did not reach the database (the process was frozen), the lease ran out
        # and worker B claimed the message; A's next renewal finds out. A's renewal may still
        # land between the clock's jump and B's claim (a slow database): then B tries again.
        taken: list[InboxMessage] = []
        for _ in range(50):
            backend.clock.advance(minutes=11)
            taken = await other.claim_inbox("worker-b", LEASE, limit=1)
            if taken:
                break
        assert [message.id for message in taken] == [inbox_id]
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    metrics = Metrics()
    worker = make_worker(
        ledger,
        RecordingHandlers(frozen_then_taken_over),
        backend.clock,
        metrics=metrics,
        renew_every=0.01,
    )
    async with asyncio.timeout(10):
        assert await worker.run_once() == 1
    assert cancelled.is_set()
    assert metrics.value(INBOX_LEASES_LOST) == 1
    stored = await message(ledger, inbox_id)
    assert (stored.status, stored.lock_owner, stored.attempts) == (
        InboxStatus.PROCESSING,
        "worker-b",
        2,
    )
    assert await process_events(ledger) == []  # A wrote nothing; B's outcome will be the one


async def test_at_start_the_messages_of_dead_owners_are_handed_back_at_once(
    backend: Backend,
) -> None:
    ledger = backend.open()
    ids = await enqueue(
        ledger,
        backend.clock,
        *(job_end(AB, AB_PUBLISHING_JOB, f"91{n}") for n in range(5)),
    )
    owners = ["host:111", "host:222", "worker-a", "elsewhere:333"]
    for owner in owners:
        await ledger.claim_inbox(owner, DEFAULT_LEASE, limit=1)
    backend.clock.advance(seconds=1)
    worker = make_worker(ledger, RecordingHandlers(), backend.clock, owner="worker-a")

    released = await worker.release_dead(lambda owner: owner in ("host:111", "nobody"))

    # host:111 is dead; worker-a is this worker's own name (a predecessor's leftover).
    assert sorted(released) == [ids[0], ids[2]]
    for inbox_id in released:
        freed = await message(ledger, inbox_id)
        assert (freed.status, freed.lock_owner, freed.attempts) == (InboxStatus.PENDING, None, 1)
        assert freed.available_at == backend.clock.now()
        assert freed.last_error is not None
        assert "died while processing" in freed.last_error
    for inbox_id, owner in ((ids[1], "host:222"), (ids[3], "elsewhere:333")):
        kept = await message(ledger, inbox_id)
        assert (kept.status, kept.lock_owner) == (InboxStatus.PROCESSING, owner)
    assert (await message(ledger, ids[4])).status is InboxStatus.PENDING  # never claimed

    again = await ledger.claim_inbox("worker-a", DEFAULT_LEASE, limit=5)
    assert sorted(m.id for m in again) == sorted([ids[0], ids[2], ids[4]])
    assert {m.attempts for m in again} == {1, 2}  # a released claim still counted as an attempt
