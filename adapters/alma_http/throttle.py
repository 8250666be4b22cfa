"""Keeps each institution under Alma's per-second threshold and honours its 429 pauses (A3, A4).

Alma counts the calls of an institution arriving in any rolling second, refused ones included,
whichever process or key sent them. So every call start is booked in a schedule of the
institution's last `rate` starts before it is sent (`next_start`):

- starts are spaced `1/rate` apart, so a full window never bursts at once (measured: half that
  spacing let windows fill in bursts and then idle, and cost more 429s);
- the `rate+1`-th start waits until `1 s + margin` after the oldest of the last `rate`, so delays
  between our start and Alma's count (scheduling, network) that squeeze evenly spaced calls
  together cannot put `rate+1` of them into one of Alma's seconds;
- after a per-second 429, the institution pauses only until the oldest start of the current
  second leaves it (`pause_until`), not a whole second.

The schedule is in memory for one process (`LocalStartSchedule`) or in the ledger's database,
shared by every process that uses it (`adapters.alma_http.shared_schedule`, ADR 0004).

Within a process one caller at a time books and waits for its start, so a caller that wakes
late (a busy event loop) pushes the next start back instead of squeezing it against its own
(measured: booking ahead and sleeping apart let 200 in-process callers put 26 calls into one
of the fake's seconds).

The throttle also tells callers whether the institution could take more calls (A4: concurrency
sized to the threshold, not to a thread count): `calls_wanted` is the allowance this process left
unused over the last second, or what a queue of half a second's calls lacks, and nothing once
a second's worth is queued. It looks back a whole second because demand comes in bursts (a bib's
items all call at once, then wait while the next bib is created), so the queue of the moment
says "enough" just before the throttle idles.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

DEFAULT_WINDOW_MARGIN = 0.02
"""How much longer than a second the throttle's window is (see the module text and ADR 0004)."""
QUEUE_DIVISOR = 2
"""Callers keep at least rate / 2 calls queued (half a second's worth) when they can."""


def spacing(rate: int) -> float:
    """The least time between two starts: the average, `1/rate`."""
    return 1 / rate


def next_start(
    starts: Sequence[float], now: float, *, rate: int, window: float, paused_until: float
) -> float:
    """The earliest moment from `now` at which one more call may start.

    `starts` are the institution's last booked starts, oldest first (at least its last `rate`).
    """
    at = max(now, paused_until)
    if starts:
        at = max(at, starts[-1] + spacing(rate))
    if len(starts) >= rate:
        at = max(at, starts[-rate] + window)
    return at


def pause_until(starts: Sequence[float], now: float, *, rate: int, window: float) -> float:
    """After a per-second 429: when the oldest start of the current window leaves it.

    Alma counted more than its threshold in the last second; the next call has a chance once one
    of those starts is a second old. With no start of ours in the window (another client of the
    institution filled it), wait one spacing.
    """
    recent = [s for s in starts if s > now - window]
    if not recent:
        return now + spacing(rate)
    return max(recent[0] + window, now + spacing(rate))


class StartSchedule(Protocol):
    """Where an institution's call starts are booked: one process, or every process of a ledger."""

    async def book(self) -> float:
        """Book the next start and return how many seconds from now it is (0 when now)."""
        ...

    async def refused(self, most: float) -> None:
        """A per-second 429 came back: hold every later start until the window moves on, at most
        `most` seconds from now."""
        ...

    def started(self, late: float) -> bool:
        """The call booked last starts now, `late` seconds after its booked start: whether it
        may go. A caller that woke late moves its start to the moment it really began, or,
        where the start cannot be moved, is refused and books again."""
        ...

    def paused(self) -> bool:
        """Whether this process knows of a 429 pause still running."""
        ...


class StartSchedules(Protocol):
    """Makes the start schedule of each institution and releases what they hold at the end."""

    def for_institution(self, institution: str, rate: int) -> StartSchedule:
        """The schedule of one institution's call starts at `rate` per second."""
        ...

    async def aclose(self) -> None:
        """Release connections; no schedule is used afterwards."""
        ...


class LocalStartSchedules:
    """In-memory schedules: the limit holds for this process only."""

    def __init__(self, *, window_margin: float = DEFAULT_WINDOW_MARGIN) -> None:
        self._margin = window_margin

    def for_institution(self, institution: str, rate: int) -> StartSchedule:
        return LocalStartSchedule(rate, window_margin=self._margin)

    async def aclose(self) -> None:
        return None


class LocalStartSchedule:
    """The schedule of one process, in memory (SQLite ledgers, tests, the CLI's fakes)."""

    def __init__(
        self,
        rate: int,
        *,
        window_margin: float = DEFAULT_WINDOW_MARGIN,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = rate
        self._window = 1.0 + window_margin
        self._starts: deque[float] = deque(maxlen=rate)
        self._paused_until = 0.0
        self._monotonic = monotonic

    async def book(self) -> float:
        now = self._monotonic()
        at = next_start(
            self._starts,
            now,
            rate=self._rate,
            window=self._window,
            paused_until=self._paused_until,
        )
        self._starts.append(at)
        return at - now

    async def refused(self, most: float) -> None:
        now = self._monotonic()
        until = pause_until(self._starts, now, rate=self._rate, window=self._window)
        self._paused_until = max(self._paused_until, min(until, now + most))

    def started(self, late: float) -> bool:
        # A busy event loop wakes a caller after its booked start; the window counts from when
        # the call really began, or the next start would squeeze against a late one.
        if self._starts:
            self._starts[-1] = max(self._starts[-1], self._monotonic())
        return True

    def paused(self) -> bool:
        return self._paused_until > self._monotonic()


class InstitutionThrottle:
    """Call admission for one institution: booked starts, 429 pauses, and demand figures."""

    def __init__(
        self,
        rate_per_second: int,
        *,
        schedule: StartSchedule | None = None,
        window_margin: float = DEFAULT_WINDOW_MARGIN,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second < 1:
            raise ValueError(f"rate_per_second must be at least 1, got {rate_per_second}")
        self.rate_per_second = rate_per_second
        self._schedule = schedule or LocalStartSchedule(
            rate_per_second, window_margin=window_margin, monotonic=monotonic
        )
        # One caller at a time books and waits for its start (one transaction at a time on a
        # shared schedule), first come, first served: a caller that wakes late (a busy event
        # loop) pushes the next start back rather than squeezing it against its own.
        self._admission = asyncio.Lock()
        self._started: asyncio.Event | None = None
        self.api_remaining: int | None = None
        self.calls_started = 0
        self.rate_limited_responses = 0
        self.waiting = 0
        self._monotonic = monotonic
        self._recent: deque[float] = deque(maxlen=rate_per_second)
        """This process's latest call starts (no more than a second can hold), for
        `calls_wanted`."""

    async def admit(self) -> None:
        """Wait until this institution may start another call."""
        self.waiting += 1
        try:
            async with self._admission:
                while True:
                    delay = await self._schedule.book()
                    booked = self._monotonic() + max(delay, 0.0)
                    if delay > 0:
                        await asyncio.sleep(delay)
                    # A 429 that arrived while this call waited pauses it too, and a start the
                    # schedule refuses as too late is booked again; the start booked is spent
                    # (harmless: it only makes the schedule more careful).
                    late = self._monotonic() - booked
                    if not self._schedule.paused() and self._schedule.started(late):
                        break
        finally:
            self.waiting -= 1
        self.calls_started += 1
        self._recent.append(self._monotonic())
        if self._started is not None:
            self._started.set()
            self._started = None

    def calls_wanted(self) -> int:
        """How many more calls this institution could take from this process: its allowance
        left unused over the last second, or what half a second's queue lacks (so the queue
        never drains between bursts); 0 once a second's worth is queued."""
        if self.waiting >= self.rate_per_second:
            return 0
        now = self._monotonic()
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        unused = self.rate_per_second - len(self._recent)
        queue_short = math.ceil(self.rate_per_second / QUEUE_DIVISOR) - self.waiting
        return max(unused, queue_short)

    async def next_start(self) -> None:
        """Return at this institution's next call start (a moment demand may have changed)."""
        if self._started is None:
            self._started = asyncio.Event()
        await self._started.wait()

    async def pause(self, most: float) -> None:
        """After a per-second 429: hold back every call of this institution until the window
        moves on, at most `most` seconds."""
        self.rate_limited_responses += 1
        await self._schedule.refused(most)

    def record_remaining(self, header_value: str | None) -> None:
        """Keep Alma's `X-Exl-Api-Remaining` (calls left today) when the response carries it."""
        if header_value is not None and header_value.strip().isdigit():
            self.api_remaining = int(header_value.strip())
