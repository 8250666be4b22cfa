"""The `ledger-retention` run: ledger events older than `retention_days` are removed (rule P2).

Events are the audit log of what the bridge did; after `ledger_retention_days` (default 400)
they go, so that the ledger does not keep what it no longer needs. Only events: what a rule still
needs stays, the mirrors (`mirrored_items`, rules I6–I12, R7) and the forwarded requests with
their ids (`forwarded_requests`, rules R6, C2), as do the claimed files, the inbox and the batch
runs (this one's records included).

Events are removed oldest first in batches of `batch` (one committed delete each), and each batch
is one run record keyed by the range of event ids it removed (B1): a run killed between batches
keeps what it removed, and a resume removes the rest (B5). With `--dry-run` nothing is removed:
one skipped record says how many events would be.
"""

from __future__ import annotations

from datetime import timedelta

from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunContext
from application.shared.run_records import RecordOutcome
from application.shared.workflow_settings import DEFAULT_LEDGER_RETENTION_DAYS

__all__ = ["DEFAULT_LEDGER_RETENTION_DAYS", "LEDGER_RETENTION", "LedgerRetention"]

LEDGER_RETENTION = "ledger-retention"
"""The workflow's name, as `almabridge run ledger-retention` takes it."""

EVENTS = "events"
"""The kind of the run's records: one per batch of removed events."""

BATCH = 1000
"""Events removed per committed delete."""


class LedgerRetention:
    """Removes ledger events older than `retention_days` (rule P2)."""

    name = LEDGER_RETENTION

    def __init__(
        self, retention_days: int = DEFAULT_LEDGER_RETENTION_DAYS, *, batch: int = BATCH
    ) -> None:
        if retention_days < 1:
            raise ValueError(f"retention_days must be 1 or more, got {retention_days}")
        if batch < 1:
            raise ValueError(f"batch must be 1 or more, got {batch}")
        self._days = retention_days
        self._batch = batch

    async def run(self, context: RunContext) -> None:
        """Remove (or, in a dry run, count) every event older than `retention_days`."""
        cutoff = context.now() - timedelta(days=self._days)
        ledger = context.ledger
        limit: dict[str, JsonValue] = {"cutoff": cutoff.isoformat(), "retention_days": self._days}
        if context.dry_run:
            async with ledger.unit_of_work() as uow:
                count = await uow.events.count_before(cutoff)
            reason = f"dry run: would remove {count} events older than {self._days} days"
            key = f"before {cutoff.isoformat()}"
            await context.record(
                EVENTS, key, RecordOutcome.SKIPPED, reason, {**limit, "count": count}
            )
            return
        context.progress(f"removing events older than {self._days} days (before {cutoff:%Y-%m-%d})")
        removed = 0
        while True:
            async with ledger.unit_of_work() as uow:
                gone = await uow.events.purge_before(cutoff, limit=self._batch)
                await uow.commit()
            if not gone:
                break
            removed += len(gone)
            first, last = gone[0], gone[-1]
            detail: dict[str, JsonValue] = {
                **limit,
                "count": len(gone),
                "first_id": first.id,
                "last_id": last.id,
                "oldest": first.occurred_at.isoformat(),
            }
            reason = f"removed {len(gone)} events older than {self._days} days"
            await context.record(EVENTS, f"{first.id}-{last.id}", RecordOutcome.OK, reason, detail)
            if len(gone) < self._batch:
                break
        if removed == 0:
            reason = f"no events older than {self._days} days"
            key = f"before {cutoff.isoformat()}"
            await context.record(EVENTS, key, RecordOutcome.SKIPPED, reason, {**limit, "count": 0})
