"""Keeps each institution under Alma's per-second threshold and honours its 429 pauses (A3, A4).

Two mechanisms, because either alone lets Alma see more than its threshold:
- calls are spaced `1/rate` apart (`AsyncLimiter(1, 1/rate)`); `AsyncLimiter(rate, 1)` would let a
  full bucket burst and was measured at 49 call starts in one sliding second for a rate of 25;
- a sliding log of call starts refuses the `rate+1`-th start until `1 s + margin` after the
  oldest one, so delays between our start and Alma's count (scheduling, network) that squeeze
  evenly spaced calls together cannot put `rate+1` of them into one of Alma's seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from aiolimiter import AsyncLimiter

DEFAULT_WINDOW_MARGIN = 0.05


class InstitutionThrottle:
    """Call admission for one institution: steady spacing, a hard window, and 429 pauses."""

    def __init__(
        self,
        rate_per_second: int,
        *,
        window_margin: float = DEFAULT_WINDOW_MARGIN,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second < 1:
            raise ValueError(f"rate_per_second must be at least 1, got {rate_per_second}")
        self.rate_per_second = rate_per_second
        self._spacing = AsyncLimiter(1, 1 / rate_per_second)
        self._window = 1.0 + window_margin
        self._starts: deque[float] = deque()
        self._admission = asyncio.Lock()
        self._monotonic = monotonic
        self._paused_until = 0.0
        self.api_remaining: int | None = None
        self.calls_started = 0
        self.rate_limited_responses = 0

    async def admit(self) -> None:
        """Wait until this institution may start another call."""
        async with self._admission:  # first come, first served
            while True:
                now = self._monotonic()
                while self._starts and now - self._starts[0] >= self._window:
                    self._starts.popleft()
                # Every caller of the institution waits out a 429 pause, not only the one that
                # got it; re-checked after each wait because another 429 may have extended it.
                delay = self._paused_until - now
                if len(self._starts) >= self.rate_per_second:
                    delay = max(delay, self._starts[0] + self._window - now)
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
            await self._spacing.acquire()
            self._starts.append(self._monotonic())
            self.calls_started += 1

    def pause(self, seconds: float) -> None:
        """Hold back every call of this institution for `seconds` (after a per-second 429)."""
        self.rate_limited_responses += 1
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    def record_remaining(self, header_value: str | None) -> None:
        """Keep Alma's `X-Exl-Api-Remaining` (calls left today) when the response carries it."""
        if header_value is not None and header_value.strip().isdigit():
            self.api_remaining = int(header_value.strip())
