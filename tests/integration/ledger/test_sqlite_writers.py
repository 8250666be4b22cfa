"""SQLite-specific guarantees: WAL, foreign keys, and writers that queue instead of failing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from application.ports.ledger import Ledger
from tests.integration.ledger.support import FakeClock, sqlite_file_url

TASKS = 8
TRANSACTIONS = 50


async def test_connections_use_wal_and_foreign_keys(tmp_path: Path, clock: FakeClock) -> None:
    url = sqlite_file_url(tmp_path)
    await upgrade(url)
    ledger = SqlLedger.from_url(url, clock)
    try:
        async with ledger.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one() >= 5000
    finally:
        await ledger.close()


async def increment(ledger: Ledger, times: int) -> None:
    """Read-then-write transactions: read a counter kept in a mirror row, write it back plus one."""
    for _ in range(times):
        async with ledger.unit_of_work() as uow:
            item = await uow.items.get("01AAA", "counter")
            count = int(item.fingerprint or 0) if item else 0
            await asyncio.sleep(0)  # let the other tasks try to write in between
            await uow.items.upsert(
                "01AAA",
                "counter",
                scf_mms_id="1",
                scf_holding_id="1",
                scf_item_pid="1",
                fingerprint=str(count + 1),
            )
            await uow.commit()


async def test_concurrent_read_then_write_transactions_never_fail_or_lose_updates(
    tmp_path: Path, clock: FakeClock
) -> None:
    url = sqlite_file_url(tmp_path)
    await upgrade(url)
    engines = [SqlLedger.from_url(url, clock) for _ in range(2)]
    try:
        await asyncio.gather(*(increment(engines[n % 2], TRANSACTIONS) for n in range(TASKS)))
        async with engines[0].unit_of_work() as uow:
            item = await uow.items.get("01AAA", "counter")
    finally:
        for ledger in engines:
            await ledger.close()
    # BEGIN IMMEDIATE serialises whole transactions: no "database is locked", no lost update.
    assert item is not None
    assert item.fingerprint == str(TASKS * TRANSACTIONS)


async def test_readers_are_not_blocked_by_an_open_writer(tmp_path: Path, clock: FakeClock) -> None:
    url = sqlite_file_url(tmp_path)
    await upgrade(url)
    ledger = SqlLedger.from_url(url, clock)
    try:
        async with ledger.unit_of_work() as uow:
            await uow.inbox.add("k", b"x", clock.now())
            # The writer holds the lock; an audit query still answers from the last commit.
            depth = await asyncio.wait_for(ledger.inbox_depth(), timeout=2)
            assert depth.pending == 0
            await uow.commit()
        assert (await ledger.inbox_depth()).pending == 1
    finally:
        await ledger.close()
