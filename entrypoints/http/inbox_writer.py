"""Stores verified webhooks in the inbox: one transaction per webhook, or per group on SQLite.

Each webhook is one inbox row and one event, committed before Alma gets its answer (rule W3).
SQLite has a single writer: concurrent transactions would queue on its busy handler, which sleeps
up to 100 ms between tries, and each transaction pays its BEGIN and COMMIT. So on SQLite the
webhooks that arrive while one transaction commits are written together in the next one (group
commit): one writer task, no added delay when idle, every webhook still answered only after the
commit that holds it. On PostgreSQL each request writes its own transaction, in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from application.ports.clock import Clock
from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.shared.ledger_records import Outcome

MAX_GROUP = 100
"""Webhooks per transaction at most, so one slow group cannot hold the lock for long."""

Pending = tuple[str, bytes, "asyncio.Future[bool]"]


class InboxWriter:
    """`store(key, body)` → whether the row is new; raises what the ledger raised."""

    def __init__(self, ledger: Callable[[], Ledger], clock: Clock, *, grouped: bool) -> None:
        self._ledger = ledger
        self._clock = clock
        self._grouped = grouped
        self._queue: list[Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def store(self, key: str, body: bytes) -> bool:
        """Commit the webhook's row and event; True when it was not in the inbox before."""
        if not self._grouped:
            async with self._ledger().unit_of_work() as uow:
                is_new = await _add(uow, self._clock, key, body)
                await uow.commit()
            return is_new
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append((key, body, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain(), name="almabridge-inbox-writer")
        return await done

    async def _drain(self) -> None:
        while self._queue:
            group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            try:
                async with self._ledger().unit_of_work() as uow:
                    results = [await _add(uow, self._clock, key, body) for key, body, _ in group]
                    await uow.commit()
            except Exception as error:
                # Nothing of the group is stored: each request answers 503 and Alma retries.
                for _, _, done in group:
                    if not done.done():
                        done.set_exception(error)
                continue
            for (_, _, done), is_new in zip(group, results, strict=True):
                if not done.done():  # the client may have gone; the row is stored anyway
                    done.set_result(is_new)


async def _add(uow: LedgerUnitOfWork, clock: Clock, key: str, body: bytes) -> bool:
    added = await uow.inbox.add(key, body, clock.now())
    await uow.events.append(
        "webhook.received" if added.is_new else "webhook.duplicate",
        Outcome.OK if added.is_new else Outcome.SKIPPED,
        inbox_id=added.id,
        details={"dedupe_key": key, "size": len(body)},
    )
    return added.is_new
