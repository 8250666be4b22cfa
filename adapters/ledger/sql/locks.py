"""Work that must not run twice at once across processes: PostgreSQL advisory locks.

One items sync per member at a time must hold for every process sharing the ledger, not only
inside one (`InstitutionLocks`). A session-level advisory lock lives on its own connection for
the length of the work; it is released on exit, and by PostgreSQL itself when the process dies
and its connection closes, so a killed worker never leaves a lock behind (W8). No transaction
stays open meanwhile. An SQLite ledger belongs to one process, whose in-process lock suffices.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.ledger.no_locks import NO_LOCKS
from application.ports.ledger import HeldLocks

NAMESPACE = 0x616C6D62
"""The first key of almabridge's advisory locks ("almb"), apart from other applications'."""


@asynccontextmanager
async def held(engine: AsyncEngine, name: str) -> AsyncIterator[None]:
    """Hold the lock called `name` for the block, waiting while another process holds it."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as conn, _SessionLocks(conn).exclusive(name):
        yield


@asynccontextmanager
async def lock_session(engine: AsyncEngine) -> AsyncIterator[HeldLocks]:
    """One connection whose advisory locks a piece of work takes one after another; closing it
    lets go of any left (a cancelled holder's too)."""
    if engine.dialect.name != "postgresql":
        yield NO_LOCKS
        return
    async with engine.connect() as conn:
        yield _SessionLocks(conn)


class _SessionLocks:
    """Session-level advisory locks on one connection. Statements on it go one at a time: a
    connection runs one statement at once, whichever task of the work sends it."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._statements = asyncio.Lock()

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        return self._held(name, "")

    def shared(self, name: str) -> AbstractAsyncContextManager[None]:
        # PostgreSQL queues a shared request behind a waiting exclusive one: no starving a sync.
        return self._held(name, "_shared")

    @asynccontextmanager
    async def _held(self, name: str, mode: str) -> AsyncIterator[None]:
        keys = {"namespace": NAMESPACE, "name": name}
        await self._run(f"SELECT pg_advisory_lock{mode}(:namespace, hashtext(:name))", keys)
        try:
            yield
        finally:
            await self._run(f"SELECT pg_advisory_unlock{mode}(:namespace, hashtext(:name))", keys)

    async def _run(self, statement: str, keys: dict[str, object]) -> None:
        async with self._statements:
            await self._conn.execute(text(statement), keys)
            await self._conn.commit()
