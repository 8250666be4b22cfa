"""Alma call starts booked in the ledger's PostgreSQL database, for every process that shares it.

Alma's per-second threshold is per institution (A4): three workers each keeping their own 25/s
would send 75/s. Each booking is one short transaction on the institution's row of
`alma_call_schedules`: lock the row (`FOR UPDATE`), read the database's clock, compute the next
start from the last `rate` starts booked by any process (`throttle.next_start`), append it,
commit, and return how long to wait. The database's clock is the one clock every process agrees
on, so no two hosts' clocks need to match. A process that dies after booking wastes its start;
that only makes the schedule more careful.

Only PostgreSQL: an SQLite ledger belongs to one process, whose in-memory schedule is enough.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from adapters.alma_http.throttle import (
    DEFAULT_WINDOW_MARGIN,
    LocalStartSchedules,
    StartSchedule,
    StartSchedules,
    next_start,
    pause_until,
)
from adapters.ledger.database_url import async_database_url
from adapters.ledger.engine import create_ledger_engine
from adapters.ledger.tables import alma_call_schedules as schedules

_NOW = select(func.extract("epoch", func.clock_timestamp()))


def schedules_for_ledger(database_url: str | None) -> StartSchedules:
    """Shared schedules when the ledger is PostgreSQL (several processes may share it), else
    this process's own (an SQLite ledger has one process)."""
    if async_database_url(database_url).startswith("postgresql"):
        assert database_url is not None
        return SharedStartSchedules.from_url(database_url)
    return LocalStartSchedules()


SHARED_WINDOW_MARGIN = 0.10
"""The margin of a schedule several processes share: a booked start is sent by another process
after a database round trip and its own event loop's wake-up, which on a busy machine is later
than the in-process margin allows (measured 2026-12-06: 26 calls in one second at Alma's side
with 0.02; 2026-12-07, with calls admitted on the wire: still one such second in a CI run at
0.06, none in 6 runs at 0.10). 25 starts per 1.10 s: 22.7 calls/s at most, only when several
processes share (measured 0.874–0.896 of 25/s across three)."""


LATE_START = 0.02
"""How late after its booked start a call may still go on a shared schedule. Measured in the A4
e2e test (three processes, 2 cores): wake-ups are a few ms late, a few per run 40–150 ms late,
and one of those put 26 calls into one of the fake's seconds about every other run."""


class SharedStartSchedules:
    """Schedules over one small connection pool of the ledger's database."""

    def __init__(self, engine: AsyncEngine, *, window_margin: float = SHARED_WINDOW_MARGIN):
        self._engine = engine
        self._margin = window_margin

    @classmethod
    def from_url(cls, database_url: str) -> SharedStartSchedules:
        """Schedules in the PostgreSQL ledger at `database_url` (already migrated)."""
        return cls(create_ledger_engine(database_url))

    def for_institution(self, institution: str, rate: int) -> StartSchedule:
        return SharedStartSchedule(self._engine, institution, rate, window_margin=self._margin)

    async def aclose(self) -> None:
        await self._engine.dispose()


class SharedStartSchedule:
    """One institution's starts, booked in its row of `alma_call_schedules`."""

    def __init__(
        self,
        engine: AsyncEngine,
        institution: str,
        rate: int,
        *,
        window_margin: float = DEFAULT_WINDOW_MARGIN,
    ) -> None:
        self._engine = engine
        self._institution = institution.casefold()
        self._rate = rate
        self._window = 1.0 + window_margin
        self._row_exists = False
        self._paused_until_here = 0.0
        """The latest pause this process saw, on its own monotonic clock."""

    async def book(self) -> float:
        async with self._engine.begin() as conn:
            starts, paused, now = await self._locked(conn)
            read_at = time.monotonic()
            at = next_start(starts, now, rate=self._rate, window=self._window, paused_until=paused)
            await self._store(conn, (*starts, at), paused)
        self._note_pause(paused - now)
        # Counted from when the database's clock was read, not from after the commit: the
        # commit's own latency varies, and a variable delay would squeeze booked starts together.
        return at - now - (time.monotonic() - read_at)

    async def refused(self, most: float) -> None:
        async with self._engine.begin() as conn:
            starts, paused, now = await self._locked(conn)
            until = pause_until(starts, now, rate=self._rate, window=self._window)
            paused = max(paused, min(until, now + most))
            await self._store(conn, starts, paused)
        self._note_pause(paused - now)

    def started(self, late: float) -> bool:
        # The booked start is not moved (a second transaction per call would halve what the
        # ledger can book); a call that woke later than LATE_START would squeeze against the
        # starts other processes booked after it, so it books a new start instead.
        return late <= LATE_START

    def paused(self) -> bool:
        return self._paused_until_here > time.monotonic()

    def _note_pause(self, seconds_left: float) -> None:
        if seconds_left > 0:
            self._paused_until_here = max(self._paused_until_here, time.monotonic() + seconds_left)

    async def _locked(self, conn: AsyncConnection) -> tuple[tuple[float, ...], float, float]:
        """The row's starts and pause, locked until commit, and the database's time now."""
        if not self._row_exists:
            await conn.execute(
                insert(schedules)
                .values(institution=self._institution, starts=[], paused_until=0.0)
                .on_conflict_do_nothing(index_elements=["institution"])
            )
            self._row_exists = True
        row = (
            await conn.execute(
                select(schedules.c.starts, schedules.c.paused_until)
                .where(schedules.c.institution == self._institution)
                .with_for_update()
            )
        ).one()
        # Read after the lock is granted: the wait for another process's booking is not "now".
        now = float((await conn.execute(_NOW)).scalar_one())
        starts: Any = row.starts
        return tuple(float(s) for s in starts), float(row.paused_until), now

    async def _store(self, conn: AsyncConnection, starts: tuple[float, ...], paused: float) -> None:
        await conn.execute(
            update(schedules)
            .where(schedules.c.institution == self._institution)
            .values(starts=list(starts[-self._rate :]), paused_until=paused)
        )
