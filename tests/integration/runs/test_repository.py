"""Contract: RunRepository (`uow.runs`) on the memory, SQLite and PostgreSQL ledgers (rules B1,
B5)."""

from __future__ import annotations

import pytest

from application.ports.ledger import Ledger
from application.shared.ledger_records import LedgerRecordNotFound
from application.shared.run_records import (
    FileDigest,
    FileRole,
    RecordEntry,
    RecordOutcome,
    RunCounts,
    RunStatus,
    RunTrigger,
)
from tests.integration.ledger.support import Backend

SHA_A = "a" * 64
SHA_B = "b" * 64


async def _started(ledger: Ledger, workflow: str = "west-holdings", **kwargs: object) -> int:
    async with ledger.unit_of_work() as uow:
        run = await uow.runs.start_run(workflow, RunTrigger.CLI, **kwargs)  # type: ignore[arg-type]
        await uow.commit()
    return run.id


async def test_B1_a_started_run_is_running_with_its_options(
    backend: Backend, ledger: Ledger
) -> None:
    async with ledger.unit_of_work() as uow:
        run = await uow.runs.start_run(
            "west-holdings",
            RunTrigger.SCHEDULE,
            options={"institution": "01AAA_AB", "tags": ["583"], "nested": {"n": 1}},
            dry_run=True,
            out_dir="/srv/out/west-holdings",
        )
        await uow.commit()
    assert run.status is RunStatus.RUNNING
    assert run.trigger is RunTrigger.SCHEDULE
    assert (run.started, run.ended) == (backend.clock.now(), None)
    assert run.counts == RunCounts(0, 0, 0)
    assert (run.inputs, run.outputs, run.resumed_from, run.reason) == ((), (), None, None)
    # Another process (a new engine on SQL) reads the same row back.
    async with backend.open().unit_of_work() as uow:
        again = await uow.runs.get_run(run.id)
    assert again == run
    assert again.options == {"institution": "01AAA_AB", "tags": ["583"], "nested": {"n": 1}}
    assert again.dry_run is True
    assert again.out_dir == "/srv/out/west-holdings"


async def test_B1_a_run_never_finished_stays_running(backend: Backend, ledger: Ledger) -> None:
    # A process killed mid-run writes nothing more: the ledger shows the run as running.
    run_id = await _started(ledger)
    async with ledger.unit_of_work() as uow:
        await uow.runs.record(run_id, "mms", "991", RecordOutcome.OK, "mms 991 exported")
        await uow.commit()
    async with backend.open().unit_of_work() as uow:
        [listed] = await uow.runs.list_runs()
    assert (listed.id, listed.status, listed.ended) == (run_id, RunStatus.RUNNING, None)
    assert listed.counts == RunCounts(ok=1)


async def test_B5_recording_a_key_again_keeps_one_row_and_right_counts(ledger: Ledger) -> None:
    run_id = await _started(ledger)
    async with ledger.unit_of_work() as uow:
        await uow.runs.record(run_id, "mms", "991", RecordOutcome.FAILED, "mms 991: timeout")
        await uow.runs.record(run_id, "mms", "992", RecordOutcome.OK, "mms 992 exported")
        await uow.runs.record(run_id, "holding", "991", RecordOutcome.SKIPPED, "no 583")
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        again = await uow.runs.record(
            run_id, "mms", "991", RecordOutcome.OK, "mms 991 exported", {"holdings": 2}
        )
        await uow.runs.record(run_id, "mms", "992", RecordOutcome.OK, "mms 992 exported")
        await uow.commit()
    assert (again.outcome, again.detail) == (RecordOutcome.OK, {"holdings": 2})
    async with ledger.unit_of_work() as uow:
        records = await uow.runs.records_of(run_id)
        run = await uow.runs.get_run(run_id)
    # One row per (kind, key), in the order first recorded, holding the latest outcome.
    assert [(r.kind, r.key, r.outcome) for r in records] == [
        ("mms", "991", RecordOutcome.OK),
        ("mms", "992", RecordOutcome.OK),
        ("holding", "991", RecordOutcome.SKIPPED),
    ]
    assert records[0].reason == "mms 991 exported"
    assert run is not None
    assert run.counts == RunCounts(ok=2, skipped=1, failed=0)


async def test_B1_many_records_at_once_count_as_recording_each_in_turn(ledger: Ledger) -> None:
    run_id = await _started(ledger, "oclc-sync")
    async with ledger.unit_of_work() as uow:
        await uow.runs.record(run_id, "network_id", "9915151", RecordOutcome.FAILED, "was failed")
        await uow.commit()
    many = [RecordEntry(f"99{n:04d}5151", RecordOutcome.OK, f"SAME: id {n}") for n in range(1200)]
    many += [
        RecordEntry("9915151", RecordOutcome.SKIPPED, "do not change", {"sheet": "do_not_change"}),
        RecordEntry("9900005151", RecordOutcome.FAILED, "given twice: the last entry wins"),
    ]
    async with ledger.unit_of_work() as uow:
        await uow.runs.record_many(run_id, "network_id", many)
        await uow.runs.record_many(run_id, "network_id", [])
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        records = {r.key: r for r in await uow.runs.records_of(run_id)}
        run = await uow.runs.get_run(run_id)
        with pytest.raises(LedgerRecordNotFound):
            await uow.runs.record_many(999_999, "network_id", many[:1])
    assert len(records) == 1201
    assert (records["9915151"].outcome, records["9915151"].detail) == (
        RecordOutcome.SKIPPED,
        {"sheet": "do_not_change"},
    )
    assert records["9900005151"].reason == "given twice: the last entry wins"
    assert run is not None
    assert run.counts == RunCounts(ok=1199, skipped=1, failed=1)


async def test_B5_recorded_keys_and_records_filter_by_outcome(ledger: Ledger) -> None:
    run_id = await _started(ledger)
    other = await _started(ledger)
    async with ledger.unit_of_work() as uow:
        await uow.runs.record(run_id, "mms", "1", RecordOutcome.OK, "ok")
        await uow.runs.record(run_id, "mms", "2", RecordOutcome.SKIPPED, "no holdings")
        await uow.runs.record(run_id, "mms", "3", RecordOutcome.FAILED, "not in Alma")
        await uow.runs.record(other, "mms", "4", RecordOutcome.OK, "ok")
        await uow.commit()
    done = (RecordOutcome.OK, RecordOutcome.SKIPPED)
    async with ledger.unit_of_work() as uow:
        assert await uow.runs.recorded_keys(run_id) == {("mms", "1"), ("mms", "2"), ("mms", "3")}
        assert await uow.runs.recorded_keys(run_id, outcomes=done) == {("mms", "1"), ("mms", "2")}
        failed = await uow.runs.records_of(run_id, outcomes=[RecordOutcome.FAILED])
        assert await uow.runs.recorded_keys(12345) == set()
    assert [(r.key, r.reason) for r in failed] == [("3", "not in Alma")]


async def test_B1_inputs_and_outputs_carry_their_sha256(ledger: Ledger) -> None:
    run_id = await _started(ledger)
    async with ledger.unit_of_work() as uow:
        await uow.runs.add_file(run_id, FileRole.INPUT, FileDigest("bibs.mrc", SHA_A))
        await uow.runs.add_file(run_id, FileRole.OUTPUT, FileDigest("wau.xml", SHA_A))
        await uow.runs.add_file(run_id, FileRole.OUTPUT, FileDigest("wau.mrc", SHA_A))
        # Written again (a rewrite of the same output): one entry, the newest digest.
        run = await uow.runs.add_file(run_id, FileRole.OUTPUT, FileDigest("wau.xml", SHA_B))
        await uow.commit()
    assert run.inputs == (FileDigest("bibs.mrc", SHA_A),)
    assert run.outputs == (FileDigest("wau.mrc", SHA_A), FileDigest("wau.xml", SHA_B))
    async with ledger.unit_of_work() as uow:
        assert await uow.runs.get_run(run_id) == run


async def test_B1_finishing_a_run(backend: Backend, ledger: Ledger) -> None:
    run_id = await _started(ledger)
    backend.clock.advance(minutes=3)
    async with ledger.unit_of_work() as uow:
        with pytest.raises(ValueError, match="not running"):
            await uow.runs.finish_run(run_id, RunStatus.RUNNING)
        ended = await uow.runs.finish_run(run_id, RunStatus.FAILED, reason="no CEM file today")
        await uow.commit()
    assert (ended.status, ended.ended, ended.reason) == (
        RunStatus.FAILED,
        backend.clock.now(),
        "no CEM file today",
    )


async def test_unknown_runs_are_refused(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        assert await uow.runs.get_run(999) is None
        assert await uow.runs.run_with_failures(999) is None
        with pytest.raises(LedgerRecordNotFound):
            await uow.runs.record(999, "mms", "1", RecordOutcome.OK, "ok")
        with pytest.raises(LedgerRecordNotFound):
            await uow.runs.add_file(999, FileRole.INPUT, FileDigest("a", SHA_A))
        with pytest.raises(LedgerRecordNotFound):
            await uow.runs.finish_run(999, RunStatus.OK)
        with pytest.raises(LedgerRecordNotFound):
            await uow.runs.start_run("cleanup", RunTrigger.RESUME, resumed_from=999)


async def test_B5_a_resumed_run_points_back_at_its_original(ledger: Ledger) -> None:
    original = await _started(ledger, options={"institution": "01AAA_AB"})
    async with ledger.unit_of_work() as uow:
        resumed = await uow.runs.start_run(
            "west-holdings",
            RunTrigger.RESUME,
            options={"institution": "01AAA_AB"},
            resumed_from=original,
        )
        await uow.commit()
    assert (resumed.trigger, resumed.resumed_from) == (RunTrigger.RESUME, original)


async def test_B1_runs_are_listed_newest_first_per_workflow(
    backend: Backend, ledger: Ledger
) -> None:
    ids = []
    for workflow in ("cleanup", "west-holdings", "cleanup", "oclc-sync"):
        ids.append(await _started(ledger, workflow))
        backend.clock.advance(seconds=10)
    async with ledger.unit_of_work() as uow:
        every = await uow.runs.list_runs()
        cleanups = await uow.runs.list_runs(workflow="cleanup")
        page = await uow.runs.list_runs(limit=2, offset=1)
        none = await uow.runs.list_runs(workflow="aspace2alma")
    assert [run.id for run in every] == ids[::-1]
    assert [run.id for run in cleanups] == [ids[2], ids[0]]
    assert [run.id for run in page] == [ids[2], ids[1]]
    assert none == []


async def test_B1_one_run_with_its_failures(ledger: Ledger) -> None:
    run_id = await _started(ledger)
    async with ledger.unit_of_work() as uow:
        for n in range(5):
            outcome = RecordOutcome.FAILED if n % 2 == 0 else RecordOutcome.OK
            await uow.runs.record(run_id, "mms", f"99{n}", outcome, f"mms 99{n}")
        await uow.runs.finish_run(run_id, RunStatus.PARTIAL)
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        detail = await uow.runs.run_with_failures(run_id)
        first_two = await uow.runs.run_with_failures(run_id, limit=2)
    assert detail is not None
    assert first_two is not None
    assert detail.run.status is RunStatus.PARTIAL
    assert detail.run.counts == RunCounts(ok=2, skipped=0, failed=3)
    assert [record.key for record in detail.failures] == ["990", "992", "994"]
    assert [record.key for record in first_two.failures] == ["990", "992"]


async def test_B1_failed_records_of_a_workflow_in_a_time_range(
    backend: Backend, ledger: Ledger
) -> None:
    west = await _started(ledger, "west-holdings")
    oclc = await _started(ledger, "oclc-sync")
    start = backend.clock.now()
    async with ledger.unit_of_work() as uow:
        await uow.runs.record(west, "mms", "1", RecordOutcome.FAILED, "first")
        await uow.runs.record(oclc, "network", "1", RecordOutcome.FAILED, "other workflow")
        await uow.runs.record(west, "mms", "2", RecordOutcome.OK, "not a failure")
        await uow.commit()
    backend.clock.advance(hours=1)
    later = await _started(ledger, "west-holdings")
    async with ledger.unit_of_work() as uow:
        await uow.runs.record(later, "mms", "3", RecordOutcome.FAILED, "second")
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        every = await uow.runs.failed_records("west-holdings")
        first_hour = await uow.runs.failed_records(
            "west-holdings", since=start, until=backend.clock.now()
        )
        last = await uow.runs.failed_records("west-holdings", since=backend.clock.now())
        one = await uow.runs.failed_records("west-holdings", limit=1)
    assert [(r.run_id, r.key) for r in every] == [(west, "1"), (later, "3")]
    assert [r.reason for r in first_hour] == ["first"]
    assert [r.reason for r in last] == ["second"]
    assert [r.reason for r in one] == ["first"]


async def test_a_run_not_committed_is_not_written(backend: Backend, ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        await uow.runs.start_run("cleanup", RunTrigger.CLI)
    async with backend.open().unit_of_work() as uow:
        assert await uow.runs.list_runs() == []
