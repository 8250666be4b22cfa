"""Items sync files: claimed, recorded, resumed (I1); unpacked apart, failures isolated (I2);
delete files (I4)."""

from __future__ import annotations

from pathlib import Path

from application.scf.file_batches import FileBatches
from application.scf.items.item_outcomes import ItemResult
from application.shared.ledger_records import TransferKind, TransferStatus
from tests.scenarios.items.support import (
    NZ_SHELF,
    Copy,
    item_events,
    mirror,
    record,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, example_settings, open_world, tar_gz

RS = Copy("AB9001", "ABRS", "rs_shared_in_ab")


async def test_I1_files_are_claimed_into_OLD_recorded_and_finished(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, AB, "99AB1", [RS], nz_id=NZ_SHELF)
        path = world.drop_publishing_file(AB, "AB_20261122_new_1.tar.gz", [rec])
        summary = await sync(world, AB)
        assert summary.created == 1
        assert world.remote.kind(path) is None
        assert world.remote.kind(f"{world.folder(AB, 'items')}/OLD/AB_20261122_new_1.tar.gz")
        async with world.ledger.unit_of_work() as uow:
            assert await uow.files.list_unfinished(AB, TransferKind.ITEMS) == []
        (finish,) = await world.events(action="file.finish")
        assert finish.message == "AB_20261122_new_1.tar.gz: 1 records, 0 failed"
        (event,) = await item_events(world, AB, "AB9001")
        assert event.file_id == finish.file_id


async def test_I1_a_file_a_crash_left_unfinished_is_processed_again(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, AB, "99AB1", [RS], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        # A crash after the claim: recorded, never finished, local copy lost.
        (claimed,) = await FileBatches(
            world.bridge.ledger,
            world.bridge.files,
            world.bridge.work_dir,
            world.bridge.settings.file_server.main_folder,
            AB,
            TransferKind.ITEMS,
        ).claim_all()
        claimed.local_path.unlink()
        summary = await sync(world, AB)
        assert [(f.name, f.status) for f in summary.files] == [("AB_new.xml", "done")]
        assert summary.created == 1
        assert mirror(world, "AB9001") is not None


async def test_I1_I2_a_corrupt_file_fails_with_its_reason_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, AB, "99AB1", [RS], nz_id=NZ_SHELF)
        folder = world.folder(AB, "items")
        world.remote.put(f"{folder}/AB_1_new.tar.gz", b"this is not a gzip file")
        world.drop_publishing_file(AB, "AB_2_new.xml", ["<record><broken"])
        world.drop_publishing_file(AB, "AB_3_new.tar.gz", [rec])
        summary = await sync(world, AB)
        assert [(f.name, f.status) for f in summary.files] == [
            ("AB_1_new.tar.gz", "failed"),
            ("AB_2_new.xml", "failed"),
            ("AB_3_new.tar.gz", "done"),
        ]
        assert all(f.failure_reason for f in summary.files[:2])
        assert mirror(world, "AB9001") is not None
        async with world.ledger.unit_of_work() as uow:
            records = [await uow.files.get(i) for i in (1, 2, 3)]
        assert [r.status for r in records if r] == [
            TransferStatus.FAILED,
            TransferStatus.FAILED,
            TransferStatus.DONE,
        ]
        assert all("Failed to handle file" in r.message for r in world.reports.rows)


async def test_I2_two_archives_with_same_member_name_do_not_overwrite_each_other(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        first = seed_bib(world, AB, "99AB1", [RS], nz_id=NZ_SHELF)
        second = seed_bib(world, AB, "99AB2", [Copy("AB9002", "ABRS", "rs_shared_in_ab")])
        folder = world.folder(AB, "items")
        for name, rec in (("AB_new_1.tar.gz", first), ("AB_new_2.tar.gz", second)):
            xml = f"<collection>{rec}</collection>".encode()
            world.remote.put(f"{folder}/{name}", tar_gz({"AB_new.xml": xml}))
        summary = await sync(world, AB)
        assert summary.created == 2


async def test_I1_files_in_name_order_and_one_barcode_in_file_order(tmp_path: Path) -> None:
    """The same barcode created in one file, then deleted, then created again by later files."""
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, AB, "99AB1", [RS], nz_id=NZ_SHELF)
        world.state.find_item(AB, "AB9001")  # exists at the member
        world.drop_publishing_file(AB, "AB_20261122_1_new.xml", [rec])
        world.drop_publishing_file(
            AB, "AB_20261122_2_delete.xml", [record("99AB1", [RS], nz_id=NZ_SHELF)]
        )
        world.drop_publishing_file(AB, "AB_20261122_3_new.xml", [rec])
        summary = await sync(world, AB)
        results = [e.details["result"] for e in await item_events(world, AB, "AB9001")]
        # The new mirror's transit loan (I10) is returned before it is deleted (I12).
        assert results == ["created", "deleted", "created"]
        assert [f.records_failed for f in summary.files] == [0, 0, 0]


async def test_I4_delete_file_deletes_the_mirror(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, AB, "99AB1", [RS], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        await sync(world, AB)
        world.drop_publishing_file(AB, "AB_20261123_Delete.tar.gz", [rec])
        summary = await sync(world, AB)
        assert summary.deleted == 1
        assert mirror(world, "AB9001") is None
        events = await item_events(world, AB, "AB9001")
        assert (events[-1].action, events[-1].outcome) == ("item.delete", "ok")


async def test_I4_with_ignore_delete_files_a_delete_file_is_recorded_and_skipped(
    tmp_path: Path,
) -> None:
    settings = example_settings(ignore_delete_files="true")
    async with open_world(tmp_path, settings=settings) as world:
        rec = seed_bib(world, AB, "99AB1", [RS], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        await sync(world, AB)
        world.drop_publishing_file(AB, "AB_1_delete.tar.gz", [rec])
        summary = await sync(world, AB)
        assert summary.files[0].status == "done"
        assert summary.total == 0
        assert mirror(world, "AB9001") is not None
        (skip,) = await world.events(action="file.skip")
        assert "ignore_delete_files" in (skip.message or "")


async def test_I4_a_record_alma_marks_deleted_in_an_update_file_is_a_deletion(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, AB, "99AB1", [RS], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        await sync(world, AB)
        gone = record("99AB1", [RS], nz_id=NZ_SHELF, deleted=True)
        world.drop_publishing_file(AB, "AB_2_new.xml", [gone])
        summary = await sync(world, AB)
        # A delete, though the file holds updates (its transit loan returned first, I12).
        last = (await item_events(world, AB, "AB9001"))[-1]
        assert (last.action, last.outcome) == ("item.delete", "ok")
        assert summary.count(ItemResult.DELETED) == 1
        assert mirror(world, "AB9001") is None
