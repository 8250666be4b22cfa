"""The in-memory ledger: the SQL ledger's twin for unit tests, demos and the contract suite.

Units of work are serialised by one asyncio.Lock, as BEGIN IMMEDIATE serialises SQLite writers;
each works on a snapshot that commit() publishes, so uncommitted changes are never seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self

from adapters.ledger.daily import count_per_day
from adapters.ledger.memory.events import MemoryEventRepository
from adapters.ledger.memory.files import MemoryTransferFileRepository
from adapters.ledger.memory.inbox import MemoryInboxRepository
from adapters.ledger.memory.items import MemoryMirroredItemRepository
from adapters.ledger.memory.requests import MemoryForwardedRequestRepository
from adapters.ledger.memory.runs import MemoryRunRepository
from adapters.ledger.memory.state import LedgerState, Workspace, utc
from adapters.ledger.no_locks import NO_LOCKS
from application.ports.clock import Clock
from application.ports.ledger import HeldLocks, Ledger
from application.ports.runs import WorkflowLock
from application.shared.ledger_records import (
    DailyCount,
    InboxDepth,
    InboxMessage,
    InboxStatus,
    ItemHistory,
    LedgerEvent,
    Outcome,
    RequestRecord,
)


class MemoryUnitOfWork:
    """One transaction over a snapshot of the in-memory ledger."""

    def __init__(self, ledger: MemoryLedger) -> None:
        self._ledger = ledger
        self._workspace: Workspace | None = None

    # The repositories exist once the unit of work is entered.
    inbox: MemoryInboxRepository
    files: MemoryTransferFileRepository
    items: MemoryMirroredItemRepository
    requests: MemoryForwardedRequestRepository
    events: MemoryEventRepository
    runs: MemoryRunRepository

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        await self._ledger.writer_lock.acquire()
        workspace = Workspace(self._ledger.state.snapshot())
        clock = self._ledger.clock
        self._workspace = workspace
        self.inbox = MemoryInboxRepository(workspace, clock)
        self.files = MemoryTransferFileRepository(workspace, clock)
        self.items = MemoryMirroredItemRepository(workspace, clock)
        self.requests = MemoryForwardedRequestRepository(workspace, clock)
        self.events = MemoryEventRepository(workspace, clock)
        self.runs = MemoryRunRepository(workspace, clock)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed, and release the writer lock."""
        self._workspace = None
        self._ledger.writer_lock.release()

    async def commit(self) -> None:
        """Make the work so far durable and visible; later work needs another commit."""
        workspace = self._require()
        self._ledger.state = workspace.state
        workspace.state = workspace.state.snapshot()

    async def rollback(self) -> None:
        """Discard the work since the last commit."""
        self._require().state = self._ledger.state.snapshot()

    def _require(self) -> Workspace:
        if self._workspace is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._workspace


class MemoryLedger:
    """Satisfies the Ledger port in memory; nothing survives the process."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.state = LedgerState()
        self.writer_lock = asyncio.Lock()
        self._tried: set[str] = set()

    def unit_of_work(self) -> MemoryUnitOfWork:
        """A new unit of work, to be entered with `async with`."""
        return MemoryUnitOfWork(self)

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Nothing to hold: a memory ledger has one process, whose own locks suffice."""
        return nullcontext()

    @asynccontextmanager
    async def lock_session(self) -> AsyncIterator[HeldLocks]:
        """Nothing to hold: a memory ledger has one process, whose own locks suffice."""
        yield NO_LOCKS

    def try_exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Hold `name` if no one in this process does (yields True), else yield False (B1)."""
        return self._tried_lock(name)

    @asynccontextmanager
    async def _tried_lock(self, name: str) -> AsyncIterator[bool]:
        if name in self._tried:
            yield False
            return
        self._tried.add(name)
        try:
            yield True
        finally:
            self._tried.discard(name)

    async def claim_inbox(
        self, owner: str, lease: timedelta, limit: int, *, waited: timedelta = timedelta(0)
    ) -> list[InboxMessage]:
        """Lease due pending and lease-expired messages to owner; two claims never overlap."""
        async with self.writer_lock:
            now = utc(self.clock.now(), "clock")
            state = self.state.snapshot()
            due = sorted(
                (message for message in state.inbox.values() if _claimable(message, now - waited)),
                key=lambda message: (message.available_at, message.id),
            )[: max(limit, 0)]
            claimed = [
                replace(
                    message,
                    status=InboxStatus.PROCESSING,
                    attempts=message.attempts + 1,
                    lock_owner=owner,
                    lease_until=now + lease,
                )
                for message in due
            ]
            state.inbox.update({message.id: message for message in claimed})
            self.state = state
        return claimed

    async def item_history(self, institution: str, barcode: str) -> ItemHistory:
        """A barcode's mirror row and its events in time order."""
        state = self.state
        return ItemHistory(
            item=state.items.get((institution, barcode)),
            events=tuple(
                _in_time_order(
                    event
                    for event in state.events
                    if event.institution == institution and event.barcode == barcode
                )
            ),
        )

    async def request_record(self, institution: str, request_id: str) -> RequestRecord:
        """A source request's forwarding row and its events in time order."""
        state = self.state
        return RequestRecord(
            request=state.requests.get((institution, request_id)),
            events=tuple(
                _in_time_order(
                    event
                    for event in state.events
                    if event.institution == institution and event.request_id == request_id
                )
            ),
        )

    async def events(
        self,
        *,
        institution: str | None = None,
        action: str | None = None,
        outcome: Outcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[LedgerEvent]:
        """Events matching every given filter, since inclusive and until exclusive."""
        since = None if since is None else utc(since, "since")
        until = None if until is None else utc(until, "until")
        matching = _in_time_order(
            event
            for event in self.state.events
            if (institution is None or event.institution == institution)
            and (action is None or event.action == action)
            and (outcome is None or event.outcome == outcome)
            and (since is None or event.occurred_at >= since)
            and (until is None or event.occurred_at < until)
        )
        if newest_first:
            matching.reverse()
        return matching[offset : offset + limit]

    async def inbox_depth(self) -> InboxDepth:
        """How many inbox messages are in each status."""
        counts = dict.fromkeys(InboxStatus, 0)
        for message in self.state.inbox.values():
            counts[message.status] += 1
        return InboxDepth(**{status.value: count for status, count in counts.items()})

    async def daily_counts(
        self, *, actions: Collection[str], since: datetime, outcome: Outcome | None = None
    ) -> list[DailyCount]:
        """Events of these actions since a time, counted per UTC day, institution and action."""
        since = utc(since, "since")
        wanted = set(actions)
        return count_per_day(
            (event.occurred_at, event.institution, event.action)
            for event in self.state.events
            if event.action in wanted
            and event.occurred_at >= since
            and (outcome is None or event.outcome == outcome)
        )

    async def check_ready(self) -> None:
        """An in-memory ledger has no schema to migrate: always ready."""

    async def close(self) -> None:
        """Nothing to release; the contents stay readable."""


def _claimable(message: InboxMessage, now: datetime) -> bool:
    if message.status is InboxStatus.PENDING:
        return message.available_at <= now
    if message.status is InboxStatus.PROCESSING:
        return message.lease_until is not None and message.lease_until <= now
    return False


def _in_time_order(events: Iterable[LedgerEvent]) -> list[LedgerEvent]:
    return sorted(events, key=lambda event: (event.occurred_at, event.id))


if TYPE_CHECKING:

    def _satisfies_the_port(ledger: MemoryLedger) -> Ledger:
        # mypy proves here that the adapter, its unit of work and repositories fit the ports.
        return ledger

    def _locks_workflows(ledger: MemoryLedger) -> WorkflowLock:
        return ledger
