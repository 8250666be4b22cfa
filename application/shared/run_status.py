"""The last run of each batch workflow, as the staff page and the audit API show it (rule B1).

`workflow_runs` reads the ledger once (one unit of work through the `uow.runs` port) and returns
a frozen `WorkflowRunsView`: one row per workflow name it is given, in that order, with the
workflow's newest run (or none yet), its counts, its first failed records (key and reason), and
when it is next due. The schedule is not read here: the caller passes `next_due`, a pure function
of the workflow's name (the cron planner's answer, or None for a workflow run by hand only).

A run that is still open, or whose process was killed, has status `running` (B1) and is shown so:
nothing here guesses that a long run has died.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from application.ports.ledger import Ledger
from application.shared.run_records import JobRun, RunCounts, RunRecord, RunStatus

__all__ = [
    "FIRST_FAILURES",
    "NextDue",
    "RunFailure",
    "WorkflowRun",
    "WorkflowRunsView",
    "no_schedule",
    "workflow_runs",
]

FIRST_FAILURES = 5
"""Failed records listed per workflow; the counts say how many there were in all."""
REASON_LIMIT = 1000
"""A reason is cut here: the page is for reading, `almabridge runs show ID` has the rest."""

NextDue = Callable[[str], datetime | None]
"""When a workflow (by name) is next due, None when it has no schedule."""


def no_schedule(_workflow: str) -> datetime | None:
    """The `NextDue` of a service that schedules nothing."""
    return None


@dataclass(frozen=True)
class RunFailure:
    """One failed record of a run: what it was (kind and key, e.g. `mms_id` 991234) and why."""

    kind: str
    key: str
    reason: str
    recorded_at: datetime


@dataclass(frozen=True)
class WorkflowRun:
    """One workflow's row: its newest run (None before the first), first failures, next due."""

    workflow: str
    last_run: JobRun | None
    failures: tuple[RunFailure, ...]
    next_due: datetime | None

    @property
    def status(self) -> RunStatus | None:
        """The last run's status (`running` while open or after a kill), None without a run."""
        return None if self.last_run is None else self.last_run.status

    @property
    def counts(self) -> RunCounts:
        """The last run's records ok, skipped and failed (zeros without a run)."""
        return RunCounts() if self.last_run is None else self.last_run.counts

    @property
    def more_failures(self) -> bool:
        """Whether the run failed more records than are listed."""
        return self.counts.failed > len(self.failures)


@dataclass(frozen=True)
class WorkflowRunsView:
    """The last run of every known workflow, in the order the names were given (rule B1)."""

    workflows: tuple[WorkflowRun, ...]

    def of(self, workflow: str) -> WorkflowRun | None:
        """The row of one workflow, None when it is not a known one."""
        return next((row for row in self.workflows if row.workflow == workflow), None)


async def workflow_runs(
    ledger: Ledger,
    workflows: Iterable[str],
    next_due: NextDue | None = None,
    *,
    failure_limit: int = FIRST_FAILURES,
) -> WorkflowRunsView:
    """Each named workflow's last run, its first `failure_limit` failures and next due (B1).

    A name given twice is shown once. `next_due` must not raise: it is called once per name.
    """
    names = list(dict.fromkeys(workflows))
    due = next_due or no_schedule
    rows: list[WorkflowRun] = []
    async with ledger.unit_of_work() as uow:
        for name in names:
            newest = await uow.runs.list_runs(workflow=name, limit=1)
            run = newest[0] if newest else None
            failures: tuple[RunFailure, ...] = ()
            if run is not None and run.counts.failed and failure_limit > 0:
                detail = await uow.runs.run_with_failures(run.id, limit=failure_limit)
                if detail is not None:
                    # Read in one transaction with the row, so the counts and failures agree.
                    run = detail.run
                    failures = tuple(_failure(record) for record in detail.failures)
            rows.append(WorkflowRun(name, run, failures, due(name)))
    return WorkflowRunsView(tuple(rows))


def _failure(record: RunRecord) -> RunFailure:
    reason = record.reason
    if len(reason) > REASON_LIMIT:
        reason = reason[: REASON_LIMIT - 1] + "…"
    return RunFailure(record.kind, record.key, reason, record.recorded_at)
