"""The two jobs a member's `JOB_END` starts, as the worker and the CLI run them (W4, R7).

An items sync is followed by a retry of that institution's requests that were waiting for their
item to be mirrored (rule R7): the mirror they waited for may have just been created.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.scf.items.item_sync import ItemSync
from application.scf.items.item_sync_summary import ItemSyncSummary
from application.scf.requests.forwarding import RequestForwarding
from application.scf.requests.outcomes import ForwardingSummary


@dataclass(frozen=True)
class ItemsJobSummary:
    """What one items job did: the sync, then the waiting requests it released."""

    items: ItemSyncSummary
    waiting_requests: ForwardingSummary | None


class SyncJobs:
    """One `ItemSync` and one `RequestForwarding` per bridge, so their locks are shared."""

    def __init__(self, items: ItemSync, requests: RequestForwarding) -> None:
        self.items = items
        self.requests = requests

    async def items_job(self, institution: str, *, dry_run: bool = False) -> ItemsJobSummary:
        """Items sync (I1–I13), then forward or cancel requests waiting for a mirror (R7)."""
        items = await self.items.run(institution, dry_run=dry_run)
        if dry_run:
            return ItemsJobSummary(items, None)
        return ItemsJobSummary(items, await self.requests.retry_waiting(institution))

    async def requests_job(self, institution: str, *, dry_run: bool = False) -> ForwardingSummary:
        """Requests sync (R1–R8)."""
        return await self.requests.run(institution, dry_run=dry_run)
