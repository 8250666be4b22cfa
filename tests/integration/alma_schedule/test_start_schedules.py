"""One contract for the schedules of Alma call starts: in memory (one process) and in the
PostgreSQL ledger (every process sharing it). Rule A4; ADR 0004.

Booking never sleeps (it returns how long to wait), so the tests book a few windows' worth of
starts at once and check the schedule they get, with a rate of 5 to keep the numbers small.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from adapters.alma_http.shared_schedule import SHARED_WINDOW_MARGIN, SharedStartSchedules
from adapters.alma_http.throttle import (
    DEFAULT_WINDOW_MARGIN,
    LocalStartSchedules,
    StartSchedule,
    StartSchedules,
    spacing,
)
from adapters.ledger.migrate import upgrade
from tests.integration.ledger.support import database

RATE = 5
WINDOW = 1.0 + DEFAULT_WINDOW_MARGIN
LONGEST = 1.0 + SHARED_WINDOW_MARGIN
"""A shared schedule keeps a wider window (a start crosses processes); upper bounds use it."""
# Bookings are read on the schedule's clock and converted to this process's after the commit:
# the commit's latency (a few ms, more on a cold connection) blurs each start a little.
SLACK = 0.03

KINDS = [
    pytest.param("memory", id="memory"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=KINDS)
async def make_schedules(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[[], StartSchedules]]:
    """Makes schedules of one kind; every PostgreSQL one shares a migrated ledger database."""
    opened: list[StartSchedules] = []
    if request.param == "memory":
        shared = LocalStartSchedules()

        def local() -> StartSchedules:
            return shared

        yield local
        return
    async with database("postgresql", tmp_path) as url:
        assert url is not None
        await upgrade(url)

        def in_ledger() -> StartSchedules:
            schedules = SharedStartSchedules.from_url(url)
            opened.append(schedules)
            return schedules

        try:
            yield in_ledger
        finally:
            for schedules in opened:
                await schedules.aclose()


async def book(schedule: StartSchedule, count: int) -> list[float]:
    """`count` bookings as start moments on this process's monotonic clock."""
    starts = []
    for _ in range(count):
        delay = await schedule.book()
        starts.append(time.monotonic() + delay)
    return starts


def assert_within_threshold(starts: list[float]) -> None:
    ordered = sorted(starts)
    for earlier, later in itertools.pairwise(ordered):
        assert later - earlier >= spacing(RATE) - SLACK, "starts are spaced"
    for index in range(len(ordered) - RATE):
        assert ordered[index + RATE] - ordered[index] >= WINDOW - SLACK, (
            f"{RATE + 1} starts within one window from start {index}"
        )


async def test_A4_booked_starts_never_put_more_than_the_rate_into_one_second(
    make_schedules: Callable[[], StartSchedules],
) -> None:
    schedule = make_schedules().for_institution("01AAA_RS", RATE)
    starts = await book(schedule, 3 * RATE)
    assert_within_threshold(starts)
    # Booked back to back, they fill the windows: 15 starts in about three windows, not more.
    assert sorted(starts)[-1] - sorted(starts)[0] < 3 * LONGEST


async def test_A4_institutions_are_booked_apart(
    make_schedules: Callable[[], StartSchedules],
) -> None:
    schedules = make_schedules()
    first = await book(schedules.for_institution("01AAA_AB", RATE), RATE)
    other = await book(schedules.for_institution("01AAA_CD", RATE), 1)
    assert other[0] - time.monotonic() < 0.1  # not behind 01AAA_AB's queue
    assert len(first) == RATE


async def test_A4_after_a_429_the_next_start_waits_only_until_the_window_moves_on(
    make_schedules: Callable[[], StartSchedules],
) -> None:
    schedule = make_schedules().for_institution("01AAA_RS", RATE)
    starts = await book(schedule, RATE)
    await schedule.refused(most=5.0)
    assert schedule.paused()
    [after] = await book(schedule, 1)
    # Not before the oldest start of the window leaves it, and not a whole second after the 429.
    assert after >= starts[0] + WINDOW - SLACK
    assert after <= starts[0] + LONGEST + spacing(RATE) + SLACK


async def test_A4_a_429_pause_is_capped(make_schedules: Callable[[], StartSchedules]) -> None:
    schedule = make_schedules().for_institution("01AAA_RS", RATE)
    await book(schedule, RATE)
    refused_at = time.monotonic()
    await schedule.refused(most=0.05)
    [after] = await book(schedule, 1)
    assert after - refused_at <= LONGEST  # the window rule still holds; the pause adds nothing


@pytest.mark.postgres
async def test_A4_processes_sharing_a_ledger_share_one_threshold(tmp_path: Path) -> None:
    async with database("postgresql", tmp_path) as url:
        assert url is not None
        await upgrade(url)
        # Two engines stand for two worker processes.
        one, two = SharedStartSchedules.from_url(url), SharedStartSchedules.from_url(url)
        try:
            first = one.for_institution("01AAA_RS", RATE)
            second = two.for_institution("01aaa_rs", RATE)  # Alma's codes are case-blind
            starts: list[float] = []
            for _ in range(2 * RATE):
                starts += await book(first, 1)
                starts += await book(second, 1)
            assert_within_threshold(starts)
        finally:
            await one.aclose()
            await two.aclose()
