"""The webhook inbox in memory, deduplicated by key (rule W3), leased, renewed, requeued."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from adapters.ledger.memory.state import Workspace, utc
from application.ports.clock import Clock
from application.shared.ledger_records import (
    InboxAdded,
    InboxMessage,
    InboxStatus,
    LedgerRecordNotFound,
)

# A replay may revive these; a done message stays done and a processing one belongs to a worker.
_REQUEUEABLE = frozenset({InboxStatus.PENDING, InboxStatus.DEAD})


class MemoryInboxRepository:
    """Inbox messages in memory, deduplicated by key."""

    def __init__(self, workspace: Workspace, clock: Clock) -> None:
        self._workspace = workspace
        self._clock = clock

    async def add(self, dedupe_key: str, body: bytes, received_at: datetime) -> InboxAdded:
        """Store a message once per dedupe key; a duplicate returns the first row's id."""
        received_at = utc(received_at, "received_at")
        state = self._workspace.state
        if dedupe_key in state.inbox_keys:
            return InboxAdded(state.inbox_keys[dedupe_key], False)
        message_id = state.next_id("inbox")
        state.inbox[message_id] = InboxMessage(
            id=message_id,
            dedupe_key=dedupe_key,
            received_at=received_at,
            body=bytes(body),
            status=InboxStatus.PENDING,
            attempts=0,
            last_error=None,
            available_at=received_at,
            lock_owner=None,
            lease_until=None,
        )
        state.inbox_keys[dedupe_key] = message_id
        return InboxAdded(message_id, True)

    async def get(self, message_id: int) -> InboxMessage | None:
        """The message with this id, if any."""
        return self._workspace.state.inbox.get(message_id)

    async def mark_done(self, message_id: int) -> None:
        """Processing finished: the message is never claimed again."""
        self._set(message_id, status=InboxStatus.DONE)

    async def mark_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """Processing failed: release the lease and make it claimable again at retry_at."""
        retry_at = utc(retry_at, "retry_at")
        self._set(message_id, status=InboxStatus.PENDING, last_error=error, available_at=retry_at)

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Give up on the message, keeping the last error for operators."""
        self._set(message_id, status=InboxStatus.DEAD, last_error=error)

    async def extend_lease(
        self, message_id: int, owner: str, until: datetime, *, attempt: int | None = None
    ) -> bool:
        """Move the lease of a message still processing under owner; False when it is not."""
        until = utc(until, "until")
        inbox = self._workspace.state.inbox
        message = inbox.get(message_id)
        if (
            message is None
            or message.status is not InboxStatus.PROCESSING
            or message.lock_owner != owner
            or (attempt is not None and message.attempts != attempt)
        ):
            return False
        inbox[message_id] = replace(message, lease_until=until)
        return True

    async def requeue(self, message_id: int) -> InboxMessage | None:
        """A dead or pending message back to pending, due now, with attempts reset."""
        inbox = self._workspace.state.inbox
        message = inbox.get(message_id)
        if message is None:
            raise LedgerRecordNotFound(f"no inbox message with id {message_id}")
        if message.status not in _REQUEUEABLE:
            return None
        requeued = replace(
            message,
            status=InboxStatus.PENDING,
            attempts=0,
            available_at=utc(self._clock.now(), "clock"),
            lock_owner=None,
            lease_until=None,
        )
        inbox[message_id] = requeued
        return requeued

    async def list_by_status(self, status: InboxStatus, *, limit: int = 100) -> list[InboxMessage]:
        """Messages in one status, newest first."""
        wanted = InboxStatus(status)
        inbox = self._workspace.state.inbox
        matching = [inbox[i] for i in sorted(inbox, reverse=True) if inbox[i].status is wanted]
        return matching[:limit]

    def _set(self, message_id: int, **values: Any) -> None:
        inbox = self._workspace.state.inbox
        if message_id not in inbox:
            raise LedgerRecordNotFound(f"no inbox message with id {message_id}")
        inbox[message_id] = replace(inbox[message_id], lock_owner=None, lease_until=None, **values)
