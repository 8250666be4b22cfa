"""The append-only event log in memory (rule I13)."""

from __future__ import annotations

from adapters.ledger.memory.state import Workspace, json_copy, utc
from application.ports.clock import Clock
from application.shared.ledger_records import JsonObject, LedgerEvent, Outcome


class MemoryEventRepository:
    """The append-only event log in memory."""

    def __init__(self, workspace: Workspace, clock: Clock) -> None:
        self._workspace = workspace
        self._clock = clock

    async def append(
        self,
        action: str,
        outcome: Outcome,
        *,
        institution: str | None = None,
        barcode: str | None = None,
        request_id: str | None = None,
        message: str | None = None,
        file_id: int | None = None,
        inbox_id: int | None = None,
        details: JsonObject | None = None,
        error_code: str | None = None,
    ) -> LedgerEvent:
        """Append one event stamped with the clock's time."""
        state = self._workspace.state
        event = LedgerEvent(
            id=state.next_id("events"),
            occurred_at=utc(self._clock.now(), "clock"),
            institution=institution,
            barcode=barcode,
            request_id=request_id,
            action=action,
            outcome=Outcome(outcome),
            message=message,
            file_id=file_id,
            inbox_id=inbox_id,
            details=json_copy(details),
            error_code=error_code,
        )
        state.events.append(event)
        return event
