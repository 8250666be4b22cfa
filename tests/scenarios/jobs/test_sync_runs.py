"""Both SCF syncs run through the JobRunner: each is a run with its records (rules B1, B2, I13,
R8; ADR 0010)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.fake_alma.faults import FaultConfig
from application.scf.sync_runs import ITEMS_SYNC, REQUESTS_SYNC
from application.shared.run_records import JobRun, RecordOutcome, RunRecord, RunStatus, RunTrigger
from entrypoints.bridge_wiring import sync_jobs
from tests.scenarios.items.support import NZ_SHELF, Copy, seed_bib
from tests.scenarios.requests.support import member_item_request
from tests.scenarios.world import AB, SCF, World, open_world, request_export


async def _runs(world: World, workflow: str) -> list[JobRun]:
    async with world.ledger.unit_of_work() as uow:
        return await uow.runs.list_runs(workflow=workflow)


async def _records(world: World, run: JobRun) -> dict[tuple[str, str], RunRecord]:
    async with world.ledger.unit_of_work() as uow:
        return {(r.kind, r.key): r for r in await uow.runs.records_of(run.id)}


async def test_B1_an_items_job_is_a_run_with_a_record_per_item_and_per_file(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        copies = [Copy("AB9001", "ABRS", "rs_shared_in_ab"), Copy("AB9002", "ABRS", "stacks")]
        world.drop_publishing_file(
            AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", copies, nz_id=NZ_SHELF)]
        )
        summary = await sync_jobs(world.bridge).items_job(AB)

        (run,) = await _runs(world, ITEMS_SYNC)
        assert (run.status, run.trigger, run.options) == (
            RunStatus.OK,
            RunTrigger.WEBHOOK,
            {"institution": AB},
        )
        assert (run.counts.ok, run.counts.failed) == (summary.items.created + 1, 0)
        records = await _records(world, run)
        assert records[("item", "AB9001")].outcome is RecordOutcome.OK
        assert records[("file", "AB_new.xml")].outcome is RecordOutcome.OK
        assert records[("file", "AB_new.xml")].reason == "done: 2 items, 0 failed"
        assert ("item", "AB9002") in records  # out of remote storage: recorded with its reason


async def test_B2_an_items_job_stopped_by_the_daily_quota_ends_its_run_failed_with_the_reason(
    tmp_path: Path,
) -> None:
    quota = FaultConfig(enforce_thresholds=True, per_second_threshold=100_000)
    async with open_world(tmp_path, alma="http", faults=quota) as world:
        copies = [Copy(f"AB7{n:02d}", "ABRS", "rs_shared_in_ab") for n in range(10)]
        world.drop_publishing_file(
            AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", copies, nz_id=NZ_SHELF)]
        )
        world.state.institution(SCF).daily_quota = 9
        summary = await sync_jobs(world.bridge).items_job(AB)

        assert summary.items.stopped is not None
        (run,) = await _runs(world, ITEMS_SYNC)
        assert run.status is RunStatus.FAILED
        assert "DAILY_THRESHOLD" in (run.reason or "")
        records = await _records(world, run)
        assert records[("file", "AB_new.xml")].outcome is RecordOutcome.SKIPPED


async def test_B1_a_requests_job_is_a_run_with_a_record_per_request(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        world.drop_request_file(
            AB,
            "requests_noon.xml",
            request_export(
                [
                    {
                        "requestId": source.request_id,
                        "requestType": "PATRON_PHYSICAL",
                        "barcode": "AB0002",
                    }
                ]
            ),
        )
        summary = await sync_jobs(world.bridge).requests_job(AB)

        assert summary.waiting == 1
        (run,) = await _runs(world, REQUESTS_SYNC)
        assert run.status is RunStatus.OK  # waiting for a mirror is skipped on purpose (R7)
        record = (await _records(world, run))[("request", source.request_id)]
        assert record.outcome is RecordOutcome.SKIPPED
        assert record.reason.startswith("waiting: ")


async def test_B1_a_dry_run_is_a_dry_run_in_the_runs_and_a_non_member_starts_no_run(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        copies = [Copy("AB9001", "ABRS", "rs_shared_in_ab")]
        world.drop_publishing_file(
            AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", copies, nz_id=NZ_SHELF)]
        )
        jobs = sync_jobs(world.bridge)
        await jobs.items_job(AB, dry_run=True, trigger=RunTrigger.CLI)
        with pytest.raises(ValueError, match="not a configured member"):
            await jobs.items_job(SCF)

        (run,) = await _runs(world, ITEMS_SYNC)
        assert (run.dry_run, run.trigger, run.status) == (True, RunTrigger.CLI, RunStatus.OK)
        records = await _records(world, run)
        assert records[("file", "AB_new.xml")].reason.startswith("listed")
