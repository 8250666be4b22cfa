"""Reconciling mirrors: every drift kind of an item is found without a write and repaired by
`fix` through the syncs' services; a second `fix` run finds nothing (issue 7, I5-I13, N1-N3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.scf.items.mirror_creation import NO_ITEM_ID_YET
from application.shared.ledger_records import MirrorState
from domain.scf.reconciliation import FindingKind
from tests.scenarios.items.support import (
    NZ_SHELF,
    Copy,
    item_events,
    record,
    row,
    seed_bib,
    sync,
)
from tests.scenarios.reconcile.support import (
    COPIES,
    LEDGERS,
    MEMBER_BIB,
    SYSTEM_USER,
    active_loans,
    change_member_barcode,
    delete_member_item,
    fix_then_clean,
    kinds,
    mirrored_world,
    move_member_item,
    only,
    plan_without_writes,
    reconcile,
    reconcile_events,
    return_loan_by_hand,
    scf_item,
)
from tests.scenarios.world import AB, SCF, LedgerKind, World, example_settings, open_world

pytestmark = pytest.mark.parametrize("ledger", LEDGERS)


async def test_I13_a_freshly_synced_member_reconciles_clean_with_reads_only(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        report = await plan_without_writes(world)
        assert report.entries == ()
        assert report.clean
        assert report.items_checked == 2
        (event,) = await world.events(action="reconcile.run")
        assert (event.outcome, event.details["fix"]) == ("ok", False)


async def test_I6_I9_an_SCF_item_deleted_by_hand_is_a_missing_mirror_made_again(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        lost = scf_item(world, "AB7001")
        world.state.delete_item(SCF, lost.mms_id, lost.holding_id, lost.pid, override=True)
        plan = await plan_without_writes(world)
        only(plan, FindingKind.MISSING_MIRROR, "AB7001")
        assert world.state.find_item(SCF, "AB7001X") is None  # a plan changes nothing

        await fix_then_clean(world)
        again = scf_item(world, "AB7001")
        assert again.pid != lost.pid
        assert again.data["description"] == "v.1"
        assert active_loans(world, again) == [SYSTEM_USER]  # I10
        mirror_row = await row(world, AB, "AB7001")
        assert mirror_row is not None
        assert (mirror_row.state, mirror_row.scf_item_pid) == (MirrorState.MIRRORED, again.pid)
        assert mirror_row.in_transit_loan
        actions = [(e.action, e.outcome) for e in await item_events(world, AB, "AB7001")]
        assert actions[-2:] == [("item.create", "ok"), ("reconcile.missing_mirror", "ok")]


async def test_I11_a_description_changed_in_the_SCF_is_drift_PUT_back(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        edited = scf_item(world, "AB7002")
        edited.data["description"] = "typo by hand"
        edited.data["internal_note_1"] = "SCF shelf 9"  # the SCF's own field: not drift (I11)
        plan = await plan_without_writes(world)
        only(plan, FindingKind.DRIFT, "AB7002")
        assert plan.entries[0].finding.changed_fields == ("description",)

        await fix_then_clean(world)
        assert scf_item(world, "AB7002").data["description"] == "v.2"
        assert scf_item(world, "AB7002").data["internal_note_1"] == "SCF shelf 9"
        update, repair = (await item_events(world, AB, "AB7002"))[-2:]
        assert (update.action, update.details["changed_fields"]) == ("item.update", ["description"])
        assert (repair.action, repair.outcome) == ("reconcile.drift", "ok")


async def test_I10_a_transit_loan_returned_by_hand_is_a_missing_loan_lent_again(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        return_loan_by_hand(world, "AB7001")
        assert active_loans(world, scf_item(world, "AB7001")) == []
        plan = await plan_without_writes(world)
        only(plan, FindingKind.MISSING_LOAN, "AB7001")

        await fix_then_clean(world)
        assert active_loans(world, scf_item(world, "AB7001")) == [SYSTEM_USER]
        mirror_row = await row(world, AB, "AB7001")
        assert mirror_row is not None
        assert mirror_row.in_transit_loan
        (event,) = await reconcile_events(world)
        assert (event.action, event.barcode, event.details["user_id"]) == (
            "reconcile.missing_loan",
            "AB7001",
            SYSTEM_USER,
        )


async def test_N3_a_mirror_lent_to_another_system_user_is_a_wrong_loan_lent_again(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        return_loan_by_hand(world, "AB7002")
        wrong = scf_item(world, "AB7002")
        world.state.create_loan(
            SCF, "01AAA_CD-CDRS", item_pid=wrong.pid, circ_desk="DEFAULT_CIRC_DESK", library="RS"
        )
        plan = await plan_without_writes(world)
        only(plan, FindingKind.WRONG_LOAN, "AB7002")
        assert "01AAA_CD-CDRS" in plan.entries[0].finding.message

        await fix_then_clean(world)
        assert active_loans(world, scf_item(world, "AB7002")) == [SYSTEM_USER]


async def test_I10_a_loan_the_SCF_ended_for_its_own_work_is_only_recorded(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        # Staff returned the loan and the item went on its way to a hold shelf: lending it
        # again would take it out of their workflow, so only the ledger is corrected (R7).
        return_loan_by_hand(world, "AB7001")
        scf_item(world, "AB7001").data["process_type"] = {"value": "TRANSIT", "desc": "Transit"}
        plan = await plan_without_writes(world)
        only(plan, FindingKind.LEDGER_STALE, "AB7001")
        world.state.call_log.clear()
        await fix_then_clean(world)
        assert [c for c in world.state.call_log if c.method != "GET"] == []
        mirror_row = await row(world, AB, "AB7001")
        assert mirror_row is not None
        assert not mirror_row.in_transit_loan


async def test_member_barcode_change_moves_the_mirror_keeping_its_loan(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        member = change_member_barcode(world, "AB7001", "AB7001-NEW")
        kept = scf_item(world, "AB7001")
        plan = await plan_without_writes(world)
        only(plan, FindingKind.BARCODE_CHANGED, "AB7001")
        assert plan.entries[0].finding.new_barcode == "AB7001-NEW"

        await fix_then_clean(world)
        assert world.state.find_item(SCF, "AB7001X") is None
        moved = scf_item(world, "AB7001-NEW")
        assert moved.pid == kept.pid  # the same SCF item: its loan and requests stay
        assert active_loans(world, moved) == [SYSTEM_USER]
        old_row, new_row = await row(world, AB, "AB7001"), await row(world, AB, "AB7001-NEW")
        assert old_row is not None
        assert new_row is not None
        assert old_row.state is MirrorState.DELETED
        assert (new_row.state, new_row.scf_item_pid) == (MirrorState.MIRRORED, kept.pid)
        assert new_row.member_item_pid == member.pid
        assert new_row.in_transit_loan
        # The next items sync sees the new barcode as mirrored and unchanged.
        world.drop_publishing_file(
            AB, "AB_2_new.xml", [record(MEMBER_BIB, [_renamed(COPIES[0])], nz_id=NZ_SHELF)]
        )
        summary = await sync(world, AB)
        assert (summary.created, summary.unchanged) == (0, 1)


async def test_member_barcode_change_and_a_loan_returned_by_hand_are_repaired_in_one_run(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        change_member_barcode(world, "AB7002", "AB7002-NEW")
        return_loan_by_hand(world, "AB7002")
        plan = await plan_without_writes(world)
        assert kinds(plan) == [("barcode_changed", "AB7002"), ("missing_loan", "AB7002-NEW")]

        await fix_then_clean(world)
        moved = scf_item(world, "AB7002-NEW")
        assert active_loans(world, moved) == [SYSTEM_USER]
        new_row = await row(world, AB, "AB7002-NEW")
        assert new_row is not None
        assert new_row.in_transit_loan


async def test_member_barcode_change_after_a_sync_deletes_the_mirror_left_behind(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        member = change_member_barcode(world, "AB7001", "AB7001-NEW")
        world.drop_publishing_file(
            AB, "AB_2_new.xml", [record(MEMBER_BIB, [_renamed(COPIES[0])], nz_id=NZ_SHELF)]
        )
        assert (await sync(world, AB)).created == 1  # the Java app's duplicate (research §13)
        plan = await plan_without_writes(world)
        only(plan, FindingKind.BARCODE_CHANGED, "AB7001")

        await fix_then_clean(world)
        assert world.state.find_item(SCF, "AB7001X") is None
        scf_copies = [
            item
            for item in world.state.institution(SCF).items.values()
            if item.barcode in ("AB7001X", "AB7001-NEWX")
        ]
        assert [item.barcode for item in scf_copies] == ["AB7001-NEWX"]
        assert world.state.item_by_pid(AB, member.pid) is not None


async def test_I12_a_member_item_moved_out_of_remote_storage_leaves_an_orphan_deleted(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        move_member_item(world, "AB7002", "stacks")
        plan = await plan_without_writes(world)
        only(plan, FindingKind.ORPHAN_MIRROR, "AB7002")
        assert "stacks" in plan.entries[0].finding.message
        assert "scan" in plan.entries[0].finding.plan  # on its transit loan: scanned in first

        await fix_then_clean(world)
        assert world.state.find_item(SCF, "AB7002X") is None
        mirror_row = await row(world, AB, "AB7002")
        assert mirror_row is not None
        assert mirror_row.state is MirrorState.DELETED
        actions = [(e.action, e.outcome) for e in await item_events(world, AB, "AB7002")]
        assert actions[-2:] == [("item.delete", "ok"), ("reconcile.orphan_mirror", "ok")]


async def test_I12_a_member_item_deleted_leaves_an_orphan_deleted(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        delete_member_item(world, "AB7001")
        plan = await plan_without_writes(world)
        only(plan, FindingKind.ORPHAN_MIRROR, "AB7001")
        assert "gone" in plan.entries[0].finding.message

        await fix_then_clean(world)
        assert world.state.find_item(SCF, "AB7001X") is None
        assert world.state.find_item(SCF, "AB7002X") is not None


async def test_I6_ignore_delete_files_keeps_an_orphan_and_reports_nothing(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    settings = example_settings(ignore_delete_files="true")
    async with open_world(tmp_path, ledger=ledger, alma="http", settings=settings) as world:
        rec = seed_bib(world, AB, MEMBER_BIB, COPIES, nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_1_new.xml", [rec])
        assert (await sync(world, AB)).created == 2
        delete_member_item(world, "AB7001")
        plan = await plan_without_writes(world)
        assert plan.entries == ()


async def test_a_failed_repair_is_recorded_failed_and_the_run_goes_on(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        delete_member_item(world, "AB7001")
        scf_item(world, "AB7002").data["description"] = "by hand"
        # An active request on the orphan: Alma refuses to delete it (I12).
        orphan = scf_item(world, "AB7001")
        world.state.create_item_request(
            SCF, orphan.mms_id, orphan.holding_id, orphan.pid, SYSTEM_USER, {"request_type": "HOLD"}
        )
        report = await reconcile(world, fix=True)
        assert kinds(report) == [("orphan_mirror", "AB7001"), ("drift", "AB7002")]
        failed, repaired = report.entries
        assert failed.result is not None
        assert (failed.result.outcome, failed.result.error_code) == ("failed", "401897")
        assert repaired.settled
        assert not report.clean
        events = await reconcile_events(world)
        assert [(e.action, e.outcome) for e in events] == [
            ("reconcile.orphan_mirror", "failed"),
            ("reconcile.drift", "ok"),
        ]
        # The scan-in ended the transit loan, and the ledger says so (R7 no longer waits on it).
        mirror_row = await row(world, AB, "AB7001")
        assert mirror_row is not None
        assert not mirror_row.in_transit_loan
        (run,) = [e for e in await world.events(action="reconcile.run") if e.details["fix"]]
        assert run.outcome == "failed"


def _renamed(copy: Copy) -> Copy:
    return Copy(f"{copy.barcode}-NEW", copy.library, copy.location, copy.fields)


async def _pending(world: World, barcode: str) -> None:
    """The ledger row as a crash leaves it between recording a mirror and creating it: owed
    its loan, no SCF pid yet (mirror_creation's write-ahead row)."""
    mirror_row = await row(world, AB, barcode)
    assert mirror_row is not None
    async with world.ledger.unit_of_work() as uow:
        await uow.items.upsert(
            AB,
            barcode,
            scf_mms_id=mirror_row.scf_mms_id,
            scf_holding_id=mirror_row.scf_holding_id,
            scf_item_pid=NO_ITEM_ID_YET,
            member_mms_id=mirror_row.member_mms_id,
            nz_mms_id=mirror_row.nz_mms_id,
            member_item_pid=mirror_row.member_item_pid,
            fingerprint=mirror_row.fingerprint,
            state=MirrorState.CREATING,
        )
        await uow.commit()


async def test_I10_a_crash_after_creating_before_lending_is_one_missing_loan_lent_in_one_run(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        created = scf_item(world, "AB7001")
        return_loan_by_hand(world, "AB7001")  # the loan was never made
        await _pending(world, "AB7001")
        plan = await plan_without_writes(world)
        only(plan, FindingKind.MISSING_LOAN, "AB7001")

        await fix_then_clean(world)
        assert active_loans(world, scf_item(world, "AB7001")) == [SYSTEM_USER]
        mirror_row = await row(world, AB, "AB7001")
        assert mirror_row is not None
        assert (mirror_row.state, mirror_row.scf_item_pid) == (MirrorState.MIRRORED, created.pid)
        assert mirror_row.in_transit_loan


async def test_I10_a_crash_before_creating_is_a_missing_mirror_made_in_one_run(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        gone = scf_item(world, "AB7002")
        return_loan_by_hand(world, "AB7002")
        world.state.delete_item(SCF, gone.mms_id, gone.holding_id, gone.pid, override=True)
        await _pending(world, "AB7002")
        plan = await plan_without_writes(world)
        only(plan, FindingKind.MISSING_MIRROR, "AB7002")

        await fix_then_clean(world)
        made = scf_item(world, "AB7002")
        assert active_loans(world, made) == [SYSTEM_USER]
        mirror_row = await row(world, AB, "AB7002")
        assert mirror_row is not None
        assert (mirror_row.state, mirror_row.scf_item_pid) == (MirrorState.MIRRORED, made.pid)
