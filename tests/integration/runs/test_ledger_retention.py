"""The `ledger-retention` run (rule P2): events older than `ledger_retention_days` are purged;
mirrors and forwarded request ids stay. On every ledger backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.ports.ledger import Ledger
from application.shared.ledger_records import Outcome, RequestStatus
from application.shared.ledger_retention import LedgerRetention
from application.shared.run_records import RecordOutcome, RunCounts, RunStatus
from application.shared.runs import JobRunner
from entrypoints.workflow_entries import WorkflowSetup, WorkflowUsageError
from entrypoints.workflow_registry import load_registry
from tests.integration.ledger.support import Backend

AB = "01AAA_AB"


def _runner(backend: Backend, ledger: Ledger) -> JobRunner:
    return JobRunner(ledger, backend.clock, ledger)  # type: ignore[arg-type]


async def _seed(backend: Backend, ledger: Ledger) -> None:
    """Two old events (500 and 401 days ago) of a mirror and a forwarded request, one event
    exactly at the limit's edge minus a day (399 days) and one of today."""
    clock = backend.clock
    async with ledger.unit_of_work() as uow:
        await uow.items.upsert(AB, "B1", scf_mms_id="991", scf_holding_id="221", scf_item_pid="231")
        await uow.requests.upsert(
            AB,
            "R1",
            route="item_hold",
            status=RequestStatus.FORWARDED,
            barcode="B1",
            scf_request_id="S1",
            user_id="01AAA_AB-ABRS",
        )
        await uow.events.append("items.create", Outcome.OK, institution=AB, barcode="B1")
        await uow.commit()
    for days_later, action in ((99, "request.forward"), (2, "items.update"), (399, "items.sync")):
        clock.advance(days=days_later)
        async with ledger.unit_of_work() as uow:
            await uow.events.append(action, Outcome.OK, institution=AB, barcode="B1")
            await uow.commit()


async def test_P2_events_older_than_the_limit_are_purged_and_mirrors_and_requests_stay(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    await _seed(backend, ledger)  # events aged 500, 401, 399 and 0 days
    result = await _runner(backend, ledger).run(
        LedgerRetention(400, batch=1), out_dir=tmp_path / "run"
    )

    assert result.run.status is RunStatus.OK
    assert result.run.counts == RunCounts(ok=2, skipped=0, failed=0)  # one record per batch
    remaining = await ledger.events(limit=100)
    assert [event.action for event in remaining] == ["items.update", "items.sync"]
    async with ledger.unit_of_work() as uow:
        mirror = await uow.items.get(AB, "B1")
        request = await uow.requests.get(AB, "R1")
        records = await uow.runs.records_of(result.run.id)
    assert mirror is not None
    assert mirror.scf_item_pid == "231"
    assert request is not None
    assert (request.scf_request_id, request.status) == (
        "S1",
        RequestStatus.FORWARDED,
    )
    assert {record.outcome for record in records} == {RecordOutcome.OK}
    assert sum(int(record.detail["count"]) for record in records) == 2  # type: ignore[call-overload]

    # Nothing is left to purge: a second run says so and removes nothing.
    again = await _runner(backend, ledger).run(LedgerRetention(400), out_dir=tmp_path / "again")
    assert again.run.counts == RunCounts(ok=0, skipped=1, failed=0)
    assert len(await ledger.events(limit=100)) == 2


async def test_P2_a_dry_run_counts_and_removes_nothing(
    backend: Backend, ledger: Ledger, tmp_path: Path
) -> None:
    await _seed(backend, ledger)
    result = await _runner(backend, ledger).run(
        LedgerRetention(400), out_dir=tmp_path / "run", dry_run=True
    )
    assert result.run.counts == RunCounts(ok=0, skipped=1, failed=0)
    async with ledger.unit_of_work() as uow:
        (record,) = await uow.runs.records_of(result.run.id)
    assert record.reason == "dry run: would remove 2 events older than 400 days"
    assert len(await ledger.events(limit=100)) == 4


def test_P2_the_entry_reads_ledger_retention_days_defaulting_to_400() -> None:
    entry = load_registry({})["ledger-retention"]
    assert entry.options([], WorkflowSetup()) == {"retention_days": 400}
    configured = WorkflowSetup(config={"ledger_retention_days": 30})
    assert entry.options([], configured) == {"retention_days": 30}
    assert entry.options(["--days", "7"], configured) == {"retention_days": 7}
    with pytest.raises(WorkflowUsageError, match="ledger_retention_days"):
        entry.options([], WorkflowSetup(config={"ledger_retention_days": 0}))
    assert isinstance(entry.build({"retention_days": 30}, WorkflowSetup()), LedgerRetention)
