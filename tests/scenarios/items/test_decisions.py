"""What a published item asks of its mirror: I3 (no barcode), I5 (exact remote-storage location),
I6 (the create / update / delete / nothing table)."""

from __future__ import annotations

from pathlib import Path

from tests.scenarios.items.support import (
    NZ_COLD,
    NZ_SHELF,
    Copy,
    item_events,
    mirror,
    record,
    row,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, CD, SCF, example_settings, marc_record, open_world


async def test_I3_an_ITM_without_barcode_is_a_skipped_event(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        rec = marc_record("99AB1", [{"c": "ABRS", "l": "rs_shared_in_ab"}], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        summary = await sync(world, AB)
        assert summary.skipped == 1
        (event,) = await world.events(action="item.skip")
        assert (event.outcome, event.barcode) == ("skipped", None)
        assert "no barcode" in (event.message or "")
        assert event.details["member_mms_id"] == "99AB1"


async def test_I5_a_location_that_is_only_a_substring_of_a_remote_storage_location_is_not_mirrored(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        near_misses = [
            Copy("CD7001", "CDRS", "rs_shared"),  # a prefix of rs_shared_1
            Copy("CD7002", "CDRS", "1"),  # Java's JSON-text contains() matched this too
            Copy("CD7003", "CDMAIN", "rs_shared_1"),  # right location, unconfigured library
        ]
        world.state.add_location(CD, "CDRS", "rs_shared")
        world.state.add_location(CD, "CDRS", "1")
        world.state.add_library(CD, "CDMAIN")
        world.state.add_location(CD, "CDMAIN", "rs_shared_1")
        rec = seed_bib(world, CD, "99CD1", near_misses, nz_id=NZ_COLD)
        world.drop_publishing_file(CD, "CD_new.xml", [rec])
        summary = await sync(world, CD)
        assert (summary.skipped, summary.created) == (3, 0)
        assert all(mirror(world, c.barcode) is None for c in near_misses)
        for copy in near_misses:
            (event,) = await item_events(world, CD, copy.barcode)
            assert event.message == "not in remote storage and not in the SCF"


async def test_I5_an_exact_remote_storage_location_is_mirrored(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, CD, "99CD1", [Copy("CD7001", "CDRS", "rs_shared_2")], nz_id=NZ_COLD)
        world.drop_publishing_file(CD, "CD_new.xml", [rec])
        assert (await sync(world, CD)).created == 1


async def test_I6_present_and_no_longer_in_remote_storage_is_deleted(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        copy = Copy("AB9001", "ABRS", "rs_shared_in_ab")
        world.drop_publishing_file(AB, "AB_1_new.xml", [seed_bib(world, AB, "99AB1", [copy])])
        await sync(world, AB)  # the mirror stays on its transit loan (I10): returned on delete
        moved = Copy("AB9001", "ABRS", "stacks")
        world.drop_publishing_file(AB, "AB_2_new.xml", [record("99AB1", [moved])])
        summary = await sync(world, AB)
        assert summary.deleted == 1
        assert mirror(world, "AB9001") is None
        mirrored = await row(world, AB, "AB9001")
        assert mirrored is not None
        assert mirrored.state == "deleted"


async def test_I6_present_outside_remote_storage_is_kept_with_ignore_delete_files(
    tmp_path: Path,
) -> None:
    settings = example_settings(ignore_delete_files="true")
    async with open_world(tmp_path, settings=settings) as world:
        copy = Copy("AB9001", "ABRS", "rs_shared_in_ab")
        world.drop_publishing_file(AB, "AB_1_new.xml", [seed_bib(world, AB, "99AB1", [copy])])
        await sync(world, AB)
        moved = Copy("AB9001", "ABRS", "stacks")
        world.drop_publishing_file(AB, "AB_2_new.xml", [record("99AB1", [moved])])
        summary = await sync(world, AB)
        assert summary.skipped == 1
        assert mirror(world, "AB9001") is not None
        events = await item_events(world, AB, "AB9001")
        assert "ignore_delete_files" in (events[-1].message or "")


async def test_I6_an_existing_mirror_the_ledger_never_saw_is_updated_not_duplicated(
    tmp_path: Path,
) -> None:
    """A mirror the Java app made: found through the SCF bib's items, adopted, updated."""
    async with open_world(tmp_path) as world:
        copy = Copy("AB9001", "ABRS", "rs_shared_in_ab", {"description": "v.2"})
        rec = seed_bib(world, AB, "99AB1", [copy], nz_id=NZ_SHELF)
        bib = world.state.create_bib_from_nz("01AAA_RS", NZ_SHELF)
        holding = world.state.create_holding(
            "01AAA_RS", bib.mms_id, library="RS", location="rs_shared"
        )
        world.state.create_item(
            "01AAA_RS",
            bib.mms_id,
            holding.holding_id,
            {"item_data": {"barcode": "AB9001X", "description": "v.1"}},
        )
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        summary = await sync(world, AB)
        assert (summary.updated, summary.created) == (1, 0)
        scf_item = mirror(world, "AB9001")
        assert scf_item is not None
        assert scf_item.data["description"] == "v.2"
        mirrored = await row(world, AB, "AB9001")
        assert mirrored is not None
        assert mirrored.scf_item_pid == scf_item.pid


async def test_I6_a_mirror_under_another_SCF_bib_is_adopted_when_Alma_refuses_a_second(
    tmp_path: Path,
) -> None:
    """The ledger and the NZ bib's items say `{b}X` is absent, but Alma has it elsewhere."""
    async with open_world(tmp_path, alma="http") as world:
        copy = Copy("AB9001", "ABRS", "rs_shared_in_ab", {"description": "v.2"})
        rec = seed_bib(world, AB, "99AB1", [copy], nz_id=NZ_SHELF)
        stray = world.state.create_bib(SCF, title="A stray duplicate")
        holding = world.state.create_holding(SCF, stray.mms_id, library="RS", location="rs_shared")
        world.state.create_item(
            SCF, stray.mms_id, holding.holding_id, {"item_data": {"barcode": "AB9001X"}}
        )
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        summary = await sync(world, AB)
        assert (summary.updated, summary.created, summary.failed) == (1, 0, 0)
        scf_items = [i for i in world.state.institution(SCF).items.values()]
        assert [i.barcode for i in scf_items] == ["AB9001X"]
        assert scf_items[0].data["description"] == "v.2"
        mirrored = await row(world, AB, "AB9001")
        assert mirrored is not None
        assert mirrored.scf_mms_id == stray.mms_id
