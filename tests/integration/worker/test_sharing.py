"""`run_forever` in real time: workers share the inbox fairly, and retries come on time (issue 13).

Two workers (different owners, each its own engine on SQLite and PostgreSQL, one instance in
memory) run their production loop side by side over one inbox; the handler doubles take time,
so a worker that claimed greedily would hold both messages. The clock is the system's: the loop
waits in real time, and every wait of the test has a deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from adapters.ledger.clock import SystemClock
from application.ports.ledger import Ledger
from application.scf.inbox.handlers import RetryBackoff
from application.scf.inbox.worker import InboxWorker
from application.shared.ledger_records import InboxMessage, InboxStatus
from tests.integration.ledger.support import Backend
from tests.integration.worker.support import (
    AB_PUBLISHING_JOB,
    AB_REQUESTS_JOB,
    RecordingHandlers,
    enqueue,
    job_end,
    make_worker,
    message,
)
from tests.scenarios.world import AB, CD

POLL = 0.05
"""The idle workers' poll interval here (1 s in the service)."""
BUSY_GRACE = 1.0
"""How long a message waits before a busy worker takes it here (3 s in the service): well above
POLL, so that on a loaded machine too, the idle worker is the one to look next."""
DEADLINE = 20.0


@pytest.fixture
def clock() -> SystemClock:
    """The wall clock, for every ledger backend of these tests (overrides the FakeClock)."""
    return SystemClock()


@asynccontextmanager
async def running(
    workers: Sequence[InboxWorker],
    *,
    poll_interval: float = POLL,
    busy_grace: float = BUSY_GRACE,
) -> AsyncIterator[None]:
    """The workers' `run_forever`, stopped (and awaited) on leaving the block."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(
            worker.run_forever(stop, poll_interval=poll_interval, busy_grace=busy_grace)
        )
        for worker in workers
    ]
    try:
        yield
    finally:
        stop.set()
        async with asyncio.timeout(DEADLINE):
            await asyncio.gather(*tasks)


class Gate:
    """Handlers that hold every message until released, noting who started which."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int]] = []
        self.changed = asyncio.Event()
        self.release = asyncio.Event()

    def handlers(self, name: str) -> RecordingHandlers:
        async def hold(method: str, inbox_id: int) -> None:
            self.started.append((name, inbox_id))
            self.changed.set()
            async with asyncio.timeout(DEADLINE):
                await self.release.wait()

        return RecordingHandlers(hold, name=name)

    async def wait_started(self, count: int) -> list[tuple[str, int]]:
        async with asyncio.timeout(DEADLINE):
            while len(self.started) < count:
                self.changed.clear()
                await self.changed.wait()
        return list(self.started)


async def until_done(ledger: Ledger, inbox_id: int) -> None:
    """Poll the message until it is done; fail after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while (await message(ledger, inbox_id)).status is not InboxStatus.DONE:
        assert time.monotonic() < deadline, f"message {inbox_id} not done in {DEADLINE} s"
        await asyncio.sleep(POLL)


def two_members_job_ends(webhook_ids: tuple[str, str]) -> list[bytes]:
    # AB's publishing job and CD's requests job share an id; W4 settles them by the sender.
    return [
        job_end(AB, AB_PUBLISHING_JOB, webhook_ids[0]),
        job_end(CD, AB_REQUESTS_JOB, webhook_ids[1]),
    ]


async def test_two_workers_each_take_one_of_two_waiting_messages(backend: Backend) -> None:
    ledger = backend.open()
    ids = await enqueue(ledger, backend.clock, *two_members_job_ends(("1301", "1302")))
    gate = Gate()
    workers = [
        make_worker(backend.open(), gate.handlers(name), backend.clock, owner=name)
        for name in ("worker-a", "worker-b")
    ]

    async with running(workers):
        started = await gate.wait_started(2)
        holders = {inbox_id: (await message(ledger, inbox_id)).lock_owner for inbox_id in ids}
        gate.release.set()

    assert sorted(name for name, _ in started) == ["worker-a", "worker-b"], started
    assert sorted(inbox_id for _, inbox_id in started) == ids
    assert sorted(str(owner) for owner in holders.values()) == ["worker-a", "worker-b"]
    for inbox_id in ids:
        assert (await message(ledger, inbox_id)).status is InboxStatus.DONE


async def test_a_busy_worker_leaves_a_new_message_to_an_idle_one(backend: Backend) -> None:
    """Serve's worker is busy with one member's sync, the standalone worker idle: the next
    member's JOB_END goes to the idle one, although the busy one has free slots (batch 5)."""
    ledger = backend.open()
    gate = Gate()
    busy = make_worker(backend.open(), gate.handlers("busy"), backend.clock, owner="busy")
    idle = make_worker(backend.open(), gate.handlers("idle"), backend.clock, owner="idle")
    first, second = two_members_job_ends(("1303", "1304"))

    async with running([busy]):
        await enqueue(ledger, backend.clock, first)
        assert await gate.wait_started(1) == [("busy", 1)]
        async with running([idle]):
            await enqueue(ledger, backend.clock, second)
            started = await gate.wait_started(2)
            gate.release.set()

    assert started == [("busy", 1), ("idle", 2)]


async def test_alone_a_busy_worker_still_takes_the_next_message(backend: Backend) -> None:
    ledger = backend.open()
    gate = Gate()
    worker = make_worker(backend.open(), gate.handlers("alone"), backend.clock, owner="alone")
    await enqueue(ledger, backend.clock, *two_members_job_ends(("1305", "1306")))

    async with running([worker], busy_grace=0.2):
        started = await gate.wait_started(2)  # both at once: up to `batch` run concurrently
        gate.release.set()

    assert started == [("alone", 1), ("alone", 2)]


async def test_a_failed_message_is_tried_again_about_two_seconds_later(backend: Backend) -> None:
    """The production backoff (its jitter drawn as 0) and poll interval: the first retry is due
    2 s after the failure, and the idle worker, looking every second, takes it up within a
    second of that."""
    attempts: list[float] = []

    async def fail_first(method: str, inbox_id: int) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RuntimeError("a moment's fault")

    ledger = backend.open()
    worker = make_worker(
        ledger,
        RecordingHandlers(fail_first),
        backend.clock,
        backoff=RetryBackoff(random=lambda: 0.0),
    )
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "1307"))

    async with running([worker], poll_interval=1.0, busy_grace=3.0):
        await until_done(ledger, inbox_id)

    assert len(attempts) == 2
    waited = attempts[1] - attempts[0]
    assert 2.0 <= waited < 2.0 + 1.0 + 1.0, waited  # due, plus one poll, plus slack
    done = await message(ledger, inbox_id)
    assert (done.status, done.attempts) == (InboxStatus.DONE, 2)


async def test_a_stopped_loop_finishes_the_message_in_hand(backend: Backend) -> None:
    ledger = backend.open()
    gate = Gate()
    worker = make_worker(ledger, gate.handlers("w"), backend.clock, owner="w")
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "1308"))
    stop = asyncio.Event()
    loop = asyncio.create_task(worker.run_forever(stop, poll_interval=POLL))
    await gate.wait_started(1)
    stop.set()
    await asyncio.sleep(POLL * 2)  # the loop saw stop; the message is still in hand
    assert not loop.done()
    gate.release.set()
    async with asyncio.timeout(DEADLINE):
        await loop
    assert (await message(ledger, inbox_id)).status is InboxStatus.DONE


async def test_a_cancelled_loop_hands_every_message_in_hand_back(backend: Backend) -> None:
    ledger = backend.open()
    gate = Gate()
    worker = make_worker(ledger, gate.handlers("w"), backend.clock, owner="w")
    ids = await enqueue(ledger, backend.clock, *two_members_job_ends(("1309", "1310")))
    loop = asyncio.create_task(
        worker.run_forever(asyncio.Event(), poll_interval=POLL, busy_grace=POLL)
    )
    await gate.wait_started(2)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    for inbox_id in ids:
        handed_back = await message(ledger, inbox_id)
        assert (handed_back.status, handed_back.lock_owner) == (InboxStatus.PENDING, None)
        assert handed_back.available_at <= backend.clock.now()


async def test_claiming_goes_on_after_the_database_failed_a_round(backend: Backend) -> None:
    ledger = backend.open()
    failures = {"left": 2}
    claim = ledger.claim_inbox

    async def flaky_claim(
        owner: str, lease: timedelta, limit: int, *, waited: timedelta = timedelta(0)
    ) -> list[InboxMessage]:
        if failures["left"]:
            failures["left"] -= 1
            raise ConnectionError("the database went away")
        return await claim(owner, lease, limit, waited=waited)

    ledger.claim_inbox = flaky_claim  # type: ignore[method-assign]
    handlers = RecordingHandlers()
    worker = make_worker(ledger, handlers, backend.clock)
    [inbox_id] = await enqueue(ledger, backend.clock, job_end(AB, AB_PUBLISHING_JOB, "1311"))

    async with running([worker]):
        await until_done(ledger, inbox_id)

    assert failures["left"] == 0
    assert handlers.per_message == {inbox_id: 1}
