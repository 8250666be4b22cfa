"""EnqueueDueRuns on a real ledger (rule B6): one inbox message per workflow and due time, however
many service processes plan the same schedules; missed runs recorded once; memory across restarts.

Two `EnqueueDueRuns` on one ledger stand for two service processes: on SQLite each has its own
engine on the same file, as separate processes would.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.ledger.memory import MemoryLedger
from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from adapters.workflow_config import CronSchedule
from application.ports.ledger import Ledger
from application.shared.ledger_records import InboxStatus, Outcome
from application.shared.scheduled_runs import (
    MISSED,
    PLANNING_STARTED,
    RUN_ENQUEUED,
    EnqueueDueRuns,
    scheduled_run_body,
    scheduled_run_from_body,
)
from application.shared.schedules import DueRun, MissedRun
from tests.integration.ledger.support import Backend, FakeClock, database

# FakeClock starts at 2026-01-01 09:00 UTC (a Thursday).
SCHEDULES = {"aspace2alma": CronSchedule("30 10 * * *", UTC)}
DUE = datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
KEY = "schedule:aspace2alma:2026-01-01T10:30:00+00:00"


@pytest.fixture(params=["memory", "sqlite"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """A migrated, empty ledger; open() gives another process's view of the same database."""
    clock = FakeClock()
    async with database(request.param, tmp_path) as url:
        if url is None:
            shared = MemoryLedger(clock)
            result = Backend("memory", clock, None, lambda: shared)
        else:
            await upgrade(url)
            result = Backend("sqlite", clock, url, lambda: SqlLedger.from_url(url, clock))
        try:
            yield result
        finally:
            await result.close()


def planner(backend: Backend, ledger: Ledger | None = None) -> EnqueueDueRuns:
    return EnqueueDueRuns(ledger or backend.open(), backend.clock, SCHEDULES)


async def inbox_rows(ledger: Ledger, status: InboxStatus) -> list[tuple[str, bytes]]:
    """(key, body) of the inbox messages in one status."""
    async with ledger.unit_of_work() as uow:
        messages = await uow.inbox.list_by_status(status)
    return [(message.dedupe_key, message.body) for message in messages]


async def test_B6_the_first_look_at_a_schedule_runs_nothing_from_the_past(
    backend: Backend,
) -> None:
    backend.clock.current = datetime(2026, 1, 1, 11, 0, tzinfo=UTC)  # 10:30 already passed
    ledger = backend.open()
    result = await planner(backend, ledger)()
    assert result.enqueued == ()
    assert result.missed == ()
    assert await inbox_rows(ledger, InboxStatus.PENDING) == []
    started = await ledger.events(action=PLANNING_STARTED)
    assert [event.details for event in started] == [
        {"workflow": "aspace2alma", "due": "2026-01-01T11:00:00+00:00"}
    ]


async def test_B6_a_due_run_becomes_one_inbox_message_keyed_by_workflow_and_due_time(
    backend: Backend,
) -> None:
    ledger = backend.open()
    enqueue = planner(backend, ledger)
    await enqueue()  # 09:00: planning starts
    backend.clock.advance(minutes=90, seconds=20)  # 10:30:20
    result = await enqueue()
    assert result.enqueued == (DueRun("aspace2alma", DUE),)
    [(key, body)] = await inbox_rows(ledger, InboxStatus.PENDING)
    assert key == KEY
    assert json.loads(body) == {
        "kind": "scheduled_run",
        "workflow": "aspace2alma",
        "due": "2026-01-01T10:30:00+00:00",
        "trigger": "schedule",
    }
    assert scheduled_run_from_body(body) == DueRun("aspace2alma", DUE)
    [event] = await ledger.events(action=RUN_ENQUEUED)
    assert event.outcome is Outcome.OK
    assert event.message == "aspace2alma due at 2026-01-01T10:30:00+00:00 enqueued"
    # The next look, a minute later, plans after 10:30:20: nothing again.
    backend.clock.advance(minutes=1)
    assert (await enqueue()).enqueued == ()


async def test_B6_a_second_enqueue_of_the_same_due_time_adds_nothing(backend: Backend) -> None:
    # Two service processes on one ledger plan the same schedule.
    first, second = backend.open(), backend.open()
    process_a, process_b = planner(backend, first), planner(backend, second)
    await process_a()
    await process_b()
    backend.clock.advance(minutes=91)
    from_a = await process_a()
    from_b = await process_b()
    assert from_a.enqueued == (DueRun("aspace2alma", DUE),)
    assert from_b.enqueued == ()
    assert from_b.already_enqueued == (DueRun("aspace2alma", DUE),)
    assert [key for key, _ in await inbox_rows(second, InboxStatus.PENDING)] == [KEY]
    assert len(await second.events(action=RUN_ENQUEUED)) == 1


async def test_B6_a_run_missed_while_the_service_was_down_starts_once_when_it_comes_back(
    backend: Backend,
) -> None:
    ledger = backend.open()
    await planner(backend, ledger)()  # 09:00, then the service goes down
    backend.clock.current = datetime(2026, 1, 1, 14, 0, tzinfo=UTC)  # back 3.5 h late
    restarted = planner(backend)
    result = await restarted()
    assert result.enqueued == (DueRun("aspace2alma", DUE),)
    # Restarted again: the events remember 10:30 was enqueued; nothing is started twice.
    backend.clock.advance(minutes=5)
    again = await planner(backend)()
    assert again.enqueued == ()
    assert again.already_enqueued == ()
    assert [key for key, _ in await inbox_rows(ledger, InboxStatus.PENDING)] == [KEY]


async def test_B6_a_run_more_than_the_grace_late_is_recorded_missed_once(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    process_a, process_b = planner(backend, first), planner(backend, second)
    await process_a()
    await process_b()
    backend.clock.current = datetime(2026, 1, 1, 17, 0, tzinfo=UTC)  # 6.5 h late
    from_a = await process_a()
    from_b = await process_b()
    assert from_a.enqueued == ()
    assert from_b.enqueued == ()
    assert from_a.missed == (MissedRun("aspace2alma", DUE),)
    assert from_b.missed == ()
    [event] = await second.events(action=MISSED)
    assert event.outcome is Outcome.SKIPPED
    assert event.details == {"workflow": "aspace2alma", "due": "2026-01-01T10:30:00+00:00"}
    assert "more than the grace late" in (event.message or "")
    # The due time's key is taken by a row already done: no worker ever claims it.
    assert await inbox_rows(second, InboxStatus.PENDING) == []
    [(key, body)] = await inbox_rows(second, InboxStatus.DONE)
    assert key == KEY
    assert scheduled_run_from_body(body) is None  # a record of the miss, not a run to start
    assert await second.claim_inbox("worker", timedelta(seconds=20), 10) == []


async def test_B6_a_restart_after_a_long_outage_records_the_miss_and_starts_the_next_run(
    backend: Backend,
) -> None:
    ledger = backend.open()
    await planner(backend, ledger)()  # Thursday 09:00
    backend.clock.current = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)  # Friday noon
    result = await planner(backend)()
    # Thursday's 10:30 is more than the grace late; Friday's is 1.5 h late and starts.
    assert result.missed == (MissedRun("aspace2alma", DUE),)
    assert result.enqueued == (DueRun("aspace2alma", DUE + timedelta(days=1)),)


def test_B6_a_scheduled_run_body_round_trips_and_other_bodies_are_not_runs() -> None:
    run = DueRun("course-loading", DUE)
    assert scheduled_run_from_body(scheduled_run_body(run)) == run
    assert scheduled_run_from_body(b'{"action": "JOB_END"}') is None
    assert scheduled_run_from_body(b"not json") is None
    assert (
        scheduled_run_from_body(b'{"kind": "scheduled_run", "workflow": "x", "due": "1"}') is None
    )
    naive = b'{"kind": "scheduled_run", "workflow": "x", "due": "2026-01-01T10:30:00"}'
    assert scheduled_run_from_body(naive) is None
