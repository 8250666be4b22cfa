"""The two jobs a member's `JOB_END` starts, as the worker and the CLI run them (W4, R7).

Each sync runs through the `JobRunner` (`sync_runs`), so it is a run with its records. An items
sync is followed by a retry of that institution's requests that were waiting for their item to
be mirrored (rule R7): the mirror they waited for may have just been created.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from application.scf.items.item_sync import ItemSync
from application.scf.items.item_sync_summary import ItemSyncSummary
from application.scf.members import member_code
from application.scf.requests.forwarding import RequestForwarding
from application.scf.requests.outcomes import ForwardingSummary
from application.scf.settings import Settings
from application.scf.sync_runs import ItemsSyncRun, RequestsSyncRun
from application.shared.run_context import Workflow
from application.shared.run_records import RunTrigger
from application.shared.runs import JobRunner, LockPolicy, RunCrashed


@dataclass(frozen=True)
class ItemsJobSummary:
    """What one items job did: the sync, then the waiting requests it released."""

    items: ItemSyncSummary
    waiting_requests: ForwardingSummary | None


@dataclass(frozen=True)
class SyncJobs:
    """One `ItemSync` and one `RequestForwarding` per bridge, so their locks are shared; the
    runner records each sync as a run, its output folder under `runs_dir`."""

    items: ItemSync
    requests: RequestForwarding
    runner: JobRunner
    settings: Settings
    runs_dir: Path

    async def items_job(
        self,
        institution: str,
        *,
        dry_run: bool = False,
        trigger: RunTrigger = RunTrigger.WEBHOOK,
    ) -> ItemsJobSummary:
        """Items sync (I1–I13), then forward or cancel requests waiting for a mirror (R7)."""
        sync = ItemsSyncRun(self.items, institution)
        await self._run(sync, institution, dry_run, trigger)
        assert sync.summary is not None
        if dry_run:
            return ItemsJobSummary(sync.summary, None)
        return ItemsJobSummary(sync.summary, await self.requests.retry_waiting(institution))

    async def requests_job(
        self,
        institution: str,
        *,
        dry_run: bool = False,
        trigger: RunTrigger = RunTrigger.WEBHOOK,
    ) -> ForwardingSummary:
        """Requests sync (R1–R8)."""
        sync = RequestsSyncRun(self.requests, institution)
        await self._run(sync, institution, dry_run, trigger)
        assert sync.summary is not None
        return sync.summary

    async def _run(
        self, sync: Workflow, institution: str, dry_run: bool, trigger: RunTrigger
    ) -> None:
        code = member_code(self.settings.consortium, institution)
        try:
            await self.runner.run(
                sync,
                out_dir=self.runs_dir / sync.name / code,
                options={"institution": code},
                dry_run=dry_run,
                trigger=trigger,
                lock=LockPolicy.WORKFLOW_HOLDS_ITS_OWN,
            )
        except RunCrashed as crashed:
            # The run is recorded failed; the worker's retries and the command's message act on
            # the sync's own error, as they did before the runner.
            raise crashed.__cause__ or crashed from None
