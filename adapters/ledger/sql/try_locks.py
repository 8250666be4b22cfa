"""A lock tried, never waited for: one run of a workflow at a time across processes (B1, B6).

A PostgreSQL session-level advisory lock in almabridge's namespace (as `locks.held`), taken with
`pg_try_advisory_lock`: a second process learns at once that the workflow is running instead of
queueing behind it. A killed holder's connection closes and PostgreSQL releases its lock, so a
killed run never blocks the next one. Advisory locks belong to the whole database, so the key
also hashes the ledger's schema: two ledgers in one database (two deployments, two test runs)
never refuse each other's runs. An SQLite ledger belongs to one process: there the ledger's own
in-process set of held names decides.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.ledger.sql.locks import NAMESPACE

# The second key: the name within the ledger's schema (the same on this connection throughout).
_KEY = "hashtext(coalesce(current_schema(), '') || ':' || :name)"


@asynccontextmanager
async def tried(engine: AsyncEngine, name: str, held_here: set[str]) -> AsyncIterator[bool]:
    """Hold `name` for the block when free (yields True), else yield False without waiting.

    `held_here` holds the names this process holds, so two holders in one process exclude each
    other on every backend (PostgreSQL's session locks would let one session in twice).
    """
    if name in held_here:
        yield False
        return
    held_here.add(name)
    try:
        if engine.dialect.name != "postgresql":
            yield True
            return
        keys = {"namespace": NAMESPACE, "name": name}
        async with engine.connect() as conn:
            statement = text(f"SELECT pg_try_advisory_lock(:namespace, {_KEY})")
            got = bool((await conn.execute(statement, keys)).scalar_one())
            await conn.commit()
            if not got:
                yield False
                return
            try:
                yield True
            finally:
                unlock = text(f"SELECT pg_advisory_unlock(:namespace, {_KEY})")
                await conn.execute(unlock, keys)
                await conn.commit()
    finally:
        held_here.discard(name)
