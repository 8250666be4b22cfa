"""Failures: retried after an exponential backoff, dead after the last attempt (issue 6, item 2).

Time is the world's FakeClock: a message is due again only once the test moves the clock.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.fake_alma.faults import FaultConfig
from adapters.ledger.memory import MemoryLedger
from application.scf.circulation.carry_back import SCAN_IN
from application.scf.inbox.handlers import QUOTA_RETRY, RetryBackoff
from application.scf.inbox.records import INBOX_PROCESSED
from application.scf.items.item_sync_summary import FileSummary, ItemSyncSummary
from application.scf.sync_jobs import ItemsJobSummary
from application.shared.alma import AlmaUnavailable, QuotaExhausted
from application.shared.ledger_records import InboxStatus, Outcome
from application.shared.metrics import Metrics
from entrypoints.bridge_wiring import bridge_handlers
from tests.integration.ledger.support import FakeClock
from tests.integration.worker.support import (
    AB_PUBLISHING_JOB,
    RecordingHandlers,
    enqueue,
    job_end,
    loan_returned,
    make_worker,
    message,
    process_events,
)
from tests.scenarios.circulation.support import mirror, scf_returns, send_in_transit
from tests.scenarios.world import AB, SCF, marc_record, open_world


def failing(times: int, error: Exception) -> tuple[list[int], object]:
    """A behaviour raising error on the first `times` calls; the list counts the calls."""
    calls: list[int] = []

    async def behaviour(method: str, inbox_id: int) -> None:
        calls.append(inbox_id)
        if len(calls) <= times:
            raise error

    return calls, behaviour


async def test_a_transient_failure_is_retried_after_the_backoff_then_done(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        outage = AlmaUnavailable(AB, "GET /almaws/v1/items", http_status=503)
        _, behaviour = failing(2, outage)
        handlers = RecordingHandlers(behaviour)  # type: ignore[arg-type]
        metrics = Metrics()
        worker = make_worker(world.ledger, handlers, world.clock, metrics=metrics)
        [inbox_id] = await enqueue(world.ledger, world.clock, job_end(AB, AB_PUBLISHING_JOB, "801"))
        start = world.clock.now()

        assert await worker.run_once() == 1
        failed = await message(world.ledger, inbox_id)
        assert (failed.status, failed.attempts) == (InboxStatus.PENDING, 1)
        assert failed.available_at == start + timedelta(seconds=30)
        assert failed.last_error is not None
        assert "HTTP 503" in failed.last_error
        world.clock.advance(seconds=29)
        assert await worker.run_until_idle() == 0  # not due yet
        world.clock.advance(seconds=1)
        assert await worker.run_until_idle() == 1
        again = await message(world.ledger, inbox_id)
        assert again.available_at == world.clock.now() + timedelta(seconds=60)  # doubled
        world.clock.advance(seconds=60)
        assert await worker.run_until_idle() == 1

        done = await message(world.ledger, inbox_id)
        assert (done.status, done.attempts) == (InboxStatus.DONE, 3)
        assert handlers.per_message[inbox_id] == 3
        events = await process_events(world.ledger)
        assert [e.outcome for e in events] == [Outcome.FAILED, Outcome.FAILED, Outcome.OK]
        assert events[0].message is not None
        assert events[0].message.startswith("attempt 1 of 8 failed: Alma 01AAA_AB")
        assert events[0].details["retry_at"] == (start + timedelta(seconds=30)).isoformat()
        assert events[0].details["error_type"] == "AlmaUnavailable"
        assert metrics.value(INBOX_PROCESSED, outcome="retry", kind="items_sync_due") == 2
        assert metrics.value(INBOX_PROCESSED, outcome="ok", kind="items_sync_due") == 1


async def test_5xx_beyond_the_adapters_retries_leave_the_message_for_a_later_attempt(
    tmp_path: Path,
) -> None:
    faults = FaultConfig(enforce_thresholds=False)
    async with open_world(tmp_path, alma="http", faults=faults) as world:
        copy = await mirror(world, AB, "AB0002", home_library="ABRS")
        member = send_in_transit(world, AB, "AB0002", via="ABMAIN")
        scf_returns(world, copy)
        assert world.faults is not None
        world.faults.fail_next(1000, status=503, institution=AB)
        worker = make_worker(world.ledger, bridge_handlers(world.bridge), world.clock)
        [inbox_id] = await enqueue(world.ledger, world.clock, loan_returned("AB0002X", "802"))

        await worker.run_until_idle()
        failed = await message(world.ledger, inbox_id)
        assert failed.status is InboxStatus.PENDING
        assert failed.last_error is not None
        assert "HTTP 503" in failed.last_error
        assert "ab-example-key" not in failed.last_error
        assert member.process_type == "TRANSIT"
        assert await world.events(action=SCAN_IN) == []  # the attempt is the inbox's to record

        world.faults.clear_script()  # Alma is back
        world.clock.advance(seconds=30)
        await worker.run_until_idle()

        assert (await message(world.ledger, inbox_id)).status is InboxStatus.DONE
        assert member.process_type == ""
        (scan,) = await world.events(action=SCAN_IN)
        assert (scan.outcome, scan.inbox_id) == (Outcome.OK, inbox_id)


async def test_after_max_attempts_the_message_is_dead_with_its_last_error(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        calls, behaviour = failing(99, RuntimeError("login refused for key ab-example-key"))
        handlers = RecordingHandlers(behaviour)  # type: ignore[arg-type]
        metrics = Metrics()
        worker = make_worker(
            world.ledger,
            handlers,
            world.clock,
            metrics=metrics,
            max_attempts=3,
            secrets=lambda: ["ab-example-key"],
        )
        [inbox_id] = await enqueue(world.ledger, world.clock, loan_returned("AB0002X", "803"))

        for wait in (30, 60):  # attempts 1 and 2 fail and wait; attempt 3 is the last
            assert await worker.run_until_idle() == 1
            world.clock.advance(seconds=wait)
        assert await worker.run_until_idle() == 1
        world.clock.advance(days=7)
        assert await worker.run_until_idle() == 0

        dead = await message(world.ledger, inbox_id)
        assert (dead.status, dead.attempts) == (InboxStatus.DEAD, 3)
        assert dead.last_error == "RuntimeError: login refused for key ***"
        assert len(calls) == 3
        last = (await process_events(world.ledger))[-1]
        assert last.outcome is Outcome.FAILED
        assert last.message == "dead after 3 attempts: RuntimeError: login refused for key ***"
        assert last.details["dead"] is True
        assert (await world.ledger.inbox_depth()).dead == 1
        assert metrics.value(INBOX_PROCESSED, outcome="dead", kind="loan_returned") == 1


async def test_the_daily_quota_retries_a_sync_an_hour_later_not_within_seconds(
    tmp_path: Path,
) -> None:
    faults = FaultConfig(enforce_thresholds=False)
    async with open_world(tmp_path, alma="http", faults=faults) as world:
        member = world.state.find_item(AB, "AB0002")
        assert member is not None
        record = marc_record(member.mms_id, [{"b": "AB0002", "c": "ABRS", "l": "rs_shared_in_ab"}])
        world.drop_publishing_file(AB, "AB_nightly_new_1.tar.gz", [record])
        assert world.faults is not None
        world.faults.fail_next(1000, kind="daily", institution=SCF)
        worker = make_worker(world.ledger, bridge_handlers(world.bridge), world.clock)
        [inbox_id] = await enqueue(world.ledger, world.clock, job_end(AB, AB_PUBLISHING_JOB, "804"))

        await worker.run_until_idle()
        stopped = await message(world.ledger, inbox_id)
        assert stopped.status is InboxStatus.PENDING
        assert stopped.available_at == world.clock.now() + QUOTA_RETRY
        assert stopped.last_error is not None
        assert stopped.last_error.startswith("SyncIncomplete: items sync of 01AAA_AB incomplete")

        world.faults.clear_script()  # the quota reset
        world.clock.advance(minutes=59)
        assert await worker.run_until_idle() == 0
        world.clock.advance(minutes=1)
        await worker.run_until_idle()

        assert (await message(world.ledger, inbox_id)).status is InboxStatus.DONE
        assert world.state.find_item(SCF, "AB0002X") is not None


class _UnfinishedJobs:
    """SyncJobs whose items job leaves a file unfinished (its download failed)."""

    async def items_job(self, institution: str) -> ItemsJobSummary:
        file = FileSummary("AB_nightly_new_1.tar.gz", "unfinished", 0, 0)
        return ItemsJobSummary(ItemSyncSummary(institution, False, files=(file,)), None)


async def test_an_items_job_with_an_unfinished_file_is_retried_with_the_backoff(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        handlers = bridge_handlers(world.bridge)
        handlers.jobs = _UnfinishedJobs()  # type: ignore[assignment]
        worker = make_worker(world.ledger, handlers, world.clock)
        [inbox_id] = await enqueue(world.ledger, world.clock, job_end(AB, AB_PUBLISHING_JOB, "805"))

        await worker.run_until_idle()

        retried = await message(world.ledger, inbox_id)
        assert retried.available_at == world.clock.now() + timedelta(seconds=30)
        assert retried.last_error is not None
        assert "1 files unfinished (AB_nightly_new_1.tar.gz)" in retried.last_error


async def test_quota_exhausted_from_circulation_waits_for_the_quota() -> None:
    clock = FakeClock()
    ledger = MemoryLedger(clock)
    quota = QuotaExhausted(SCF, "GET /almaws/v1/items", http_status=429, error_code="DAILY")
    _, behaviour = failing(1, quota)
    worker = make_worker(ledger, RecordingHandlers(behaviour), clock)  # type: ignore[arg-type]
    [inbox_id] = await enqueue(ledger, clock, loan_returned("AB0002X", "806"))

    await worker.run_until_idle()

    waiting = await message(ledger, inbox_id)
    assert waiting.available_at == clock.now() + QUOTA_RETRY
    (event,) = await process_events(ledger)
    assert event.error_code == "DAILY"


def test_the_backoff_grows_up_to_its_cap_and_only_adds_jitter() -> None:
    backoff = RetryBackoff(
        initial=timedelta(seconds=10),
        maximum=timedelta(minutes=1),
        multiplier=2.0,
        jitter=0.5,
        random=lambda: 1.0,
    )
    assert [backoff.delay(n).total_seconds() for n in (1, 2, 3, 4, 500)] == [
        15.0,
        30.0,
        60.0,
        90.0,
        90.0,
    ]
