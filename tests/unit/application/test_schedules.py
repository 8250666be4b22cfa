"""Planning scheduled runs (rule B6): due, missed, grace, one run per due time, DST in local time.

Pure: the schedules here are small fakes of the ``CronExpression`` protocol, so that what is
tested is the planning, not cron parsing (``tests/integration/workflow_config/test_cron.py``
does the same nights with cronsim).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.shared.schedules import (
    MAX_MISSED_LISTED,
    CronExpression,
    DueRun,
    MissedRun,
    due_runs,
    missed,
    plan_runs,
    schedule_key,
)

NEW_YORK = ZoneInfo("America/New_York")
GRACE = timedelta(hours=6)


class DailyAt:
    """Every day at hour:minute UTC."""

    def __init__(self, hour: int, minute: int) -> None:
        self.hour, self.minute = hour, minute

    def next_after(self, moment: datetime) -> datetime:
        moment = moment.astimezone(UTC)
        candidate = moment.replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        while candidate <= moment:
            candidate += timedelta(days=1)
        return candidate


class Every:
    """Every `step` from midnight UTC (every hour, every minute, …)."""

    def __init__(self, step: timedelta) -> None:
        self.step = step

    def next_after(self, moment: datetime) -> datetime:
        moment = moment.astimezone(UTC)
        midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        steps = (moment - midnight) // self.step + 1
        return midnight + steps * self.step


class HourlyInLocalTime:
    """On the hour, answered in New York's local time, as the cron adapter answers (with fold)."""

    def next_after(self, moment: datetime) -> datetime:
        utc = moment.astimezone(UTC)
        following = utc.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        return following.astimezone(NEW_YORK)


class FixedTimes:
    """Exactly these due times, whatever their zone representation."""

    def __init__(self, *times: datetime) -> None:
        self.times = times

    def next_after(self, moment: datetime) -> datetime:
        for time in self.times:
            if time.astimezone(UTC) > moment.astimezone(UTC):
                return time
        return datetime(2999, 1, 1, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


ASPACE = {"aspace2alma": DailyAt(10, 30)}


def test_B6_a_run_due_now_is_due_once() -> None:
    first = due_runs(ASPACE, {"aspace2alma": at(2, 10, 29, 30)}, at(2, 10, 30, 20))
    assert first == [DueRun("aspace2alma", at(2, 10, 30))]
    # The next look starts where this one ended: the same due time is never planned again.
    assert due_runs(ASPACE, {"aspace2alma": at(2, 10, 30, 20)}, at(2, 10, 31)) == []


def test_B6_nothing_is_due_between_due_times() -> None:
    plan = plan_runs(ASPACE, {"aspace2alma": at(2, 10, 31)}, at(3, 10, 29))
    assert plan.due == ()
    assert plan.missed == ()
    assert plan.planned_until == at(3, 10, 29)


def test_B6_a_run_missed_while_the_service_was_down_starts_once_within_the_grace() -> None:
    # Down from 09:00 to 14:00: the 10:30 run is 3.5 h late, within the 6 h grace.
    last_planned = {"aspace2alma": at(2, 9, 0)}
    assert due_runs(ASPACE, last_planned, at(2, 14, 0), GRACE) == [
        DueRun("aspace2alma", at(2, 10, 30))
    ]
    assert missed(ASPACE, last_planned, at(2, 14, 0), GRACE) == []


def test_B6_a_run_more_than_the_grace_late_is_missed_not_started() -> None:
    last_planned = {"aspace2alma": at(2, 9, 0)}
    assert due_runs(ASPACE, last_planned, at(2, 16, 31), GRACE) == []
    assert missed(ASPACE, last_planned, at(2, 16, 31), GRACE) == [
        MissedRun("aspace2alma", at(2, 10, 30))
    ]


def test_B6_a_run_exactly_the_grace_late_still_starts() -> None:
    assert due_runs(ASPACE, {"aspace2alma": at(2, 9, 0)}, at(2, 16, 30), GRACE) == [
        DueRun("aspace2alma", at(2, 10, 30))
    ]


def test_B6_the_grace_is_configurable_and_defaults_to_6_hours() -> None:
    last_planned = {"aspace2alma": at(2, 9, 0)}
    assert due_runs(ASPACE, last_planned, at(2, 16, 0)) == [DueRun("aspace2alma", at(2, 10, 30))]
    assert due_runs(ASPACE, last_planned, at(2, 16, 0), timedelta(hours=1)) == []
    assert due_runs(ASPACE, last_planned, at(2, 11, 0), timedelta(hours=1)) == [
        DueRun("aspace2alma", at(2, 10, 30))
    ]


def test_B6_several_due_times_missed_within_the_grace_start_one_run_the_latest() -> None:
    hourly = {"oclc-sync": Every(timedelta(hours=1))}
    # Down from 08:30 to 13:10: 09:00 … 13:00 passed, all within 6 h.
    plan = plan_runs(hourly, {"oclc-sync": at(2, 8, 30)}, at(2, 13, 10), GRACE)
    assert plan.due == (DueRun("oclc-sync", at(2, 13)),)
    assert [m.due for m in plan.missed] == [at(2, 9), at(2, 10), at(2, 11), at(2, 12)]
    assert [m.superseded_by for m in plan.missed] == [at(2, 10), at(2, 11), at(2, 12), at(2, 13)]
    assert plan.missed[0].reason.startswith("superseded by the run due at")


def test_B6_older_missed_due_times_come_before_the_run_that_starts() -> None:
    every_two_hours = {"cleanup": Every(timedelta(hours=2))}
    plan = plan_runs(every_two_hours, {"cleanup": at(1, 23)}, at(2, 13, 0), GRACE)
    assert plan.due == (DueRun("cleanup", at(2, 12)),)
    older = [m for m in plan.missed if m.superseded_by is None]
    assert [m.due for m in older] == [at(2, 0), at(2, 2), at(2, 4), at(2, 6)]
    assert older[0].reason == "more than the grace late when the scheduler saw it"


def test_B6_a_workflow_never_planned_starts_planning_now_without_running_the_past() -> None:
    # A first deployment: the old cron may have run 10:30 already; starting it again could
    # import twice (Alma imports are not idempotent).
    plan = plan_runs(ASPACE, {}, at(2, 11, 0))
    assert plan.due == ()
    assert plan.missed == ()
    assert due_runs(ASPACE, {"aspace2alma": None}, at(2, 11, 0)) == []


def test_B6_each_workflow_is_planned_on_its_own() -> None:
    schedules: dict[str, CronExpression] = {
        "aspace2alma": DailyAt(10, 30),
        "cleanup": DailyAt(3, 15),
        "oclc-sync": DailyAt(12, 0),
    }
    last_planned = {"aspace2alma": at(2, 9), "cleanup": at(1, 12), "oclc-sync": None}
    plan = plan_runs(schedules, last_planned, at(2, 11), GRACE)
    assert plan.due == (DueRun("aspace2alma", at(2, 10, 30)),)
    assert plan.missed == (MissedRun("cleanup", at(2, 3, 15)),)


def test_B6_due_times_are_in_utc_and_the_key_names_workflow_and_due_time() -> None:
    local = datetime(2026, 7, 1, 6, 30, tzinfo=NEW_YORK)
    run = due_runs({"aspace2alma": FixedTimes(local)}, {"aspace2alma": at(1, 0)}, local)[0]
    assert run.due == datetime(2026, 7, 1, 10, 30, tzinfo=UTC)
    assert run.due.tzinfo is UTC
    assert run.key == "schedule:aspace2alma:2026-07-01T10:30:00+00:00"
    # The same instant in any zone gives the same key: processes in other zones agree on it.
    assert schedule_key("aspace2alma", local) == run.key


def test_B6_the_repeated_autumn_hour_gives_two_runs_with_two_keys() -> None:
    # 2026-11-01 in New York: 01:00 EDT (05:00Z) and 01:00 EST (06:00Z) read alike locally.
    # Clocks answer in UTC; arithmetic on local aware datetimes is wall-clock arithmetic.
    moment = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK).astimezone(UTC)
    runs: list[DueRun] = []
    for minutes in (40, 60, 60):
        now = moment + timedelta(minutes=minutes)
        runs += due_runs({"cleanup": HourlyInLocalTime()}, {"cleanup": moment}, now)
        moment = now
    assert [run.due for run in runs] == [
        datetime(2026, 11, 1, 5, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
        datetime(2026, 11, 1, 7, tzinfo=UTC),
    ]
    assert len({run.key for run in runs}) == 3


def test_B6_the_repeated_autumn_hour_is_ordered_by_the_instant_not_the_wall_clock() -> None:
    # 01:45 EDT comes before 01:15 EST, though its wall clock reads later: aware datetimes that
    # share a tzinfo compare by wall clock in Python, so the planner must not compare them so.
    first = datetime(2026, 11, 1, 1, 45, tzinfo=NEW_YORK, fold=0)
    second = datetime(2026, 11, 1, 1, 15, tzinfo=NEW_YORK, fold=1)
    schedule = {"cleanup": FixedTimes(first, second)}
    since = datetime(2026, 11, 1, 1, 0, tzinfo=NEW_YORK, fold=0)
    now = second.astimezone(UTC) + timedelta(minutes=1)
    plan = plan_runs(schedule, {"cleanup": since}, now, GRACE)
    assert plan.due == (DueRun("cleanup", second.astimezone(UTC)),)
    assert plan.missed == (
        MissedRun("cleanup", first.astimezone(UTC), superseded_by=second.astimezone(UTC)),
    )


def test_B6_a_missed_run_keeps_the_key_its_run_would_have_had() -> None:
    missed_run = MissedRun("aspace2alma", at(2, 10, 30))
    assert missed_run.key == DueRun("aspace2alma", at(2, 10, 30)).key


def test_B6_a_long_outage_lists_the_latest_missed_due_times_and_counts_the_rest() -> None:
    minutely = {"cleanup": Every(timedelta(minutes=1))}
    plan = plan_runs(minutely, {"cleanup": at(1, 0)}, at(2, 0), timedelta(minutes=1))
    assert plan.due == (DueRun("cleanup", at(2, 0)),)
    assert len(plan.missed) == MAX_MISSED_LISTED
    assert plan.missed[-1].due == at(1, 23, 59)
    assert plan.missed_unlisted == {"cleanup": 24 * 60 - 1 - MAX_MISSED_LISTED}


def test_B6_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan_runs(ASPACE, {"aspace2alma": at(2, 9)}, datetime(2026, 3, 2, 11))
    with pytest.raises(ValueError, match="aware"):
        plan_runs(ASPACE, {"aspace2alma": datetime(2026, 3, 2, 9)}, at(2, 11))


def test_B6_a_schedule_that_does_not_move_forward_is_refused_not_looped_on() -> None:
    class Stuck:
        def next_after(self, moment: datetime) -> datetime:
            return moment

    with pytest.raises(ValueError, match="cleanup"):
        plan_runs({"cleanup": Stuck()}, {"cleanup": at(2, 9)}, at(2, 11))


def test_B6_a_negative_grace_is_refused() -> None:
    with pytest.raises(ValueError, match="grace"):
        plan_runs(ASPACE, {}, at(2, 9), timedelta(hours=-1))


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=1, max_value=14 * 60), min_size=1, max_size=40),
    grace_minutes=st.integers(min_value=1, max_value=8 * 60),
)
def test_B6_however_the_planner_is_called_every_due_time_is_run_or_missed_exactly_once(
    gaps: list[int], grace_minutes: int
) -> None:
    hourly: dict[str, CronExpression] = {"oclc-sync": Every(timedelta(hours=1))}
    grace = timedelta(minutes=grace_minutes)
    start = at(2, 0, 10)
    planned_until = start
    seen: list[datetime] = []
    started: list[datetime] = []
    for gap in gaps:
        now = planned_until + timedelta(minutes=gap)
        plan = plan_runs(hourly, {"oclc-sync": planned_until}, now, grace)
        assert len(plan.due) <= 1
        for run in plan.due:
            assert now - run.due <= grace
            started.append(run.due)
        seen += [run.due for run in plan.due] + [m.due for m in plan.missed]
        planned_until = plan.planned_until
    expected = []
    due = at(2, 1)
    while due <= planned_until:
        expected.append(due)
        due += timedelta(hours=1)
    assert sorted(seen) == expected
    assert len(set(seen)) == len(seen)
    assert len(set(started)) == len(started)
