"""Time for the fake: a system clock, and a manual one so tests never sleep.

Every time-dependent behaviour (dates on records, the sliding per-second window, the daily
quota's midnight reset, injected latency) reads one of these, never ``time`` directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

Sleeper = Callable[[float], Awaitable[None]]
"""How the fake waits (injected latency, stalls); tests pass a clock-advancing one."""


class Clock(Protocol):
    """The current time as an aware UTC datetime (same shape as ``application.ports.Clock``)."""

    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """An aware UTC datetime."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; ``sleep`` advances it instead of waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 1, 6, 9, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """The frozen current time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward (never backwards: the rate window assumes monotonic time)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        """A :data:`Sleeper` that advances the clock and yields once to the event loop."""
        self.advance(seconds)
        await asyncio.sleep(0)


def alma_date(moment: datetime) -> str:
    """Alma's date-only form, which carries a ``Z``: ``2020-12-02Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dZ")


def alma_timestamp(moment: datetime) -> str:
    """Alma's timestamp form with milliseconds: ``2024-05-24T17:35:20.393Z``."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-3] + "Z"


def alma_due_timestamp(moment: datetime) -> str:
    """Due dates come without milliseconds in the loan samples: ``2018-07-28T22:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
