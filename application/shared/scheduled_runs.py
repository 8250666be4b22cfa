"""Enqueue the scheduled runs that are due, once across every process on one ledger (rule B6).

Each due run becomes one inbox message keyed ``schedule:{workflow}:{due UTC}``. The inbox adds a
key once and answers a second ``add`` with the first row's id and ``is_new=False``, in the same
transaction as everything else here, so several service processes planning the same schedules on
one PostgreSQL ledger never start the same run twice: whoever commits first enqueues it, the
others find it there and add nothing.

A missed due time (B6: more than the grace late, or superseded by a later one) takes the same key
with a row marked done at once: it records the miss exactly once across processes, no worker ever
claims it, and no process can start that run later.

The planner's memory (up to when each workflow was planned) lives in this object and, across
restarts, in the ledger's events: at the first call it reads the latest ``schedule.*`` event of
each workflow, so a run missed while the service was down is still found when it comes back.
A workflow with no such event was never planned on this ledger: planning starts now.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from application.ports.clock import Clock
from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.shared.ledger_records import JsonObject, LedgerEvent, Outcome
from application.shared.schedules import (
    DEFAULT_SCHEDULE_GRACE,
    CronExpression,
    DueRun,
    MissedRun,
    SchedulePlan,
    plan_runs,
)

__all__ = [
    "MISSED",
    "PLANNING_STARTED",
    "RUN_ENQUEUED",
    "SCHEDULED_RUN",
    "EnqueueDueRuns",
    "EnqueueResult",
    "scheduled_run_body",
    "scheduled_run_from_body",
]

SCHEDULED_RUN: Final = "scheduled_run"
"""The ``kind`` of a scheduled run's inbox body."""

RUN_ENQUEUED: Final = "schedule.enqueued"
MISSED: Final = "schedule.missed"
PLANNING_STARTED: Final = "schedule.planning_started"
"""Ledger actions: a due run put in the inbox, a due time recorded missed, and the first look at
a workflow's schedule on this ledger (planning starts then)."""

_MEMORY_ACTIONS: Final = (RUN_ENQUEUED, MISSED, PLANNING_STARTED)


def scheduled_run_body(run: DueRun | MissedRun) -> bytes:
    """The inbox body of a scheduled run (or of a missed one's record), as compact JSON."""
    body: dict[str, str] = {
        "kind": SCHEDULED_RUN,
        "workflow": run.workflow,
        "due": run.due.isoformat(),
        "trigger": "schedule",
    }
    if isinstance(run, MissedRun):
        body["missed"] = run.reason
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def scheduled_run_from_body(body: bytes) -> DueRun | None:
    """The run an inbox body asks for, or None when it is not a (still runnable) scheduled run.

    For the worker that drains the inbox: a body of kind ``scheduled_run`` is not a webhook.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("kind") != SCHEDULED_RUN:
        return None
    workflow, due = document.get("workflow"), document.get("due")
    if "missed" in document or not isinstance(workflow, str) or not isinstance(due, str):
        return None
    try:
        moment = datetime.fromisoformat(due)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return DueRun(workflow, moment)


@dataclass(frozen=True)
class EnqueueResult:
    """What one call did: runs newly enqueued, runs another process had already enqueued, and
    due times newly recorded missed."""

    enqueued: tuple[DueRun, ...]
    already_enqueued: tuple[DueRun, ...]
    missed: tuple[MissedRun, ...]
    planned_until: datetime


class EnqueueDueRuns:
    """Plan the schedules up to the clock's now and put every due run in the inbox (B6).

    Call it periodically (every 30 s is plenty: a run starts at most that late); the inbox's
    workers drain the messages.
    """

    def __init__(
        self,
        ledger: Ledger,
        clock: Clock,
        schedules: Mapping[str, CronExpression],
        *,
        grace: timedelta = DEFAULT_SCHEDULE_GRACE,
        history_limit: int = 1000,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._schedules = dict(schedules)
        self._grace = grace
        # How far back the events are read for the planner's memory at the first call.
        self._history_limit = history_limit
        self._last_planned: dict[str, datetime | None] | None = None

    async def __call__(self) -> EnqueueResult:
        """Enqueue what is due now, record what was missed; one transaction."""
        now = self._clock.now()
        if self._last_planned is None:
            self._last_planned = await self._remembered()
        plan = plan_runs(self._schedules, self._last_planned, now, self._grace)
        fresh = sorted(name for name in self._schedules if self._last_planned.get(name) is None)
        async with self._ledger.unit_of_work() as uow:
            result = await self._record(uow, plan, fresh)
            await uow.commit()
        # Only once committed: a failed transaction leaves the memory where it was, so the next
        # call plans the same due times again (the keys make that harmless).
        self._last_planned = dict.fromkeys(self._schedules, plan.planned_until)
        return result

    @staticmethod
    async def _record(uow: LedgerUnitOfWork, plan: SchedulePlan, fresh: list[str]) -> EnqueueResult:
        now = plan.planned_until
        enqueued: list[DueRun] = []
        already: list[DueRun] = []
        newly_missed: list[MissedRun] = []
        for workflow in fresh:
            # Remembered at the next start: due times after this one were planned, or missed.
            await uow.events.append(
                PLANNING_STARTED,
                Outcome.OK,
                message=f"schedule of {workflow} planned from {now.isoformat()} on",
                details=_details(workflow, now),
            )
        for missed_run in plan.missed:
            added = await uow.inbox.add(missed_run.key, scheduled_run_body(missed_run), now)
            if not added.is_new:
                continue
            await uow.inbox.mark_done(added.id)
            await uow.events.append(
                MISSED,
                Outcome.SKIPPED,
                message=f"{missed_run.workflow} due at {missed_run.due.isoformat()} missed: "
                f"{missed_run.reason}",
                inbox_id=added.id,
                details=_details(missed_run.workflow, missed_run.due),
            )
            newly_missed.append(missed_run)
        for workflow, count in sorted(plan.missed_unlisted.items()):
            await uow.events.append(
                MISSED,
                Outcome.SKIPPED,
                message=f"{count} more due times of {workflow} missed before the ones listed",
                details={"workflow": workflow, "count": count},
            )
        for run in plan.due:
            added = await uow.inbox.add(run.key, scheduled_run_body(run), now)
            if not added.is_new:
                already.append(run)
                continue
            await uow.events.append(
                RUN_ENQUEUED,
                Outcome.OK,
                message=f"{run.workflow} due at {run.due.isoformat()} enqueued",
                inbox_id=added.id,
                details=_details(run.workflow, run.due),
            )
            enqueued.append(run)
        return EnqueueResult(tuple(enqueued), tuple(already), tuple(newly_missed), now)

    async def _remembered(self) -> dict[str, datetime | None]:
        """Per workflow, the latest due time (or planning start) the events hold; else None."""
        latest: dict[str, datetime | None] = dict.fromkeys(self._schedules)
        for action in _MEMORY_ACTIONS:
            events = await self._ledger.events(
                action=action, newest_first=True, limit=self._history_limit
            )
            for event in events:
                found = _remembered_due(event)
                if found is None or found[0] not in latest:
                    continue
                workflow, moment = found
                known = latest[workflow]
                if known is None or moment > known:
                    latest[workflow] = moment
        return latest


def _details(workflow: str, moment: datetime) -> JsonObject:
    return {"workflow": workflow, "due": moment.isoformat()}


def _remembered_due(event: LedgerEvent) -> tuple[str, datetime] | None:
    workflow, due = event.details.get("workflow"), event.details.get("due")
    if not isinstance(workflow, str) or not isinstance(due, str):
        return None
    try:
        moment = datetime.fromisoformat(due)
    except ValueError:
        return None
    return (workflow, moment) if moment.tzinfo is not None else None
