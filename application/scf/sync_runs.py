"""The two SCF syncs as `JobRunner` workflows (rules B1, I13, R8; ADR 0010).

Each items or requests sync of a member is a run in `job_runs`, `scf-items-sync` or
`scf-requests-sync` with the institution among its options; every item, publishing file and
request it handled is a run record with its outcome. So `almabridge runs`, `runs show ID`, the
audit API and `/status` tell an SCF sync the way they tell every batch workflow.

The syncs keep their own resumption (claimed files stay unfinished, I1 and R1) and their own
per-institution lock, which the items sync shares with reconciliation: the runner defers to it
(`LockPolicy.WORKFLOW_HOLDS_ITS_OWN`). A sync stopped early (the daily quota) ends its run
`failed` with the reason; the files resume with the next sync.
"""

from __future__ import annotations

from application.scf.items.item_sync import ItemSync
from application.scf.items.item_sync_summary import ItemSyncSummary
from application.scf.requests.forwarding import RequestForwarding
from application.scf.requests.outcomes import Action, ForwardingSummary
from application.shared.run_context import RunContext
from application.shared.run_errors import RunFailed
from application.shared.run_records import RecordOutcome

__all__ = [
    "ITEMS_SYNC",
    "REQUESTS_SYNC",
    "REQUEST_RECORD",
    "ItemsSyncRun",
    "RequestsSyncRun",
]

ITEMS_SYNC = "scf-items-sync"
"""The workflow name of a member's items sync (I1–I13)."""
REQUESTS_SYNC = "scf-requests-sync"
"""The workflow name of a member's requests sync (R1–R8)."""
REQUEST_RECORD = "request"
"""The run record of one member request, keyed by its request id (B1)."""

_REQUEST_OUTCOMES = {
    Action.FORWARDED: RecordOutcome.OK,
    Action.CANCELLED: RecordOutcome.OK,
    Action.WOULD_FORWARD: RecordOutcome.OK,
    Action.WOULD_CANCEL: RecordOutcome.OK,
    Action.WAITING: RecordOutcome.SKIPPED,
    Action.WOULD_WAIT: RecordOutcome.SKIPPED,
    Action.ALREADY_HANDLED: RecordOutcome.SKIPPED,
    Action.FAILED: RecordOutcome.FAILED,
}
"""A request's outcome as its run record's: waiting for a mirror (R7) or already handled (R6)
is skipped on purpose, not a failure (B2)."""


class ItemsSyncRun:
    """One items sync of one member, run by the `JobRunner`; `summary` once it has run."""

    name = ITEMS_SYNC

    def __init__(self, items: ItemSync, institution: str) -> None:
        self._items = items
        self._institution = institution
        self.summary: ItemSyncSummary | None = None

    async def run(self, context: RunContext) -> None:
        """The sync itself, recording each item and file (B1); a stop ends the run failed."""
        self.summary = await self._items.run(
            self._institution, dry_run=context.dry_run, records=context
        )
        if self.summary.stopped:
            raise RunFailed(f"stopped, files resume next time: {self.summary.stopped}")


class RequestsSyncRun:
    """One requests sync of one member, run by the `JobRunner`; `summary` once it has run."""

    name = REQUESTS_SYNC

    def __init__(self, requests: RequestForwarding, institution: str) -> None:
        self._requests = requests
        self._institution = institution
        self.summary: ForwardingSummary | None = None

    async def run(self, context: RunContext) -> None:
        """The sync, then one record per request it settled or tried (B1)."""
        # A requests file holds a few hundred requests at most; they are recorded once the file
        # work is over, since the sync's own ledger rows already make each one resumable (R6).
        self.summary = await self._requests.run(self._institution, dry_run=context.dry_run)
        for outcome in self.summary.outcomes:
            await context.record(
                REQUEST_RECORD,
                outcome.request_id,
                _REQUEST_OUTCOMES[outcome.action],
                f"{outcome.action.value}: {outcome.reason}",
            )
        if self.summary.stopped:
            raise RunFailed(f"stopped, files resume next time: {self.summary.stopped}")
