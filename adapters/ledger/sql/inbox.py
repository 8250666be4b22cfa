"""The webhook inbox in SQL: stored once per dedupe key (rule W3), leased, renewed, requeued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.ledger.sql import rows as sql_rows
from adapters.ledger.sql.support import require_aware, upsert_insert
from adapters.ledger.tables import inbox_messages
from application.ports.clock import Clock
from application.shared.ledger_records import (
    InboxAdded,
    InboxMessage,
    InboxStatus,
    LedgerRecordNotFound,
)

# A replay may revive these; a done message stays done and a processing one belongs to a worker.
_REQUEUEABLE = (InboxStatus.PENDING.value, InboxStatus.DEAD.value)


class SqlInboxRepository:
    """Inbox messages in SQL; dedupe by a unique key and INSERT … ON CONFLICT DO NOTHING."""

    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def add(self, dedupe_key: str, body: bytes, received_at: datetime) -> InboxAdded:
        """Store a message once per dedupe key; a duplicate returns the first row's id."""
        require_aware(received_at, "received_at")
        insert = upsert_insert(self._conn, inbox_messages)
        statement = (
            insert.values(
                dedupe_key=dedupe_key,
                received_at=received_at,
                body=body,
                status=InboxStatus.PENDING.value,
                attempts=0,
                available_at=received_at,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(inbox_messages.c.id)
        )
        new_id = (await self._conn.execute(statement)).scalar_one_or_none()
        if new_id is not None:
            return InboxAdded(new_id, True)
        existing = select(inbox_messages.c.id).where(inbox_messages.c.dedupe_key == dedupe_key)
        return InboxAdded((await self._conn.execute(existing)).scalar_one(), False)

    async def get(self, message_id: int) -> InboxMessage | None:
        """The message with this id, if any."""
        query = select(inbox_messages).where(inbox_messages.c.id == message_id)
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else sql_rows.inbox_message(row)

    async def mark_done(self, message_id: int) -> None:
        """Processing finished: the message is never claimed again."""
        await self._set(message_id, status=InboxStatus.DONE.value)

    async def mark_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """Processing failed: release the lease and make it claimable again at retry_at."""
        require_aware(retry_at, "retry_at")
        await self._set(
            message_id, status=InboxStatus.PENDING.value, last_error=error, available_at=retry_at
        )

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Give up on the message, keeping the last error for operators."""
        await self._set(message_id, status=InboxStatus.DEAD.value, last_error=error)

    async def extend_lease(
        self, message_id: int, owner: str, until: datetime, *, attempt: int | None = None
    ) -> bool:
        """Move the lease of a message still processing under owner; False when it is not."""
        require_aware(until, "until")
        statement = (
            update(inbox_messages)
            .where(
                inbox_messages.c.id == message_id,
                inbox_messages.c.status == InboxStatus.PROCESSING.value,
                inbox_messages.c.lock_owner == owner,
            )
            .values(lease_until=until)
            .returning(inbox_messages.c.id)
        )
        if attempt is not None:
            statement = statement.where(inbox_messages.c.attempts == attempt)
        # The UPDATE row-locks (PostgreSQL) or write-locks (SQLite) until the unit of work ends,
        # so a claimer cannot take the message between this check and what the caller writes.
        return (await self._conn.execute(statement)).scalar_one_or_none() is not None

    async def requeue(self, message_id: int) -> InboxMessage | None:
        """A dead or pending message back to pending, due now, with attempts reset."""
        statement = (
            update(inbox_messages)
            .where(
                inbox_messages.c.id == message_id,
                inbox_messages.c.status.in_(_REQUEUEABLE),
            )
            .values(
                status=InboxStatus.PENDING.value,
                attempts=0,
                available_at=self._clock.now(),
                lock_owner=None,
                lease_until=None,
            )
            .returning(*inbox_messages.c)
        )
        row = (await self._conn.execute(statement)).one_or_none()
        if row is not None:
            return sql_rows.inbox_message(row)
        if await self.get(message_id) is None:
            raise LedgerRecordNotFound(f"no inbox message with id {message_id}")
        return None

    async def list_by_status(self, status: InboxStatus, *, limit: int = 100) -> list[InboxMessage]:
        """Messages in one status, newest first."""
        query = (
            select(inbox_messages)
            .where(inbox_messages.c.status == InboxStatus(status).value)
            .order_by(inbox_messages.c.id.desc())
            .limit(limit)
        )
        return [sql_rows.inbox_message(row) for row in await self._conn.execute(query)]

    async def _set(self, message_id: int, **values: object) -> None:
        # Every end of an attempt gives the lease up, so the next claim need not wait for it.
        statement = (
            update(inbox_messages)
            .where(inbox_messages.c.id == message_id)
            .values(lock_owner=None, lease_until=None, **values)
            .returning(inbox_messages.c.id)
        )
        if (await self._conn.execute(statement)).scalar_one_or_none() is None:
            raise LedgerRecordNotFound(f"no inbox message with id {message_id}")
