"""The append-only event log in memory (rule I13)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime

from adapters.ledger.daily import sorted_via_counts
from adapters.ledger.memory.state import Workspace, json_copy, utc
from application.ports.clock import Clock
from application.shared.ledger_records import JsonObject, LedgerEvent, Outcome, ViaCount


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

    async def purge_before(self, cutoff: datetime, *, limit: int) -> list[LedgerEvent]:
        """Remove up to `limit` of the oldest events before `cutoff`; the removed ones."""
        cutoff = utc(cutoff, "cutoff")
        state = self._workspace.state
        old = sorted(
            (event for event in state.events if event.occurred_at < cutoff),
            key=lambda event: event.id,
        )[: max(0, limit)]
        gone = {event.id for event in old}
        state.events[:] = [event for event in state.events if event.id not in gone]
        return old

    async def count_before(self, cutoff: datetime) -> int:
        """How many events occurred before `cutoff`."""
        cutoff = utc(cutoff, "cutoff")
        return sum(1 for event in self._workspace.state.events if event.occurred_at < cutoff)

    async def count_by_via(
        self,
        families: Mapping[str, Collection[str]],
        *,
        since: datetime,
        outcome: Outcome = Outcome.OK,
    ) -> list[ViaCount]:
        """Events of these families since a time, counted per institution, family and via."""
        since = utc(since, "since")
        family_of: dict[str, str] = {}
        for name, actions in families.items():
            for action in actions:
                family_of.setdefault(action, name)  # the first family, as SQL's CASE picks
        counts: Counter[tuple[str | None, str, str | None]] = Counter()
        for event in self._workspace.state.events:
            found = family_of.get(event.action)
            if found is None or event.occurred_at < since or event.outcome != outcome:
                continue
            via = event.details.get("via")
            counts[(event.institution, found, via if isinstance(via, str) else None)] += 1
        return sorted_via_counts(
            ViaCount(institution, family, via, count)
            for (institution, family, via), count in counts.items()
        )
