"""Keeping a mirror in step (I11), deleting it (I12), and the ledger of every outcome (I13)."""

from __future__ import annotations

from pathlib import Path

from tests.scenarios.items.support import (
    NZ_SHELF,
    SCF_PATRON,
    Copy,
    calls,
    item_events,
    lend_to_patron,
    mirror,
    record,
    return_transit_loan,
    row,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, SCF, World, open_world

COPY = Copy("AB9001", "ABRS", "rs_shared_in_ab", {"description": "v.1"})


async def _mirrored(world: World) -> str:
    rec = seed_bib(world, AB, "99AB1", [COPY], nz_id=NZ_SHELF)
    world.drop_publishing_file(AB, "AB_1_new.xml", [rec])
    assert (await sync(world, AB)).created == 1
    return rec


def _member_change(world: World, **fields: str) -> None:
    item = world.state.find_item(AB, "AB9001")
    assert item is not None
    item.data.update(fields)


def _return_transit_loan(world: World) -> None:
    return_transit_loan(world, "AB9001")


async def test_I11_an_unchanged_item_costs_no_SCF_call_and_one_member_call(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        rec = await _mirrored(world)
        world.state.call_log.clear()
        world.drop_publishing_file(AB, "AB_2_new.xml", [rec])
        summary = await sync(world, AB)
        assert summary.unchanged == 1
        assert calls(world, SCF) == []
        assert len(calls(world, AB)) == 1
        events = await item_events(world, AB, "AB9001")
        assert (events[-1].action, events[-1].outcome) == ("item.update", "skipped")


async def test_I11_a_changed_item_is_read_by_its_ids_and_PUT_with_the_member_metadata(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        rec = await _mirrored(world)
        scf_item = mirror(world, "AB9001")
        assert scf_item is not None
        # SCF staff's own fields stay the SCF's (I11).
        scf_item.data["internal_note_1"] = "SCF shelf 12"
        scf_item.data["alternative_call_number"] = "SCF-0001"
        _member_change(world, description="v.1 rev.", internal_note_1="member note")
        world.state.call_log.clear()
        world.drop_publishing_file(AB, "AB_2_new.xml", [rec])
        summary = await sync(world, AB)
        assert summary.updated == 1
        scf_calls = [(c.method, c.path) for c in calls(world, SCF)]
        item_path = (
            f"/almaws/v1/bibs/{scf_item.mms_id}/holdings/{scf_item.holding_id}/items/{scf_item.pid}"
        )
        assert scf_calls == [("GET", item_path), ("PUT", item_path)]
        assert len(calls(world, AB)) == 1
        data = scf_item.data
        assert data["description"] == "v.1 rev."
        assert data["internal_note_1"] == "SCF shelf 12"
        assert data["alternative_call_number"] == "SCF-0001"
        assert data["barcode"] == "AB9001X"
        event = (await item_events(world, AB, "AB9001"))[-1]
        assert (event.action, event.outcome) == ("item.update", "ok")
        assert event.details["changed_fields"] == ["description"]


async def test_I11_a_member_change_nothing_is_copied_from_makes_no_PUT(tmp_path: Path) -> None:
    async with open_world(tmp_path, alma="http") as world:
        rec = await _mirrored(world)
        ledger_row = await row(world, AB, "AB9001")
        # A code-table description is the institution's own wording, not a change (I11).
        item = world.state.find_item(AB, "AB9001")
        assert item is not None
        item.data["physical_material_type"] = {"value": "BOOK", "desc": "Livre"}
        world.state.call_log.clear()
        world.drop_publishing_file(AB, "AB_2_new.xml", [rec])
        assert (await sync(world, AB)).unchanged == 1
        assert [c.method for c in calls(world, SCF)] == ["GET"]
        # The new fingerprint is kept: the next sync asks the SCF nothing.
        new_row = await row(world, AB, "AB9001")
        assert new_row is not None
        assert ledger_row is not None
        assert new_row.fingerprint != ledger_row.fingerprint
        assert new_row.loaned_at == ledger_row.loaned_at


async def test_I11_a_mirror_the_SCF_lost_is_made_again(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        rec = await _mirrored(world)
        _return_transit_loan(world)
        lost = mirror(world, "AB9001")
        assert lost is not None
        world.state.delete_item(SCF, lost.mms_id, lost.holding_id, lost.pid)
        _member_change(world, description="v.1 rev.")
        world.drop_publishing_file(AB, "AB_2_new.xml", [rec])
        assert (await sync(world, AB)).created == 1
        again = mirror(world, "AB9001")
        assert again is not None
        assert again.pid != lost.pid


async def test_I12_a_mirror_on_the_bridges_transit_loan_has_it_returned_then_is_deleted(
    tmp_path: Path,
) -> None:
    """No loan returned by hand: the DELETE is refused as on loan, the loan read is the bridge's
    I10 loan to 01AAA_AB-ABRS, so it is scanned in at the SCF desk and the DELETE made again."""
    async with open_world(tmp_path, alma="http") as world:
        await _mirrored(world)
        scf_item = mirror(world, "AB9001")
        assert scf_item is not None
        world.state.call_log.clear()
        world.drop_publishing_file(AB, "AB_2_delete.xml", [record("99AB1", [COPY], nz_id=NZ_SHELF)])
        summary = await sync(world, AB)
        assert summary.deleted == 1
        assert mirror(world, "AB9001") is None
        item_path = (
            f"/almaws/v1/bibs/{scf_item.mms_id}/holdings/{scf_item.holding_id}/items/{scf_item.pid}"
        )
        scf_calls = [(c.method, c.path, c.status) for c in calls(world, SCF)]
        assert scf_calls[-4:] == [
            ("DELETE", item_path, 400),
            ("GET", item_path + "/loans", 200),
            ("POST", item_path, 200),
            ("DELETE", item_path, 204),
        ]
        scan = calls(world, SCF)[-2]
        assert (scan.param("op"), scan.param("library"), scan.param("circ_desk")) == (
            "scan",
            "RS",
            "DEFAULT_CIRC_DESK",
        )
        (loan,) = world.state.institution(SCF).loans.values()
        assert (loan.user_id, loan.active) == ("01AAA_AB-ABRS", False)
        event = (await item_events(world, AB, "AB9001"))[-1]
        assert (event.action, event.outcome) == ("item.delete", "ok")
        assert (event.message or "").startswith(
            "returned the transit loan of AB9001X to 01AAA_AB-ABRS and deleted AB9001X"
        )
        ledger_row = await row(world, AB, "AB9001")
        assert ledger_row is not None
        assert ledger_row.state == "deleted"


async def test_I12_a_mirror_not_on_loan_costs_one_DELETE_and_no_loan_read(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        await _mirrored(world)
        _return_transit_loan(world)
        world.state.call_log.clear()
        world.drop_publishing_file(AB, "AB_2_delete.xml", [record("99AB1", [COPY], nz_id=NZ_SHELF)])
        assert (await sync(world, AB)).deleted == 1
        writes = [c for c in calls(world, SCF) if c.method != "GET" or c.path.endswith("/loans")]
        assert [(c.method, c.status) for c in writes] == [("DELETE", 204)]
        event = (await item_events(world, AB, "AB9001"))[-1]
        assert (event.message or "").startswith("deleted AB9001X")


async def test_I12_a_mirror_lent_to_a_patron_stays_lent_and_the_delete_fails_with_Almas_message(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        await _mirrored(world)
        lend_to_patron(world, "AB9001")
        world.state.call_log.clear()
        world.drop_publishing_file(AB, "AB_2_delete.xml", [record("99AB1", [COPY], nz_id=NZ_SHELF)])
        summary = await sync(world, AB)
        assert summary.failed == 1
        scf_item = mirror(world, "AB9001")
        assert scf_item is not None
        # Refused, the loan read, and nothing more: no scan-in, no second DELETE.
        assert [(c.method, c.status) for c in calls(world, SCF)][-2:] == [
            ("DELETE", 400),
            ("GET", 200),
        ]
        assert [c.method for c in calls(world, SCF)].count("DELETE") == 1
        assert all(c.method != "POST" for c in calls(world, SCF))
        active = [
            loan.user_id for loan in world.state.institution(SCF).loans.values() if loan.active
        ]
        assert active == [SCF_PATRON]
        event = (await item_events(world, AB, "AB9001"))[-1]
        assert (event.action, event.outcome, event.error_code) == (
            "item.delete",
            "failed",
            "401897",
        )
        assert (event.message or "").startswith("delete item: Item is on loan")
        assert "loan_returned" not in event.details
        assert event.details["scf_item_pid"] == scf_item.pid
        ledger_row = await row(world, AB, "AB9001")
        assert ledger_row is not None
        assert ledger_row.state == "mirrored"
        (report,) = world.reports.rows
        assert report.message.startswith(
            "Failed to handle item AB9001: delete item: Item is on loan"
        )


async def test_I12_a_delete_still_refused_after_the_transit_loan_is_returned_fails_and_says_so(
    tmp_path: Path,
) -> None:
    """A request on the mirror too: the transit loan is returned, the second DELETE is refused
    again; the failure says the loan was returned, and the ledger no longer counts it."""
    async with open_world(tmp_path) as world:
        await _mirrored(world)
        scf_item = mirror(world, "AB9001")
        assert scf_item is not None
        world.state.create_item_request(
            SCF,
            scf_item.mms_id,
            scf_item.holding_id,
            scf_item.pid,
            SCF_PATRON,
            {"request_type": "HOLD", "pickup_location_library": "RS"},
        )
        world.drop_publishing_file(AB, "AB_2_delete.xml", [record("99AB1", [COPY], nz_id=NZ_SHELF)])
        assert (await sync(world, AB)).failed == 1
        assert mirror(world, "AB9001") is not None
        assert not [loan for loan in world.state.institution(SCF).loans.values() if loan.active]
        event = (await item_events(world, AB, "AB9001"))[-1]
        assert (event.outcome, event.error_code) == ("failed", "401897")
        assert (event.message or "").startswith(
            "returned the transit loan of AB9001X to 01AAA_AB-ABRS, "
            "but delete item: Item is on loan"
        )
        assert event.details["loan_returned"] is True
        ledger_row = await row(world, AB, "AB9001")
        assert ledger_row is not None
        assert ledger_row.state == "mirrored"
        assert not ledger_row.in_transit_loan


async def test_I12_a_deletion_of_an_item_the_SCF_never_had_is_skipped(tmp_path: Path) -> None:
    async with open_world(tmp_path, alma="http") as world:
        seed_bib(world, AB, "99AB1", [COPY], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_delete.xml", [record("99AB1", [COPY], nz_id=NZ_SHELF)])
        summary = await sync(world, AB)
        assert summary.skipped == 1
        (event,) = await item_events(world, AB, "AB9001")
        assert event.message == "deleted at the member and not in the SCF"
        assert all(c.method == "GET" for c in calls(world, SCF))


async def test_I13_every_outcome_is_one_event_with_institution_barcode_file_and_Alma_ids(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        rec = await _mirrored(world)  # created
        world.drop_publishing_file(AB, "AB_2_new.xml", [rec])  # unchanged
        await sync(world, AB)
        _member_change(world, description="v.2")
        world.drop_publishing_file(AB, "AB_3_new.xml", [rec])  # updated
        await sync(world, AB)
        delete = record("99AB1", [COPY], nz_id=NZ_SHELF)
        lend_to_patron(world, "AB9001")
        world.drop_publishing_file(AB, "AB_4_delete.xml", [delete])  # failed: on loan to a patron
        await sync(world, AB)
        return_transit_loan(world, "AB9001")  # the patron brings it back
        world.drop_publishing_file(AB, "AB_5_delete.xml", [delete])  # deleted
        await sync(world, AB)
        world.drop_publishing_file(AB, "AB_6_delete.xml", [delete])  # skipped: already gone
        await sync(world, AB)
        events = await item_events(world, AB, "AB9001")
        assert [e.details["result"] for e in events] == [
            "created",
            "unchanged",
            "updated",
            "failed",
            "deleted",
            "skipped",
        ]
        file_ids = [e.file_id for e in events]
        assert len(set(file_ids)) == 6
        assert None not in file_ids
        for event in events[:5]:
            assert event.institution == AB
            assert event.barcode == "AB9001"
            assert {"scf_mms_id", "scf_holding_id", "scf_item_pid"} <= set(event.details)
        final = await row(world, AB, "AB9001")
        assert final is not None
        assert final.state == "deleted"
