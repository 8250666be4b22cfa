"""Several workers drain one inbox without doing anything twice (issue 6, item 2).

Two ledgers on one database: separate engines and connections for SQLite and PostgreSQL, the
same instance in memory. The handler doubles count every call per inbox message.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from application.shared.ledger_records import InboxStatus, Outcome
from tests.integration.ledger.support import Backend
from tests.integration.worker.support import (
    AB_PUBLISHING_JOB,
    AB_REQUESTS_JOB,
    RecordingHandlers,
    enqueue,
    job_end,
    make_worker,
    process_events,
)
from tests.scenarios.world import AB

MESSAGES = 40


async def test_two_workers_process_each_of_40_messages_exactly_once(backend: Backend) -> None:
    producer = backend.open()
    bodies = [
        job_end(AB, AB_PUBLISHING_JOB if n % 2 else AB_REQUESTS_JOB, f"99{n:04d}")
        for n in range(MESSAGES)
    ]
    ids = await enqueue(producer, backend.clock, *bodies)
    handlers = [RecordingHandlers(name=name) for name in ("worker-a", "worker-b")]
    workers = [
        make_worker(backend.open(), h, backend.clock, owner=h.name, batch=3) for h in handlers
    ]

    claimed = await asyncio.gather(*(worker.run_until_idle() for worker in workers))

    calls: Counter[int] = sum((h.per_message for h in handlers), Counter())
    assert calls == dict.fromkeys(ids, 1), "a message was handled twice or not at all"
    assert sum(claimed) == MESSAGES
    assert all(h.calls for h in handlers), "the workers did not actually compete"
    depth = await producer.inbox_depth()
    assert (depth.done, depth.backlog) == (MESSAGES, 0)
    events = await process_events(producer)
    assert sorted(e.inbox_id for e in events if e.inbox_id is not None) == sorted(ids)
    assert {e.outcome for e in events} == {Outcome.OK}
    async with producer.unit_of_work() as uow:
        for inbox_id in ids:
            stored = await uow.inbox.get(inbox_id)
            assert stored is not None
            assert (stored.status, stored.attempts) == (InboxStatus.DONE, 1)
