"""Alma failures (A3 after the adapter's retries, the daily quota), P1 reports, and dry runs."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

from adapters.fake_alma.faults import FaultConfig
from adapters.scf.reports.csv_reports import CsvFailureReports
from application.scf.items.item_outcomes import ItemResult
from application.shared.ledger_records import TransferKind
from entrypoints.bridge_wiring import item_sync
from tests.scenarios.items.support import (
    FAST_LOAN_RETRY,
    NZ_BARCODES,
    NZ_SHELF,
    Copy,
    calls,
    item_events,
    lend_to_patron,
    mirror,
    record,
    scf_snapshot,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, CD, SCF, World, open_world

CD_LOCATIONS = ("rs_shared_1", "rs_shared_2", "rs_shared_3", "cd_stacks")


def _publish_consortium(world: World) -> None:
    """Both members: NZ and local bibs, items in and out of remote storage, in two files each."""
    in_rs = [Copy(f"AB8{n:02d}", "ABRS", "rs_shared_in_ab") for n in range(6)]
    ab_nz = seed_bib(world, AB, "99AB1", in_rs, nz_id=NZ_SHELF)
    mixed = [Copy("AB850", "ABRS", "rs_shared_in_ab"), Copy("AB851", "ABRS", "stacks")]
    ab_local = seed_bib(world, AB, "99AB2", mixed)
    cd = seed_bib(
        world,
        CD,
        "99CD1",
        [Copy(f"CD8{n:02d}", "CDRS", CD_LOCATIONS[n % 4]) for n in range(12)],
        nz_id=NZ_BARCODES,
    )
    world.drop_publishing_file(AB, "AB_1_new.tar.gz", [ab_nz])
    world.drop_publishing_file(AB, "AB_2_new.xml", [ab_local])
    world.drop_publishing_file(CD, "CD_1_new.tar.gz", [cd])


async def test_A3_a_5xx_storm_ends_in_the_same_Alma_state_as_a_calm_run(tmp_path: Path) -> None:
    async with open_world(tmp_path / "calm", alma="http") as calm:
        _publish_consortium(calm)
        await sync(calm, AB)
        await sync(calm, CD)
        expected = scf_snapshot(calm)
    storm = FaultConfig(error_rate=0.2, enforce_thresholds=False)
    async with open_world(tmp_path / "storm", alma="http", faults=storm) as world:
        _publish_consortium(world)
        ab = await sync(world, AB)
        cd = await sync(world, CD)
        assert ab.failed == cd.failed == 0
        assert any(c.fault == "error" for c in world.state.call_log)
        assert scf_snapshot(world) == expected
    assert len(expected) == 6 + 1 + 9


async def test_A3_a_transient_failure_after_retries_is_a_failed_event_with_Almas_error(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        assert world.faults is not None
        rec = seed_bib(world, AB, "99AB1", [Copy("AB9001", "ABRS", "rs_shared_in_ab")])
        world.faults.fail_next(50, status=500, institution=SCF, path_contains="/items")
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        summary = await sync(world, AB)
        assert summary.failed == 1
        (event,) = await item_events(world, AB, "AB9001")
        assert (event.action, event.outcome, event.error_code) == (
            "item.create",
            "failed",
            "401652",
        )
        assert "General Error" in (event.message or "")
        assert event.details["tracking_id"]
        # A transient failure must not lose the item with a finished file: the file stays
        # unfinished (I1) and the next sync, with Alma back, mirrors it.
        assert summary.files[0].status == "unfinished"
        world.faults.clear_script()
        again = await sync(world, AB)
        assert [(f.status, again.failed) for f in again.files] == [("done", 0)]
        assert mirror(world, "AB9001") is not None


async def test_I12_a_refusal_by_Alma_fails_the_item_not_the_file(tmp_path: Path) -> None:
    """A business refusal (not transient) is final for the item: the file is done (I1, I12)."""
    async with open_world(tmp_path, alma="http") as world:
        assert world.faults is not None
        rec = seed_bib(world, AB, "99AB1", [Copy("AB9002", "ABRS", "rs_shared_in_ab")])
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        await sync(world, AB)
        assert mirror(world, "AB9002") is not None
        lend_to_patron(world, "AB9002")
        world.drop_publishing_file(AB, "AB_1_delete.xml", [rec])
        summary = await sync(world, AB)
        assert summary.failed == 1  # Alma refuses deleting an item on loan to a patron
        assert [f.status for f in summary.files] == ["done"]


async def test_A3_the_daily_quota_stops_the_sync_and_the_file_resumes_next_time(
    tmp_path: Path,
) -> None:
    quota = FaultConfig(enforce_thresholds=True, per_second_threshold=100_000)
    async with open_world(tmp_path, alma="http", faults=quota) as world:
        copies = [Copy(f"AB7{n:02d}", "ABRS", "rs_shared_in_ab") for n in range(10)]
        world.drop_publishing_file(
            AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", copies, nz_id=NZ_SHELF)]
        )
        world.state.institution(SCF).daily_quota = 9
        stopped = await sync(world, AB)
        assert stopped.stopped is not None
        assert "DAILY_THRESHOLD" in stopped.stopped
        assert stopped.total < 10
        assert [f.status for f in stopped.files] == ["unfinished"]
        (end,) = await world.events(action="items.sync")
        assert (end.outcome, end.error_code) == ("failed", "DAILY_THRESHOLD")
        assert any("Items sync stopped" in r.message for r in world.reports.rows)
        async with world.ledger.unit_of_work() as uow:
            assert len(await uow.files.list_unfinished(AB, TransferKind.ITEMS)) == 1

        world.state.institution(SCF).daily_quota = 100_000
        resumed = await sync(world, AB)
        assert [f.status for f in resumed.files] == ["done"]
        assert all(mirror(world, c.barcode) is not None for c in copies)
        scf_barcodes = [i.barcode for i in world.state.institution(SCF).items.values()]
        assert len(scf_barcodes) == len(set(scf_barcodes)) == 10


async def test_P1_failures_are_appended_to_the_ItemsHandler_csv_properly_quoted(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        reports = CsvFailureReports(tmp_path / "reports")
        bridge = dataclasses.replace(world.bridge, reports=reports)
        rec = seed_bib(world, AB, "99AB1", [Copy("AB9001", "ABRS", "rs_shared_in_ab")])
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        await item_sync(bridge, loan_retry=FAST_LOAN_RETRY).run(AB)
        lend_to_patron(world, "AB9001")
        world.drop_publishing_file(AB, "AB_delete.xml", [rec])
        await item_sync(bridge, loan_retry=FAST_LOAN_RETRY).run(AB)
        (report,) = (tmp_path / "reports").glob("ItemsHandler_log_*.csv")
        with report.open(newline="") as stream:
            rows = list(csv.reader(stream))
        assert rows[0] == ["Barcode", "Institution", "Message"]
        assert rows[1][:2] == ["AB9001", AB]
        assert rows[1][2].startswith("Failed to handle item AB9001: delete item: Item is on loan")


async def test_dry_run_claims_nothing_writes_nothing_and_says_what_would_happen(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        changed = Copy("AB9001", "ABRS", "rs_shared_in_ab", {"description": "v.1"})
        rec = seed_bib(world, AB, "99AB1", [changed], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_1_new.xml", [rec])
        await sync(world, AB)
        item = world.state.find_item(AB, "AB9001")
        assert item is not None
        item.data["description"] = "v.2"
        others = [Copy("AB9002", "ABRS", "rs_shared_in_ab"), Copy("AB9003", "ABRS", "stacks")]
        fresh = seed_bib(world, AB, "99AB2", others)
        path = world.drop_publishing_file(AB, "AB_2_new.tar.gz", [rec, fresh])
        world.drop_publishing_file(
            AB, "AB_3_delete.xml", [record("99AB1", [changed], nz_id=NZ_SHELF)]
        )
        events_before = await world.events()
        alma_before = scf_snapshot(world)
        world.state.call_log.clear()

        summary = await sync(world, AB, dry_run=True)

        assert summary.dry_run
        assert [(p.barcode, p.result) for p in summary.plan] == [
            ("AB9001", ItemResult.UPDATED),
            ("AB9002", ItemResult.CREATED),
            ("AB9003", ItemResult.SKIPPED),
            ("AB9001", ItemResult.DELETED),
        ]
        assert "description" in summary.plan[0].message
        assert [f.status for f in summary.files] == ["listed", "listed"]
        assert world.remote.kind(path) == "file"  # not claimed
        assert await world.events() == events_before
        assert scf_snapshot(world) == alma_before
        assert {c.method for c in world.state.call_log} == {"GET"}
        assert list((world.bridge.work_dir / AB / "items").glob("dry-run-*")) == []
        assert calls(world, SCF)
