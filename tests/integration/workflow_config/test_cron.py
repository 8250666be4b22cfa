"""Cron schedules through cronsim in local time (rule B6): five fields, DST nights, planning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.workflow_config import (
    CronSchedule,
    cron_problem,
    cron_schedules,
    load_workflow_settings,
    local_zone,
)
from application.shared.schedules import DueRun, due_runs, plan_runs
from tests.integration.workflow_config.support import EXAMPLE

NEW_YORK = ZoneInfo("America/New_York")


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("30 10 * * 0-5", None),
        ("*/15 * * * *", None),
        ("0 6 * * MON-FRI", None),
        ("0 0 10 * * *", "must be a cron expression of 5 fields"),
        ("30 10 * *", "must be a cron expression of 5 fields"),
        ("@daily", "must be a cron expression of 5 fields"),
        ("61 10 * * *", "is not a valid cron expression: bad minute"),
        ("0 25 * * *", "is not a valid cron expression: bad hour"),
        ("0 0 30 2 *", "is not a valid cron expression: bad day-of-month"),
        ("0 0 * * 8", "is not a valid cron expression: bad day-of-week"),
    ],
)
def test_B6_schedules_are_5_field_cron_expressions(expression: str, problem: str | None) -> None:
    found = cron_problem(expression)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem), found


def test_B6_an_invalid_expression_cannot_become_a_schedule() -> None:
    with pytest.raises(ValueError, match="5 fields"):
        CronSchedule("0 0 10 * * *", UTC)


def test_B6_next_after_is_strictly_after_and_in_the_schedules_zone() -> None:
    schedule = CronSchedule("30 10 * * 0-5", NEW_YORK)
    # 2026-03-06 is a Friday; Saturday is skipped.
    friday = local(2026, 3, 6, 10, 30)
    assert schedule.next_after(friday) == local(2026, 3, 8, 10, 30)
    assert schedule.next_after(friday - timedelta(seconds=1)) == friday
    from_utc = schedule.next_after(datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    assert from_utc == friday
    assert from_utc.tzinfo is NEW_YORK


def test_B6_a_fixed_time_in_the_spring_gap_runs_once_at_the_end_of_the_gap() -> None:
    # 2026-03-08: New York skips from 02:00 to 03:00. Debian cron runs a 02:30 job at 03:00.
    schedule = CronSchedule("30 2 * * *", NEW_YORK)
    first = schedule.next_after(local(2026, 3, 7, 12))
    assert first == local(2026, 3, 8, 3, 0)
    assert first.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert schedule.next_after(first) == local(2026, 3, 9, 2, 30)


def test_B6_a_fixed_time_in_the_repeated_autumn_hour_runs_once() -> None:
    # 2026-11-01: 01:00–02:00 happens twice in New York. A 01:30 job runs at the first.
    schedule = CronSchedule("30 1 * * *", NEW_YORK)
    first = schedule.next_after(local(2026, 10, 31, 12))
    assert first.astimezone(UTC) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
    assert schedule.next_after(first).astimezone(UTC) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_B6_from_inside_the_repeated_hour_the_next_due_time_never_goes_back() -> None:
    # 01:10 EST (the second pass) is after 01:30 EDT: cronsim alone would answer 01:30 EDT.
    second_pass = local(2026, 11, 1, 1, 10, fold=1)
    following = CronSchedule("30 1 * * *", NEW_YORK).next_after(second_pass)
    assert following.astimezone(UTC) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_B6_an_hourly_schedule_runs_in_both_passes_of_the_repeated_hour() -> None:
    schedule = CronSchedule("0 * * * *", NEW_YORK)
    moment = local(2026, 11, 1, 0, 30).astimezone(UTC)
    instants = []
    for _ in range(3):
        moment = schedule.next_after(moment).astimezone(UTC)
        instants.append(moment)
    assert instants == [
        datetime(2026, 11, 1, 5, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
        datetime(2026, 11, 1, 7, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    ("expression", "start", "days"),
    [
        ("30 1 * * *", datetime(2026, 10, 30, 12, tzinfo=UTC), 4),  # the repeated hour
        ("30 2 * * *", datetime(2026, 3, 6, 12, tzinfo=UTC), 4),  # the skipped hour
    ],
)
def test_B6_planning_through_a_dst_night_starts_one_run_per_local_day(
    expression: str, start: datetime, days: int
) -> None:
    schedules = {"cleanup": CronSchedule(expression, NEW_YORK)}
    planned_until = start
    runs: list[DueRun] = []
    # The service looks every ten minutes, as its loop would.
    while planned_until < start + timedelta(days=days):
        now = planned_until + timedelta(minutes=10)
        plan = plan_runs(schedules, {"cleanup": planned_until}, now)
        assert plan.missed == ()
        runs += plan.due
        planned_until = plan.planned_until
    local_days = [run.due.astimezone(NEW_YORK).date() for run in runs]
    assert local_days == [start.date() + timedelta(days=n) for n in range(1, days + 1)]
    assert len({run.key for run in runs}) == days


def test_B6_schedules_run_in_the_machines_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    zone = local_zone()
    assert isinstance(zone, ZoneInfo)
    assert zone.key == "America/New_York"
    schedule = CronSchedule("30 10 * * *")
    assert schedule.zone == zone
    due = schedule.next_after(datetime(2026, 7, 1, 12, tzinfo=UTC))
    assert due.astimezone(UTC) == datetime(2026, 7, 1, 14, 30, tzinfo=UTC)
    assert due.date() == date(2026, 7, 1)


def test_B6_without_TZ_the_zone_comes_from_the_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TZ", raising=False)
    zone = local_zone()
    # Whatever the machine says, it is a zone with rules (or UTC), never a naive guess.
    assert datetime(2026, 1, 1, tzinfo=zone).utcoffset() is not None


def test_B6_the_examples_schedule_plans_aspace2alma_sunday_to_friday() -> None:
    settings = load_workflow_settings(EXAMPLE, {})
    schedules = cron_schedules(settings.schedules.crons, NEW_YORK)
    assert list(schedules) == ["aspace2alma"]
    # Friday 2026-03-06 10:30 runs; Saturday 10:30 does not (ArchivesSpace maintenance).
    friday = due_runs(schedules, {"aspace2alma": local(2026, 3, 6, 10)}, local(2026, 3, 6, 11))
    assert [run.due for run in friday] == [local(2026, 3, 6, 10, 30).astimezone(UTC)]
    saturday = due_runs(schedules, {"aspace2alma": local(2026, 3, 7, 10)}, local(2026, 3, 7, 11))
    assert saturday == []
