"""The throttle's arithmetic (rule A4): booked starts, pauses after a 429, and demand."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.alma_http.shared_schedule import LATE_START, SharedStartSchedule
from adapters.alma_http.throttle import (
    InstitutionThrottle,
    LocalStartSchedule,
    next_start,
    pause_until,
)

RATE = 5
WINDOW = 1.02


def test_A4_a_first_call_starts_at_once() -> None:
    assert next_start([], 10.0, rate=RATE, window=WINDOW, paused_until=0.0) == 10.0


def test_A4_starts_are_spaced_one_over_the_rate() -> None:
    assert next_start([10.0], 10.0, rate=RATE, window=WINDOW, paused_until=0.0) == 10.2


def test_A4_the_rate_plus_first_start_waits_a_window_after_the_oldest() -> None:
    starts = [10.0, 10.1, 10.2, 10.3, 10.4]  # five in 0.4 s (booked before spacing applied)
    assert next_start(starts, 10.4, rate=RATE, window=WINDOW, paused_until=0.0) == 11.02


def test_A4_a_pause_holds_every_start() -> None:
    assert next_start([9.0], 10.0, rate=RATE, window=WINDOW, paused_until=10.5) == 10.5


def test_A4_after_a_429_the_pause_lasts_until_the_oldest_start_leaves_the_window() -> None:
    starts = [9.0, 9.9, 10.0, 10.1]
    # 9.0 is already out of the window at 10.2; 9.9 leaves it at 10.92.
    assert pause_until(starts, 10.2, rate=RATE, window=WINDOW) == pytest.approx(10.92)


def test_A4_after_a_429_with_none_of_our_starts_in_the_window_one_spacing() -> None:
    assert pause_until([1.0], 10.0, rate=RATE, window=WINDOW) == pytest.approx(10.2)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_A4_calls_wanted_is_the_allowance_left_over_the_last_second() -> None:
    clock = Clock()
    throttle = InstitutionThrottle(25, monotonic=clock)
    assert throttle.calls_wanted() == 25
    for _ in range(10):
        await throttle.admit()
    assert throttle.calls_wanted() == 15
    clock.now += 1.5  # those starts are more than a second old
    assert throttle.calls_wanted() == 25


def test_A4_no_more_calls_are_wanted_once_a_second_s_worth_is_queued() -> None:
    throttle = InstitutionThrottle(25)
    throttle.waiting = 25
    assert throttle.calls_wanted() == 0


async def test_A4_a_call_that_woke_late_counts_its_window_from_its_real_start() -> None:
    clock = Clock()
    schedule = LocalStartSchedule(RATE, monotonic=clock)
    for _ in range(RATE):
        await schedule.book()  # booked at 100.0, 100.2, ... 100.8
    clock.now = 100.9  # the last caller (booked for 100.8) woke a tenth of a second late
    assert schedule.started(0.1)
    clock.now = 101.0
    delays = [await schedule.book() for _ in range(RATE)]
    starts = [clock.now + delay for delay in delays]
    # The fifth start after the late one waits a full window from when it really began.
    assert starts[-1] == pytest.approx(100.9 + WINDOW)


class _RefusesLateOnce:
    """A schedule that refuses the first start as too late, as a shared one does."""

    def __init__(self) -> None:
        self.booked = 0
        self.refused_late = False

    async def book(self) -> float:
        self.booked += 1
        return 0.0

    async def refused(self, most: float) -> None:
        return None

    def started(self, late: float) -> bool:
        if not self.refused_late:
            self.refused_late = True
            return False
        return True

    def paused(self) -> bool:
        return False


async def test_A4_a_start_refused_as_too_late_is_booked_again() -> None:
    schedule = _RefusesLateOnce()
    throttle = InstitutionThrottle(RATE, schedule=schedule)
    await throttle.admit()
    assert (schedule.booked, throttle.calls_started) == (2, 1)


def test_A4_a_shared_schedule_refuses_a_start_later_than_late_start() -> None:
    schedule = SharedStartSchedule(cast(AsyncEngine, None), "01AAA_RS", RATE)
    assert schedule.started(LATE_START)
    assert not schedule.started(LATE_START + 0.001)
