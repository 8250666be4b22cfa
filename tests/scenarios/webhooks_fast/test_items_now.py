"""A member's ITEM_CREATED / ITEM_UPDATED / ITEM_DELETED mirrored now (rules W7, I6–I12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from application.shared.ledger_records import MirrorState, Outcome
from domain.scf.member_webhooks import ItemChanged
from domain.scf.webhooks import Skipped, classify_webhook
from tests.scenarios.items.support import (
    AB_RS,
    NZ_BARCODES,
    Copy,
    calls,
    item_events,
    mirror,
    row,
    seed_bib,
    sync,
)
from tests.scenarios.webhooks_fast.support import ITEM_SAMPLE, delete, deliver, item_event, move
from tests.scenarios.world import AB, SCF, LedgerKind, World, example_settings, open_world

NEW = Copy("AB0100", AB_RS["c"], AB_RS["l"], {"description": "v.1"})
BIB = "99100000000004101"
LOCAL_BIB = "99100000100004101"


def test_W7_the_real_sample_is_a_member_item_change_only_from_a_member() -> None:
    consortium = example_settings().consortium
    assert isinstance(classify_webhook(ITEM_SAMPLE.read_bytes(), consortium), Skipped)
    document = json.loads(ITEM_SAMPLE.read_text())
    document["institution"]["value"] = AB
    event = classify_webhook(json.dumps(document).encode(), consortium)
    assert event == ItemChanged(
        institution=AB,
        event="ITEM_UPDATED",
        barcode="31194012235259",
        mms_id="99170789173604102",
        holding_id="22428694200004102",
        item_pid="23428694190004102",
        webhook_id="67418558919233558",
    )


async def _created(world: World, nz_id: str | None = NZ_BARCODES, mms_id: str = BIB) -> str:
    """Seed AB0100 in AB's remote storage and deliver its ITEM_CREATED; the published record."""
    record = seed_bib(world, AB, mms_id, [NEW], nz_id=nz_id)
    item = world.state.item_by_barcode(AB, NEW.barcode)
    handled = await deliver(world, item_event(AB, "ITEM_CREATED", item))
    assert handled.outcome is Outcome.OK, handled.message
    assert handled.details is not None
    assert handled.details["result"] == "created"
    return record


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_W7_I11_created_now_and_the_nightly_copy_costs_no_scf_call(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger, alma="http") as world:
        record = await _created(world)

        scf_copy = mirror(world, NEW.barcode)
        assert scf_copy is not None
        assert scf_copy.data["description"] == "v.1"
        assert world.state.find_bibs(SCF, nz_mms_id=NZ_BARCODES)  # I7 by the NZ id
        mirrored = await row(world, AB, NEW.barcode)
        assert mirrored is not None
        assert mirrored.state is MirrorState.MIRRORED
        created = [
            e for e in await item_events(world, AB, NEW.barcode) if e.action == "item.create"
        ]
        assert [e.details["via"] for e in created] == ["webhook"]

        before = len(calls(world, SCF))
        world.drop_publishing_file(AB, "ab_new_1.xml", [record])
        summary = await sync(world, AB)
        assert summary.total == 1
        assert len(calls(world, SCF)) == before  # I11 fingerprint: 0 SCF calls
        last = (await item_events(world, AB, NEW.barcode))[-1]
        assert last.action == "item.update"
        assert "via" not in last.details


async def test_W7_I7_a_local_bib_is_read_from_the_member_only_to_create(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        await _created(world, nz_id=None, mms_id=LOCAL_BIB)
        (bib,) = world.state.find_bibs(SCF, other_system_id=f"({AB}){LOCAL_BIB}")
        assert mirror(world, NEW.barcode) is not None
        assert bib.mms_id == mirror(world, NEW.barcode).mms_id  # type: ignore[union-attr]


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_W7_I11_an_update_in_remote_storage_is_mirrored_now(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        await _created(world)
        item = world.state.item_by_barcode(AB, NEW.barcode)
        item.data["description"] = "v.1 rebound"

        handled = await deliver(world, item_event(AB, "ITEM_UPDATED", item), inbox_id=2)

        assert handled.outcome is Outcome.OK, handled.message
        scf_copy = mirror(world, NEW.barcode)
        assert scf_copy is not None
        assert scf_copy.data["description"] == "v.1 rebound"


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_W7_I6_I12_moved_out_of_remote_storage_deletes_the_mirror(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        await _created(world)  # still on its I10 transit loan: returned on delete (I12)
        item = move(world, AB, NEW.barcode, "stacks")

        handled = await deliver(world, item_event(AB, "ITEM_UPDATED", item), inbox_id=2)

        assert handled.outcome is Outcome.OK, handled.message
        returned = f"returned the transit loan of {NEW.barcode}X to 01AAA_AB-ABRS and deleted"
        assert returned in handled.message
        assert mirror(world, NEW.barcode) is None
        mirrored = await row(world, AB, NEW.barcode)
        assert mirrored is not None
        assert mirrored.state is MirrorState.DELETED


@pytest.mark.parametrize("ignore", [False, True])
async def test_W7_I4_I12_deleted_honours_ignore_delete_files(tmp_path: Path, ignore: bool) -> None:
    settings = example_settings(ignore_delete_files=str(ignore).lower())
    async with open_world(tmp_path, settings=settings) as world:
        await _created(world)  # still on its I10 transit loan: returned on delete (I12)
        item = delete(world, AB, NEW.barcode)

        handled = await deliver(world, item_event(AB, "ITEM_DELETED", item), inbox_id=2)

        assert (mirror(world, NEW.barcode) is not None) is ignore
        assert handled.outcome is (Outcome.SKIPPED if ignore else Outcome.OK), handled.message
        last = (await item_events(world, AB, NEW.barcode))[-1]
        assert last.action == ("item.skip" if ignore else "item.delete")
        assert last.details["via"] == "webhook"


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_W7_an_update_after_the_delete_ends_in_alma_state(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        await _created(world)  # still on its I10 transit loan: returned on delete (I12)
        stale = item_event(AB, "ITEM_UPDATED", world.state.item_by_barcode(AB, NEW.barcode))
        item = delete(world, AB, NEW.barcode)
        await deliver(world, item_event(AB, "ITEM_DELETED", item), inbox_id=2)

        handled = await deliver(world, stale, inbox_id=3)  # Alma sent it first; it came last

        assert mirror(world, NEW.barcode) is None  # Alma has no item: it stays deleted
        assert handled.outcome is Outcome.SKIPPED, handled.message
        mirrored = await row(world, AB, NEW.barcode)
        assert mirrored is not None
        assert mirrored.state is MirrorState.DELETED


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_W7_an_update_before_the_create_ends_in_alma_state(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger, alma="http") as world:
        seed_bib(world, AB, BIB, [NEW], nz_id=NZ_BARCODES)
        item = world.state.item_by_barcode(AB, NEW.barcode)

        first = await deliver(world, item_event(AB, "ITEM_UPDATED", item), inbox_id=1)
        assert first.outcome is Outcome.OK, first.message
        assert mirror(world, NEW.barcode) is not None

        before = len(calls(world, SCF))
        late = await deliver(world, item_event(AB, "ITEM_CREATED", item), inbox_id=2)
        assert late.details is not None
        assert late.details["result"] == "unchanged", late.message
        assert len(calls(world, SCF)) == before
        assert len(world.state.requests_of(SCF, active=None)) == 0
        assert (
            len(
                [
                    i
                    for i in world.state.institution(SCF).items.values()
                    if i.barcode == NEW.barcode + "X"
                ]
            )
            == 1
        )


async def test_W7_an_item_neither_in_remote_storage_nor_mirrored_costs_no_scf_call(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        item = world.state.item_by_barcode(AB, "AB0004")  # AB stacks
        before = len(calls(world, SCF))

        handled = await deliver(world, item_event(AB, "ITEM_UPDATED", item))

        assert handled.outcome is Outcome.SKIPPED
        assert "not in remote storage" in handled.message
        assert len(calls(world, SCF)) == before
        (skipped,) = await world.events(action="item.skip")
        assert skipped.details["via"] == "webhook"
