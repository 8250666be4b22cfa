"""Contract: the webhook inbox dedupes, leases, retries and dead-letters (rule W3)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from application.ports.ledger import Ledger
from application.shared.ledger_records import InboxStatus, LedgerRecordNotFound
from tests.integration.ledger.support import Backend

LEASE = timedelta(minutes=5)


async def add_messages(backend: Backend, ledger: Ledger, count: int) -> list[int]:
    """Commit count pending messages received now; returns their ids."""
    async with ledger.unit_of_work() as uow:
        ids = [
            (await uow.inbox.add(f"key-{n}", f"body {n}".encode(), backend.clock.now())).id
            for n in range(count)
        ]
        await uow.commit()
    return ids


async def test_a_second_add_of_the_same_key_is_not_new(backend: Backend, ledger: Ledger) -> None:
    now = backend.clock.now()
    async with ledger.unit_of_work() as uow:
        first = await uow.inbox.add("sha256:abc", b'{"id": 1}', now)
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        second = await uow.inbox.add("sha256:abc", b"another body", now)
        await uow.commit()
    assert first.is_new
    assert not second.is_new
    assert second.id == first.id
    async with ledger.unit_of_work() as uow:
        stored = await uow.inbox.get(first.id)
    assert stored is not None
    assert stored.body == b'{"id": 1}'
    assert (stored.status, stored.attempts, stored.received_at) == (InboxStatus.PENDING, 0, now)
    assert stored.available_at == now
    assert stored.lock_owner is None


async def test_claim_leases_due_messages_oldest_first(backend: Backend, ledger: Ledger) -> None:
    ids = await add_messages(backend, ledger, 3)
    claimed = await ledger.claim_inbox("worker-a", LEASE, limit=2)
    assert [message.id for message in claimed] == ids[:2]
    for message in claimed:
        assert message.status is InboxStatus.PROCESSING
        assert message.attempts == 1
        assert message.lock_owner == "worker-a"
        assert message.lease_until == backend.clock.now() + LEASE
    rest = await ledger.claim_inbox("worker-b", LEASE, limit=10)
    assert [message.id for message in rest] == ids[2:]
    assert await ledger.claim_inbox("worker-c", LEASE, limit=10) == []


async def test_a_lease_blocks_until_it_expires(backend: Backend, ledger: Ledger) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    assert len(await ledger.claim_inbox("worker-a", LEASE, limit=1)) == 1
    backend.clock.advance(minutes=4, seconds=59)
    assert await ledger.claim_inbox("worker-b", LEASE, limit=1) == []
    backend.clock.advance(seconds=1)
    [again] = await ledger.claim_inbox("worker-b", LEASE, limit=1)
    assert (again.id, again.lock_owner, again.attempts) == (message_id, "worker-b", 2)


async def test_failed_message_waits_until_retry_at(backend: Backend, ledger: Ledger) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    await ledger.claim_inbox("worker-a", LEASE, limit=1)
    retry_at = backend.clock.now() + timedelta(seconds=30)
    async with ledger.unit_of_work() as uow:
        await uow.inbox.mark_failed(message_id, "Alma said 503", retry_at)
        await uow.commit()
        failed = await uow.inbox.get(message_id)
    assert failed is not None
    assert (failed.status, failed.last_error, failed.lock_owner) == (
        InboxStatus.PENDING,
        "Alma said 503",
        None,
    )
    assert await ledger.claim_inbox("worker-b", LEASE, limit=1) == []
    backend.clock.advance(seconds=30)
    [again] = await ledger.claim_inbox("worker-b", LEASE, limit=1)
    assert again.attempts == 2
    assert again.last_error == "Alma said 503"


async def test_done_and_dead_messages_are_never_claimed(backend: Backend, ledger: Ledger) -> None:
    done_id, dead_id = await add_messages(backend, ledger, 2)
    await ledger.claim_inbox("worker-a", LEASE, limit=2)
    async with ledger.unit_of_work() as uow:
        await uow.inbox.mark_done(done_id)
        await uow.inbox.mark_dead(dead_id, "third failure: unknown job id")
        await uow.commit()
    backend.clock.advance(days=1)
    assert await ledger.claim_inbox("worker-b", LEASE, limit=10) == []
    async with ledger.unit_of_work() as uow:
        dead = await uow.inbox.get(dead_id)
        done = await uow.inbox.get(done_id)
    assert dead is not None
    assert done is not None
    assert dead.status is InboxStatus.DEAD
    assert dead.last_error == "third failure: unknown job id"
    assert dead.lease_until is None
    assert done.status is InboxStatus.DONE
    depth = await ledger.inbox_depth()
    assert (depth.pending, depth.processing, depth.done, depth.dead) == (0, 0, 1, 1)


async def test_inbox_depth_counts_each_status(backend: Backend, ledger: Ledger) -> None:
    await add_messages(backend, ledger, 5)
    await ledger.claim_inbox("worker-a", LEASE, limit=2)
    depth = await ledger.inbox_depth()
    assert (depth.pending, depth.processing, depth.backlog) == (3, 2, 5)


async def test_marking_an_unknown_message_raises(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        with pytest.raises(LedgerRecordNotFound):
            await uow.inbox.mark_done(404)


async def test_naive_datetimes_are_refused(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        with pytest.raises(ValueError, match="aware"):
            await uow.inbox.add("k", b"", datetime(2026, 1, 1, 9, 0))


async def test_concurrent_claimers_never_share_a_message(backend: Backend) -> None:
    producer = backend.open()
    ids = await add_messages(backend, producer, 200)
    # Separate ledgers: separate engines and connections on SQL backends.
    claimers = [backend.open() for _ in range(4)]

    async def drain(ledger: Ledger, owner: str) -> list[int]:
        taken: list[int] = []
        while batch := await ledger.claim_inbox(owner, LEASE, limit=3):
            taken.extend(message.id for message in batch)
            await asyncio.sleep(0)
        return taken

    results = await asyncio.gather(
        *(drain(ledger, f"worker-{n}") for n, ledger in enumerate(claimers))
    )
    everything = [message_id for taken in results for message_id in taken]
    assert len(everything) == len(set(everything)), "a message was claimed twice"
    assert sorted(everything) == sorted(ids)
    assert sum(1 for taken in results if taken) > 1, "the claimers did not actually compete"
    assert (await producer.inbox_depth()).processing == 200
