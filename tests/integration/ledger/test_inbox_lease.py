"""Contract: a worker renews its lease while it works, loses it to a reclaim, and a replay
requeues a dead or failed message (rule W3, issue 6 item 2)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from application.ports.ledger import Ledger
from application.shared.ledger_records import InboxStatus, LedgerRecordNotFound
from tests.integration.ledger.support import Backend
from tests.integration.ledger.test_inbox import add_messages

LEASE = timedelta(minutes=5)


async def extend(ledger: Ledger, message_id: int, owner: str, **kwargs: object) -> bool:
    async with ledger.unit_of_work() as uow:
        extended = await uow.inbox.extend_lease(message_id, owner, **kwargs)  # type: ignore[arg-type]
        await uow.commit()
    return extended


async def test_an_extended_lease_keeps_other_claimers_out(backend: Backend, ledger: Ledger) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    [claimed] = await ledger.claim_inbox("worker-a", LEASE, limit=1)
    backend.clock.advance(minutes=4)
    until = backend.clock.now() + LEASE
    assert await extend(ledger, message_id, "worker-a", until=until, attempt=claimed.attempts)
    backend.clock.advance(minutes=4)  # past the first lease, inside the extended one
    assert await ledger.claim_inbox("worker-b", LEASE, limit=1) == []
    async with ledger.unit_of_work() as uow:
        stored = await uow.inbox.get(message_id)
    assert stored is not None
    assert (stored.status, stored.lock_owner, stored.lease_until) == (
        InboxStatus.PROCESSING,
        "worker-a",
        until,
    )
    backend.clock.advance(minutes=1)
    [again] = await ledger.claim_inbox("worker-b", LEASE, limit=1)
    assert (again.lock_owner, again.attempts) == ("worker-b", 2)


async def test_a_lease_reclaimed_by_another_worker_cannot_be_extended(
    backend: Backend, ledger: Ledger
) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    await ledger.claim_inbox("worker-a", LEASE, limit=1)
    backend.clock.advance(minutes=6)
    await ledger.claim_inbox("worker-b", LEASE, limit=1)
    later = backend.clock.now() + LEASE * 2
    assert not await extend(ledger, message_id, "worker-a", until=later)
    async with ledger.unit_of_work() as uow:
        stored = await uow.inbox.get(message_id)
    assert stored is not None
    assert stored.lock_owner == "worker-b"
    assert stored.lease_until == backend.clock.now() + LEASE


async def test_an_expired_lease_not_yet_reclaimed_is_still_the_owners(
    backend: Backend, ledger: Ledger
) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    await ledger.claim_inbox("worker-a", LEASE, limit=1)
    backend.clock.advance(minutes=6)
    assert await extend(ledger, message_id, "worker-a", until=backend.clock.now() + LEASE)
    assert await ledger.claim_inbox("worker-b", LEASE, limit=1) == []


async def test_the_same_owner_claiming_again_fences_off_its_older_claim(
    backend: Backend, ledger: Ledger
) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    [first] = await ledger.claim_inbox("worker-a", LEASE, limit=1)
    backend.clock.advance(minutes=6)
    [second] = await ledger.claim_inbox("worker-a", LEASE, limit=1)
    until = backend.clock.now() + LEASE
    assert not await extend(ledger, message_id, "worker-a", until=until, attempt=first.attempts)
    assert await extend(ledger, message_id, "worker-a", until=until, attempt=second.attempts)


async def test_finished_messages_have_no_lease_to_extend(backend: Backend, ledger: Ledger) -> None:
    done_id, failed_id, dead_id = await add_messages(backend, ledger, 3)
    await ledger.claim_inbox("worker-a", LEASE, limit=3)
    async with ledger.unit_of_work() as uow:
        await uow.inbox.mark_done(done_id)
        await uow.inbox.mark_failed(failed_id, "503", backend.clock.now() + LEASE)
        await uow.inbox.mark_dead(dead_id, "gave up")
        await uow.commit()
    until = backend.clock.now() + LEASE
    for message_id in (done_id, failed_id, dead_id, 404):
        assert not await extend(ledger, message_id, "worker-a", until=until)


async def test_an_uncommitted_extension_changes_nothing(backend: Backend, ledger: Ledger) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    await ledger.claim_inbox("worker-a", LEASE, limit=1)
    async with ledger.unit_of_work() as uow:
        assert await uow.inbox.extend_lease(message_id, "worker-a", backend.clock.now() + LEASE * 9)
    backend.clock.advance(minutes=5)
    [again] = await ledger.claim_inbox("worker-b", LEASE, limit=1)
    assert again.id == message_id


async def test_a_fencing_extension_holds_off_a_concurrent_claimer(backend: Backend) -> None:
    """While a unit of work holds the extension, a claim elsewhere does not take the message."""
    owner_ledger, other_ledger = backend.open(), backend.open()
    [message_id] = await add_messages(backend, owner_ledger, 1)
    await owner_ledger.claim_inbox("worker-a", LEASE, limit=1)
    backend.clock.advance(minutes=6)  # expired: a claimer would take it, were it not fenced
    async with owner_ledger.unit_of_work() as uow:
        assert await uow.inbox.extend_lease(message_id, "worker-a", backend.clock.now())
        if backend.name == "postgresql":
            # FOR UPDATE SKIP LOCKED: the claimer passes over the fenced row without waiting.
            assert await other_ledger.claim_inbox("worker-b", LEASE, limit=1) == []
            claim = None
        else:
            # One writer at a time (memory lock, SQLite BEGIN IMMEDIATE): the claim waits.
            claim = asyncio.create_task(other_ledger.claim_inbox("worker-b", LEASE, limit=1))
            for _ in range(3):
                await asyncio.sleep(0)
            assert not claim.done()
        await uow.inbox.mark_done(message_id)
        await uow.commit()
    if claim is not None:
        assert await claim == []


async def test_requeue_revives_a_dead_message_with_attempts_reset(
    backend: Backend, ledger: Ledger
) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    await ledger.claim_inbox("worker-a", LEASE, limit=1)
    async with ledger.unit_of_work() as uow:
        await uow.inbox.mark_dead(message_id, "eighth failure: HTTP 503")
        await uow.commit()
    backend.clock.advance(days=2)
    async with ledger.unit_of_work() as uow:
        requeued = await uow.inbox.requeue(message_id)
        await uow.commit()
    assert requeued is not None
    assert (requeued.status, requeued.attempts, requeued.lock_owner) == (
        InboxStatus.PENDING,
        0,
        None,
    )
    assert requeued.available_at == backend.clock.now()
    assert requeued.last_error == "eighth failure: HTTP 503"
    [again] = await ledger.claim_inbox("worker-b", LEASE, limit=1)
    assert (again.id, again.attempts) == (message_id, 1)


async def test_requeue_makes_a_failed_message_due_now(backend: Backend, ledger: Ledger) -> None:
    [message_id] = await add_messages(backend, ledger, 1)
    await ledger.claim_inbox("worker-a", LEASE, limit=1)
    async with ledger.unit_of_work() as uow:
        await uow.inbox.mark_failed(message_id, "503", backend.clock.now() + timedelta(hours=1))
        requeued = await uow.inbox.requeue(message_id)
        await uow.commit()
    assert requeued is not None
    assert requeued.attempts == 0
    [again] = await ledger.claim_inbox("worker-b", LEASE, limit=1)
    assert again.id == message_id


async def test_requeue_leaves_done_and_processing_messages_alone(
    backend: Backend, ledger: Ledger
) -> None:
    done_id, processing_id = await add_messages(backend, ledger, 2)
    await ledger.claim_inbox("worker-a", LEASE, limit=2)
    async with ledger.unit_of_work() as uow:
        await uow.inbox.mark_done(done_id)
        assert await uow.inbox.requeue(done_id) is None
        assert await uow.inbox.requeue(processing_id) is None
        await uow.commit()
        processing = await uow.inbox.get(processing_id)
    assert processing is not None
    assert (processing.status, processing.lock_owner) == (InboxStatus.PROCESSING, "worker-a")


async def test_requeue_of_an_unknown_message_raises(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        with pytest.raises(LedgerRecordNotFound):
            await uow.inbox.requeue(404)
