"""The scenario world itself: seeded, files land where the bridge looks, parsers agree."""

from __future__ import annotations

from pathlib import Path

from application.scf.file_batches import FileBatches
from application.shared.ledger_records import TransferKind
from tests.scenarios.world import AB, marc_record, open_world, request_export


async def test_I1_files_dropped_in_the_world_are_claimed_recorded_and_read(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        world.drop_publishing_file(
            AB,
            "AB_20261122_new_1.tar.gz",
            [marc_record("991", [{"b": "AB9001", "c": "ABRS", "l": "rs_shared_in_ab"}])],
        )
        world.drop_request_file(AB, "requests_1.xml", request_export([{"requestId": "77"}]))
        items = FileBatches(
            world.bridge.ledger,
            world.bridge.files,
            world.bridge.work_dir,
            world.bridge.settings.file_server.main_folder,
            AB,
            TransferKind.ITEMS,
        )
        (claimed,) = await items.claim_all()
        assert claimed.record.remote_name == "/alma/01AAA_AB/items/OLD/AB_20261122_new_1.tar.gz"
        local = await items.local_copy(claimed)
        (xml,) = await world.bridge.publishing.unpack(local, tmp_path / "unpacked")
        published = [item async for item in world.bridge.publishing.read_items(xml, AB)]
        assert [p.barcode for p in published] == ["AB9001"]
        await items.finish(claimed, records_total=1, records_failed=0)
        assert await items.claim_all() == []

        requests = FileBatches(
            world.bridge.ledger,
            world.bridge.files,
            world.bridge.work_dir,
            world.bridge.settings.file_server.main_folder,
            AB,
            TransferKind.REQUESTS,
        )
        (request_file,) = await requests.claim_all()
        path = await requests.local_copy(request_file)
        parsed = [r async for r in world.bridge.request_files.read_requests(path)]
        assert [r.request_id for r in parsed] == ["77"]


async def test_I1_a_claim_a_crash_never_recorded_is_found_in_OLD(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        path = world.drop_publishing_file(AB, "lost_new.xml", [marc_record("992", [])])
        world.remote.make_folders(f"{world.folder(AB, 'items')}/OLD")
        world.remote.move(path, f"{world.folder(AB, 'items')}/OLD/lost_new.xml", replace=False)
        (recovered,) = await FileBatches(
            world.bridge.ledger,
            world.bridge.files,
            world.bridge.work_dir,
            world.bridge.settings.file_server.main_folder,
            AB,
            TransferKind.ITEMS,
        ).claim_all()
        assert recovered.name == "lost_new.xml"
        (event,) = await world.events(action="file.claim")
        assert "recovered" in (event.message or "")


async def test_I1_a_failed_download_puts_the_file_back(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        path = world.drop_publishing_file(AB, "flaky_new.xml", [marc_record("993", [])])
        world.remote.fail_reads["flaky_new.xml"] = 100
        assert (
            await FileBatches(
                world.bridge.ledger,
                world.bridge.files,
                world.bridge.work_dir,
                world.bridge.settings.file_server.main_folder,
                AB,
                TransferKind.ITEMS,
            ).claim_all()
            == []
        )
        assert world.remote.kind(path) == "file"
        (event,) = await world.events(action="file.claim")
        assert event.outcome == "failed"
