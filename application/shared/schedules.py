"""Which scheduled runs are due, and which were missed (rule B6); pure planning, no I/O.

A schedule is a cron expression behind the narrow :class:`CronExpression` protocol (the cronsim
adapter is ``adapters.workflow_config.cron``), evaluated in the machine's local time (B3) by the
adapter. Planning itself compares instants only in UTC: on the night clocks go back, the local
01:30 happens twice, and aware datetimes that share a ``tzinfo`` compare and subtract by their
wall-clock reading (Python ignores ``fold`` there), which would order, dedupe and measure lateness
wrongly. Every :class:`DueRun` therefore carries its due time in UTC, and its inbox key is made
from that, so all processes agree on it whatever their local zone.

The rules, per workflow, for the due times in ``(last_planned, now]``:

* the latest one that is at most ``grace`` late (default 6 h) is due: it starts once, even when
  the service was down at its time;
* every earlier one is missed: older than the grace, or superseded by that later run (a service
  back after five hours starts an hourly job once, not five times);
* with no ``last_planned`` (this ledger never planned the workflow), nothing in the past is due:
  planning starts now, so a first deployment never re-runs what the old cron already did.

A due time is never planned twice by one planner, because the next call starts after ``now``;
across processes the inbox's unique key does the rest (``application.shared.scheduled_runs``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from application.shared.workflow_settings import DEFAULT_SCHEDULE_GRACE

__all__ = [
    "DEFAULT_SCHEDULE_GRACE",
    "MAX_MISSED_LISTED",
    "CronExpression",
    "DueRun",
    "MissedRun",
    "SchedulePlan",
    "due_runs",
    "missed",
    "plan_runs",
    "schedule_key",
]

MAX_MISSED_LISTED: Final = 100
"""Missed due times listed per workflow and plan, the most recent ones; older ones are counted.

A per-minute schedule and a service down for a week would otherwise list ten thousand."""


class CronExpression(Protocol):
    """A schedule: the first due time strictly after a moment."""

    def next_after(self, moment: datetime) -> datetime:
        """The first due time after ``moment`` (aware), as an aware datetime."""
        ...


def schedule_key(workflow: str, due: datetime) -> str:
    """The inbox key of one scheduled run: ``schedule:{workflow}:{due in UTC, ISO 8601}`` (B6)."""
    return f"schedule:{workflow}:{_utc(due, 'due').isoformat()}"


@dataclass(frozen=True, order=True)
class DueRun:
    """One run of a workflow for one due time (in UTC)."""

    workflow: str
    due: datetime

    @property
    def key(self) -> str:
        """The inbox message key that makes this run unique across processes (B6)."""
        return schedule_key(self.workflow, self.due)


@dataclass(frozen=True, order=True)
class MissedRun:
    """A due time that gets no run (B6), and why: too late, or superseded by a later run."""

    workflow: str
    due: datetime
    superseded_by: datetime | None = None
    """The later due time that runs instead, when this one was still within the grace."""

    @property
    def key(self) -> str:
        """The same key its run would have had, so that no process ever runs it later."""
        return schedule_key(self.workflow, self.due)

    @property
    def reason(self) -> str:
        """One sentence for the ledger."""
        if self.superseded_by is not None:
            return f"superseded by the run due at {self.superseded_by.isoformat()}"
        return "more than the grace late when the scheduler saw it"


@dataclass(frozen=True)
class SchedulePlan:
    """What one look at the schedules found, up to ``planned_until`` (the ``now`` given)."""

    due: tuple[DueRun, ...]
    missed: tuple[MissedRun, ...]
    planned_until: datetime
    missed_unlisted: Mapping[str, int] = field(default_factory=dict)
    """Per workflow, missed due times older than the :data:`MAX_MISSED_LISTED` listed ones."""


def plan_runs(
    schedules: Mapping[str, CronExpression],
    last_planned: Mapping[str, datetime | None],
    now: datetime,
    grace: timedelta = DEFAULT_SCHEDULE_GRACE,
) -> SchedulePlan:
    """Due and missed runs of every workflow since it was last planned, up to ``now`` (B6).

    ``last_planned[workflow]`` is the moment up to which that workflow was planned before (every
    due time up to it was enqueued or recorded missed); absent or None means never.
    """
    if grace < timedelta(0):
        raise ValueError("the schedule grace must not be negative")
    now = _utc(now, "now")
    due: list[DueRun] = []
    late: list[MissedRun] = []
    unlisted: dict[str, int] = {}
    for workflow in sorted(schedules):
        since = last_planned.get(workflow)
        if since is None:
            continue
        run, missed_here, older = _plan_one(
            workflow, schedules[workflow], _utc(since, "last_planned"), now, grace
        )
        if run is not None:
            due.append(run)
        late.extend(missed_here)
        if older:
            unlisted[workflow] = older
    return SchedulePlan(tuple(due), tuple(late), now, unlisted)


def due_runs(
    schedules: Mapping[str, CronExpression],
    last_planned: Mapping[str, datetime | None],
    now: datetime,
    grace: timedelta = DEFAULT_SCHEDULE_GRACE,
) -> list[DueRun]:
    """The runs to start now: at most one per workflow (B6; see :func:`plan_runs`)."""
    return list(plan_runs(schedules, last_planned, now, grace).due)


def missed(
    schedules: Mapping[str, CronExpression],
    last_planned: Mapping[str, datetime | None],
    now: datetime,
    grace: timedelta = DEFAULT_SCHEDULE_GRACE,
) -> list[MissedRun]:
    """The due times that get no run, oldest first per workflow (B6; see :func:`plan_runs`)."""
    return list(plan_runs(schedules, last_planned, now, grace).missed)


def _plan_one(
    workflow: str,
    expression: CronExpression,
    since: datetime,
    now: datetime,
    grace: timedelta,
) -> tuple[DueRun | None, list[MissedRun], int]:
    candidate: datetime | None = None
    listed: deque[MissedRun] = deque(maxlen=MAX_MISSED_LISTED)
    total_missed = 0
    cursor = since
    while True:
        following = _utc(expression.next_after(cursor), f"the next due time of {workflow}")
        if following <= cursor:
            # A schedule that does not move forward would loop for ever (or plan one due time
            # twice); the cron adapter guarantees it never does, so this is a programming error.
            raise ValueError(
                f"the schedule of {workflow} gave {following.isoformat()} as the due time "
                f"after {cursor.isoformat()}"
            )
        if following > now:
            break
        cursor = following
        if now - following > grace:
            listed.append(MissedRun(workflow, following))
            total_missed += 1
            continue
        if candidate is not None:
            listed.append(MissedRun(workflow, candidate, superseded_by=following))
            total_missed += 1
        candidate = following
    run = None if candidate is None else DueRun(workflow, candidate)
    return run, list(listed), total_missed - len(listed)


def _utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)
