"""A scheduled-run message taken from the inbox runs its workflow once (rule B6), through the
`JobRunner` with trigger `schedule`; what is not a scheduled run is left to the webhook path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.ledger.memory import MemoryLedger
from application.shared.ledger_records import Outcome
from application.shared.run_records import RunStatus, RunTrigger
from application.shared.runs import JobRunner
from application.shared.scheduled_runs import scheduled_run_body
from application.shared.schedules import DueRun
from entrypoints.scheduling import ScheduledRuns
from entrypoints.workflow_registry import WorkflowSetup, load_registry
from tests.integration.ledger.support import FakeClock
from tests.toy_workflow import TICK

DUE = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


def _scheduled(tmp_path: Path) -> tuple[ScheduledRuns, MemoryLedger]:
    clock = FakeClock()
    ledger = MemoryLedger(clock)
    registry = load_registry({"ALMABRIDGE_WORKFLOW_MODULES": "tests.toy_workflow"})
    runner = JobRunner(ledger, clock, ledger)
    return ScheduledRuns(runner, registry, WorkflowSetup(), tmp_path / "out"), ledger


async def test_B6_a_scheduled_run_message_runs_its_workflow_with_trigger_schedule(
    tmp_path: Path,
) -> None:
    scheduled, ledger = _scheduled(tmp_path)
    handled = await scheduled.handle(scheduled_run_body(DueRun(TICK, DUE)), 1)
    assert handled is not None
    assert handled.outcome is Outcome.OK
    async with ledger.unit_of_work() as uow:
        (run,) = await uow.runs.list_runs(workflow=TICK)
    assert (run.trigger, run.status, run.counts.ok) == (RunTrigger.SCHEDULE, RunStatus.OK, 1)
    assert handled.details["run_id"] == run.id
    assert (tmp_path / "out" / TICK).is_dir()


async def test_B6_a_schedule_naming_an_unknown_workflow_fails_naming_the_known_ones(
    tmp_path: Path,
) -> None:
    scheduled, _ = _scheduled(tmp_path)
    handled = await scheduled.handle(scheduled_run_body(DueRun("west-holdingz", DUE)), 1)
    assert handled is not None
    assert handled.outcome is Outcome.FAILED
    assert "west-holdingz: no such workflow" in handled.message
    assert "cleanup" in handled.message


async def test_B6_a_webhook_body_is_not_a_scheduled_run(tmp_path: Path) -> None:
    scheduled, _ = _scheduled(tmp_path)
    assert await scheduled.handle(b'{"id": "1", "action": "JOB_END"}', 1) is None
