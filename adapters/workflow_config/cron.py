"""Cron expressions through cronsim, in the machine's local time (rules B3, B6).

:class:`CronSchedule` is the adapter behind ``application.shared.schedules.CronExpression``.
Expressions have exactly five fields (minute hour day-of-month month day-of-week), as in a
crontab; cronsim's optional seconds field is refused so that a line copied from cron means what
it meant there.

Daylight saving time is handled as Debian's cron does it (cronsim implements that): a job at a
fixed time that falls in the hour skipped in spring runs at the end of the gap, one in the hour
repeated in autumn runs once. On top of that, :meth:`CronSchedule.next_after` never answers a
time at or before the moment it was given, which cronsim can do for a moment inside the repeated
hour (it reasons on the local wall clock there).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

__all__ = ["CronSchedule", "cron_problem", "cron_schedules", "local_zone"]

_FIELDS: Final = 5
_LOCALTIME: Final = Path("/etc/localtime")


def local_zone() -> tzinfo:
    """The machine's time zone, with its daylight saving rules (B3: stamps are local time).

    ``TZ`` when it names a zone, else ``/etc/localtime``; a fixed offset only as a last resort
    (``datetime.now().astimezone()`` alone would forget the DST rules).
    """
    name = os.environ.get("TZ", "").strip().removeprefix(":")
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        with _LOCALTIME.open("rb") as file:
            return ZoneInfo.from_file(file, key="localtime")
    except (OSError, ValueError):
        fallback = datetime.now().astimezone().tzinfo
        return fallback if fallback is not None else UTC


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a usable 5-field cron expression, or None when it is."""
    fields = expression.split()
    if len(fields) != _FIELDS:
        count = f"{len(fields)} field{'s' if len(fields) != 1 else ''}"
        return (
            f"must be a cron expression of 5 fields (minute hour day-of-month month "
            f"day-of-week), not {count}"
        )
    try:
        iterator = CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
        next(iterator)
    except CronSimError as error:
        return f"is not a valid cron expression: {str(error).lower() or 'unreadable'}"
    except StopIteration:
        return "never comes due (no date matches it)"
    return None


def cron_schedules(crons: Mapping[str, str], zone: tzinfo | None = None) -> dict[str, CronSchedule]:
    """``[schedules]`` (workflow → expression) as the planner takes it, in one zone (B6)."""
    chosen = zone if zone is not None else local_zone()
    return {workflow: CronSchedule(expression, chosen) for workflow, expression in crons.items()}


class CronSchedule:
    """One cron expression, evaluated in ``zone`` (the machine's local zone by default)."""

    def __init__(self, expression: str, zone: tzinfo | None = None) -> None:
        problem = cron_problem(expression)
        if problem is not None:
            raise ValueError(f"{expression!r} {problem}")
        self.expression = " ".join(expression.split())
        self.zone = zone if zone is not None else local_zone()

    def __repr__(self) -> str:
        return f"CronSchedule({self.expression!r})"

    def next_after(self, moment: datetime) -> datetime:
        """The first due time strictly after ``moment``, in the schedule's zone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"moment must be an aware datetime, got {moment!r}")
        start = moment.astimezone(UTC)
        cursor = start.astimezone(self.zone)
        # cronsim reasons on the wall clock for fixed-time jobs: from 01:10 in the repeated
        # hour it answers 01:30 of the first pass, which is already past. Step on from there.
        iterator = CronSim(self.expression, cursor)
        for candidate in iterator:
            if candidate.astimezone(UTC) > start:
                return candidate
        raise ValueError(f"{self.expression!r} never comes due after {moment.isoformat()}")
