"""Keeps each institution under Alma's per-second threshold and honours its 429 pauses (A3, A4).

`AsyncLimiter(1, 1 / rate)` is used rather than `AsyncLimiter(rate, 1)`: the latter lets a full
bucket burst at once and was measured at 49 calls in one sliding second for a rate of 25; spacing
calls 1/rate apart never puts more than `rate` call starts in any one-second window.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiolimiter import AsyncLimiter


class InstitutionThrottle:
    """Call admission for one institution: steady spacing, plus a shared pause after a 429."""

    def __init__(
        self,
        rate_per_second: int,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second < 1:
            raise ValueError(f"rate_per_second must be at least 1, got {rate_per_second}")
        self.rate_per_second = rate_per_second
        self._limiter = AsyncLimiter(1, 1 / rate_per_second)
        self._monotonic = monotonic
        self._paused_until = 0.0
        self.api_remaining: int | None = None
        self.calls_started = 0
        self.rate_limited_responses = 0

    async def admit(self) -> None:
        """Wait until this institution may start another call."""
        # Re-checked after each wait because another 429 may have extended the pause meanwhile.
        while (delay := self._paused_until - self._monotonic()) > 0:  # noqa: ASYNC110
            # Every caller of the institution waits out a 429 pause, not only the one that got it.
            await asyncio.sleep(delay)
        await self._limiter.acquire()
        self.calls_started += 1

    def pause(self, seconds: float) -> None:
        """Hold back every call of this institution for `seconds` (after a per-second 429)."""
        self.rate_limited_responses += 1
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)

    def record_remaining(self, header_value: str | None) -> None:
        """Keep Alma's `X-Exl-Api-Remaining` (calls left today) when the response carries it."""
        if header_value is not None and header_value.strip().isdigit():
            self.api_remaining = int(header_value.strip())
