"""`Ledger.exclusive`: work held by one process sharing the ledger at a time (A4, I1).

On PostgreSQL two ledgers (two engines, as two worker processes have) exclude each other; an
SQLite or memory ledger belongs to one process, whose in-process locks do the excluding, so
`exclusive` lets the block through at once there.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.ledger.engine import create_ledger_engine
from adapters.ledger.sql.locks import NAMESPACE
from application.ports.ledger import Ledger
from tests.integration.ledger.support import Backend

REPOSITORY = Path(__file__).resolve().parents[3]


async def test_exclusive_lets_a_lone_holder_through(backend: Backend) -> None:
    ledger = backend.open()
    # Another name is another lock: holding both at once does not wait.
    async with ledger.exclusive("items sync 01AAA_AB"), ledger.exclusive("items sync 01AAA_CD"):
        pass


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_A4_two_processes_never_hold_one_name_at_once(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    entered = asyncio.Event()
    release = asyncio.Event()
    order: list[str] = []

    async def hold_first() -> None:
        async with first.exclusive("items sync 01AAA_AB"):
            order.append("first in")
            entered.set()
            await release.wait()
            order.append("first out")

    async def hold_second() -> None:
        await entered.wait()
        async with second.exclusive("items sync 01AAA_AB"):
            order.append("second in")

    holder = asyncio.create_task(hold_first())
    waiter = asyncio.create_task(hold_second())
    await entered.wait()
    # The other name is free meanwhile, even on the waiting ledger.
    async with second.exclusive("items sync 01AAA_CD"):
        order.append("other name")
    await asyncio.sleep(0.2)  # give the waiter time to (wrongly) get in
    assert order == ["first in", "other name"]
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, waiter), 10)
    assert order == ["first in", "other name", "first out", "second in"]


async def test_a_lock_session_lets_a_lone_holder_through(backend: Backend) -> None:
    ledger = backend.open()
    async with (
        ledger.lock_session() as held,
        held.shared("items sync 01AAA_AB"),
        held.exclusive("items of 01aaa_ab: AB0001"),
        ledger.lock_session() as other,
        other.shared("items sync 01AAA_AB"),
    ):
        pass
    async with ledger.exclusive("items sync 01AAA_AB"):  # everything was let go
        pass


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_W7_webhooks_share_a_member_that_its_sync_holds_alone(backend: Backend) -> None:
    """Two processes' webhooks work on one member at once; a sync waits for both, and a
    webhook arriving while the sync waits goes after it (no starving the nightly file)."""
    name = "items sync 01AAA_AB"
    first, second, sync = backend.open(), backend.open(), backend.open()
    order: list[str] = []
    both_in = asyncio.Event()
    release = asyncio.Event()

    async def webhook(ledger: Ledger, label: str) -> None:
        async with ledger.lock_session() as held, held.shared(name):
            order.append(f"{label} in")
            if order.count("first in") + order.count("second in") == 2:
                both_in.set()
            await release.wait()
            order.append(f"{label} out")

    async def file_sync() -> None:
        async with sync.exclusive(name):
            order.append("sync in")
            await asyncio.sleep(0)  # a late webhook that got in now would show before "out"
            order.append("sync out")

    async def late_webhook() -> None:
        async with first.lock_session() as held, held.shared(name):
            order.append("late in")

    webhooks = [
        asyncio.create_task(webhook(first, "first")),
        asyncio.create_task(webhook(second, "second")),
    ]
    await asyncio.wait_for(both_in.wait(), 10)
    syncing = asyncio.create_task(file_sync())
    await waiting_for_advisory_locks(backend.url, name, 1)  # the sync
    late = asyncio.create_task(late_webhook())
    await waiting_for_advisory_locks(backend.url, name, 2)  # the late webhook, queued behind it
    assert "sync in" not in order
    assert "late in" not in order
    release.set()
    await asyncio.wait_for(asyncio.gather(*webhooks, syncing, late), 10)
    assert order[-3:] == ["sync in", "sync out", "late in"]


async def waiting_for_advisory_locks(url: str | None, name: str, count: int) -> None:
    """Until PostgreSQL shows `count` requests waiting for the lock `name` (pg_locks), at most
    10 s."""
    assert url is not None
    engine = create_ledger_engine(url)
    try:
        async with asyncio.timeout(10):
            while True:
                async with engine.connect() as conn:
                    waiting = await conn.scalar(
                        text(
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                            " AND NOT granted AND objsubid = 2 AND classid = :namespace"
                            " AND objid = hashtext(:name)::oid"
                        ),
                        {"namespace": NAMESPACE, "name": name},
                    )
                if waiting == count:
                    return
                await asyncio.sleep(0.02)
    finally:
        await engine.dispose()


HOLD_AND_WAIT = """
import asyncio, sys
from adapters.ledger.clock import SystemClock
from adapters.ledger.sql import SqlLedger

async def main():
    ledger = SqlLedger.from_url(sys.argv[1], SystemClock())
    async with ledger.exclusive("items sync 01AAA_AB"):
        print("held", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_W8_a_killed_holder_leaves_no_lock_behind(backend: Backend) -> None:
    assert backend.url is not None
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLD_AND_WAIT,
        backend.url,
        cwd=REPOSITORY,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"held\n"
        waiter = backend.open()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5), waiter.exclusive("items sync 01AAA_AB"):
                pass
    finally:
        holder.kill()  # SIGKILL: no unlock, no goodbye
        await holder.wait()
    async with asyncio.timeout(10), waiter.exclusive("items sync 01AAA_AB"):
        pass
