"""Work that must not run twice at once across processes: PostgreSQL advisory locks.

One items sync per member at a time must hold for every process sharing the ledger, not only
inside one (`InstitutionLocks`). A session-level advisory lock lives on its own connection for
the length of the work; it is released on exit, and by PostgreSQL itself when the process dies
and its connection closes, so a killed worker never leaves a lock behind (W8). No transaction
stays open meanwhile. An SQLite ledger belongs to one process, whose in-process lock suffices.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

NAMESPACE = 0x616C6D62
"""The first key of almabridge's advisory locks ("almb"), apart from other applications'."""


@asynccontextmanager
async def held(engine: AsyncEngine, name: str, *, shared: bool = False) -> AsyncIterator[None]:
    """Hold the lock called `name` for the block, waiting while another process holds it; with
    `shared`, beside other shared holders and never beside an exclusive one. PostgreSQL queues
    a shared request behind a waiting exclusive one, so sharers never starve a sync."""
    if engine.dialect.name != "postgresql":
        yield
        return
    mode = "_shared" if shared else ""
    keys = {"namespace": NAMESPACE, "name": name}
    async with engine.connect() as conn:
        await conn.execute(
            text(f"SELECT pg_advisory_lock{mode}(:namespace, hashtext(:name))"), keys
        )
        await conn.commit()
        try:
            yield
        finally:
            await conn.execute(
                text(f"SELECT pg_advisory_unlock{mode}(:namespace, hashtext(:name))"), keys
            )
            await conn.commit()
