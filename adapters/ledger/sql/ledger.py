"""The SQL ledger: units of work, the inbox claim and audit queries over SQLAlchemy async."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.ledger.daily import count_per_day
from adapters.ledger.engine import READ_ONLY, create_ledger_engine
from adapters.ledger.migrate import head_revision, revision_of_connection
from adapters.ledger.sql import rows as sql_rows
from adapters.ledger.sql.events import SqlEventRepository
from adapters.ledger.sql.files import SqlTransferFileRepository
from adapters.ledger.sql.inbox import SqlInboxRepository
from adapters.ledger.sql.items import SqlMirroredItemRepository
from adapters.ledger.sql.locks import held, lock_session
from adapters.ledger.sql.requests import SqlForwardedRequestRepository
from adapters.ledger.sql.runs import SqlRunRepository
from adapters.ledger.sql.support import require_aware
from adapters.ledger.sql.try_locks import tried
from adapters.ledger.tables import events, forwarded_requests, inbox_messages, mirrored_items
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
    LedgerNotMigrated,
    Outcome,
    RequestRecord,
)


class SqlUnitOfWork:
    """One transaction on its own connection; on SQLite it holds the write lock from BEGIN."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._conn: AsyncConnection | None = None

    # The repositories exist once the unit of work is entered.
    inbox: SqlInboxRepository
    files: SqlTransferFileRepository
    items: SqlMirroredItemRepository
    requests: SqlForwardedRequestRepository
    events: SqlEventRepository
    runs: SqlRunRepository

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        self._conn = await self._engine.connect()
        try:
            await self._conn.begin()
        except BaseException:
            await self._conn.close()
            raise
        self.inbox = SqlInboxRepository(self._conn, self._clock)
        self.files = SqlTransferFileRepository(self._conn, self._clock)
        self.items = SqlMirroredItemRepository(self._conn, self._clock)
        self.requests = SqlForwardedRequestRepository(self._conn, self._clock)
        self.events = SqlEventRepository(self._conn, self._clock)
        self.runs = SqlRunRepository(self._conn, self._clock)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed, and release the connection."""
        conn, self._conn = self._require(), None
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    async def commit(self) -> None:
        """Make the work so far durable and visible; later work needs another commit."""
        await self._require().commit()

    async def rollback(self) -> None:
        """Discard the work since the last commit."""
        await self._require().rollback()

    def _require(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is used outside its `async with` block")
        return self._conn


class SqlLedger:
    """Satisfies the Ledger port on SQLite or PostgreSQL."""

    def __init__(self, engine: AsyncEngine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._tried: set[str] = set()

    @classmethod
    def from_url(cls, url: str | None, clock: Clock) -> SqlLedger:
        """A ledger on a configured URL (ALMABRIDGE_DATABASE_URL forms; None = default file)."""
        return cls(create_ledger_engine(url), clock)

    @property
    def engine(self) -> AsyncEngine:
        """The engine, for health checks and tests."""
        return self._engine

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Held by one process sharing this ledger at a time (PostgreSQL advisory lock)."""
        return held(self._engine, name)

    def lock_session(self) -> AbstractAsyncContextManager[HeldLocks]:
        """Advisory locks on one connection for a piece of work (`locks.lock_session`)."""
        return lock_session(self._engine)

    def try_exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Hold `name` if no one else does (yields True), else yield False at once (B1)."""
        return tried(self._engine, name, self._tried)

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work, to be entered with `async with`."""
        return SqlUnitOfWork(self._engine, self._clock)

    async def claim_inbox(
        self, owner: str, lease: timedelta, limit: int, *, waited: timedelta = timedelta(0)
    ) -> list[InboxMessage]:
        """Lease due pending and lease-expired messages to owner; two claims never overlap."""
        now = self._clock.now()
        due_by = now - waited
        due = or_(
            and_(
                inbox_messages.c.status == InboxStatus.PENDING.value,
                inbox_messages.c.available_at <= due_by,
            ),
            and_(
                inbox_messages.c.status == InboxStatus.PROCESSING.value,
                inbox_messages.c.lease_until <= due_by,
            ),
        )
        # PostgreSQL: rows another claimer has locked are skipped, not waited for. SQLite drops
        # the clause; BEGIN IMMEDIATE already serialises claimers there.
        candidates = (
            select(inbox_messages.c.id)
            .where(due)
            .order_by(inbox_messages.c.available_at, inbox_messages.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._engine.begin() as conn:
            # Two statements, not UPDATE … WHERE id IN (SELECT … LIMIT): a planner may rescan
            # such a subquery and lease more than `limit` rows. The SELECT locks them here.
            ids = list((await conn.execute(candidates)).scalars())
            if not ids:
                return []
            statement = (
                update(inbox_messages)
                .where(inbox_messages.c.id.in_(ids))
                .values(
                    status=InboxStatus.PROCESSING.value,
                    attempts=inbox_messages.c.attempts + 1,
                    lock_owner=owner,
                    lease_until=now + lease,
                )
                .returning(*inbox_messages.c)
            )
            rows = (await conn.execute(statement)).all()
        claimed = [sql_rows.inbox_message(row) for row in rows]
        # RETURNING gives no order; callers get the oldest due message first.
        return sorted(claimed, key=lambda message: (message.available_at, message.id))

    async def item_history(self, institution: str, barcode: str) -> ItemHistory:
        """A barcode's mirror row and its events in time order."""
        item_query = select(mirrored_items).where(
            mirrored_items.c.institution == institution, mirrored_items.c.barcode == barcode
        )
        event_query = (
            select(events)
            .where(events.c.institution == institution, events.c.barcode == barcode)
            .order_by(events.c.occurred_at, events.c.id)
        )
        async with self._reading() as conn:
            item_row = (await conn.execute(item_query)).one_or_none()
            event_rows = (await conn.execute(event_query)).all()
        return ItemHistory(
            item=None if item_row is None else sql_rows.mirrored_item(item_row),
            events=tuple(sql_rows.ledger_event(row) for row in event_rows),
        )

    async def request_record(self, institution: str, request_id: str) -> RequestRecord:
        """A source request's forwarding row and its events in time order."""
        request_query = select(forwarded_requests).where(
            forwarded_requests.c.source_institution == institution,
            forwarded_requests.c.source_request_id == request_id,
        )
        event_query = (
            select(events)
            .where(events.c.institution == institution, events.c.request_id == request_id)
            .order_by(events.c.occurred_at, events.c.id)
        )
        async with self._reading() as conn:
            request_row = (await conn.execute(request_query)).one_or_none()
            event_rows = (await conn.execute(event_query)).all()
        return RequestRecord(
            request=None if request_row is None else sql_rows.forwarded_request(request_row),
            events=tuple(sql_rows.ledger_event(row) for row in event_rows),
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
        query = select(events)
        if institution is not None:
            query = query.where(events.c.institution == institution)
        if action is not None:
            query = query.where(events.c.action == action)
        if outcome is not None:
            query = query.where(events.c.outcome == Outcome(outcome).value)
        if since is not None:
            require_aware(since, "since")
            query = query.where(events.c.occurred_at >= since)
        if until is not None:
            require_aware(until, "until")
            query = query.where(events.c.occurred_at < until)
        order = (events.c.occurred_at, events.c.id)
        query = query.order_by(*(column.desc() for column in order) if newest_first else order)
        query = query.limit(limit).offset(offset)
        async with self._reading() as conn:
            rows = (await conn.execute(query)).all()
        return [sql_rows.ledger_event(row) for row in rows]

    async def inbox_depth(self) -> InboxDepth:
        """How many inbox messages are in each status."""
        query = select(inbox_messages.c.status, func.count()).group_by(inbox_messages.c.status)
        async with self._reading() as conn:
            counts = {status: count for status, count in (await conn.execute(query)).all()}
        return InboxDepth(**{status.value: counts.get(status.value, 0) for status in InboxStatus})

    async def daily_counts(
        self, *, actions: Collection[str], since: datetime, outcome: Outcome | None = None
    ) -> list[DailyCount]:
        """Events of these actions since a time, counted per UTC day, institution and action."""
        require_aware(since, "since")
        # Days are bucketed here, not in SQL: SQLite and PostgreSQL truncate dates differently
        # and three narrow columns of a month of events are cheap to read.
        query = select(events.c.occurred_at, events.c.institution, events.c.action).where(
            events.c.action.in_(list(actions)), events.c.occurred_at >= since
        )
        if outcome is not None:
            query = query.where(events.c.outcome == Outcome(outcome).value)
        async with self._reading() as conn:
            rows = (await conn.execute(query)).all()
        return count_per_day((at, institution, action) for at, institution, action in rows)

    async def check_ready(self) -> None:
        """Raise LedgerNotMigrated unless the schema is at this almabridge's head revision."""
        head = await head_revision()
        # An unreachable database raises the driver's error: that is not a migration matter.
        async with self._reading() as conn:
            current = await revision_of_connection(conn)
        if current is None:
            raise LedgerNotMigrated("the ledger database has no almabridge schema")
        if current != head:
            raise LedgerNotMigrated(
                f"the ledger database is at revision {current}, this almabridge needs {head}"
            )

    async def close(self) -> None:
        """Release connections; the ledger is not used afterwards."""
        await self._engine.dispose()

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction: on SQLite a WAL snapshot that never waits for writers."""
        async with self._engine.connect() as conn:
            await conn.execution_options(**{READ_ONLY: True})
            async with conn.begin():
                yield conn


if TYPE_CHECKING:

    def _satisfies_the_port(ledger: SqlLedger) -> Ledger:
        # mypy proves here that the adapter, its unit of work and repositories fit the ports.
        return ledger

    def _locks_workflows(ledger: SqlLedger) -> WorkflowLock:
        return ledger
