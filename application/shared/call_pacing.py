"""How many Alma calls an institution could take on now: the demand side of its rate limit (A4).

Alma allows each institution a number of calls per second. An asynchronous bridge reaches that
ceiling when enough calls are in flight to cover Alma's latency (rate x latency), not when a
thread count meant for the Java app's file threads says so. Work that fans out over many items
(the items sync) asks the pacing before it starts one more item beyond its configured floor.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class CallPacing(Protocol):
    """The demand figures of each institution's rate limiter."""

    def calls_wanted(self, institution: str) -> int:
        """How many more calls could start now without this institution's limiter waiting for
        callers (rate x observed latency, less the calls in flight or queued); 0 or less when it
        has enough."""
        ...

    async def next_call_start(self, institution: str) -> None:
        """Return when this institution's next call starts (a moment demand may have changed)."""
        ...


class Unpaced:
    """No limiter to keep busy (in-memory Alma): never asks for more than the floor."""

    def calls_wanted(self, institution: str) -> int:
        return 0

    async def next_call_start(self, institution: str) -> None:
        await asyncio.Event().wait()  # no call start is ever signalled


UNPACED = Unpaced()
