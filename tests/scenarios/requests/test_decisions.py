"""When a request is forwarded, waits or is cancelled, and exactly how (rules R7, R8)."""

from __future__ import annotations

from pathlib import Path

from application.shared.ledger_records import RequestStatus
from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.requests.support import (
    forward,
    loan_scf_copy,
    member_item_request,
    member_title_request,
    mirror,
    record_mirror,
    scf_requests,
)
from tests.scenarios.world import AB, World, open_world, request_export

NOT_FULFILLED = ("CannotBeFulfilled", "Request could not be fulfilled by the SCF.", True)
ON_LOAN = ("CannotBeFulfilled", "Item is on loan", None)


def _export(*requests: dict[str, object]) -> bytes:
    return request_export(requests)


def _hold(request_id: str, barcode: str) -> dict[str, object]:
    return {"requestId": request_id, "requestType": "PATRON_PHYSICAL", "barcode": barcode}


def _cancelled(world: World, request_id: str) -> tuple[object, ...]:
    request = world.state.request(AB, request_id)
    assert not request.active
    return request.cancel_reason, request.cancel_note, request.notify_user


async def test_R7_R8_an_scf_copy_on_a_foreign_loan_cancels_item_is_on_loan(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        await record_mirror(world, AB, "AB0002", scf_item)  # mirrored, the bridge made no loan
        loan_scf_copy(world, scf_item, user="01AAA_CD-CDRS")
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        summary = await forward(world, AB, _hold(source.request_id, "AB0002"))
        assert summary.cancelled == 1
        assert scf_requests(world) == []
        assert _cancelled(world, source.request_id) == ON_LOAN  # item-level DELETE, no notify
        (event,) = await world.events(action="request.cancel")
        assert event.details["cancel_scope"] == "item request"
        assert event.details["notify_user"] is None


async def test_R7_the_bridge_own_transit_loan_still_forwards(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        loan_scf_copy(world, scf_item)  # the I10 loan to 01AAA_AB-ABRS ...
        await record_mirror(world, AB, "AB0002", scf_item, loaned=True)  # ... the ledger knows
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        summary = await forward(world, AB, _hold(source.request_id, "AB0002"))
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        assert placed.item_pid == scf_item.pid  # Alma queues it behind the transit loan
        assert world.state.request(AB, source.request_id).active
        (event,) = await world.events(action="request.forward")
        assert "transit" in (event.message or "")


async def test_R7_a_loan_after_the_transit_loan_was_returned_cancels(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        await record_mirror(world, AB, "AB0002", scf_item, loaned=True)
        async with world.ledger.unit_of_work() as uow:  # LOAN_RETURNED of the transit loan
            await uow.items.mark_loan_returned(AB, "AB0002")
            await uow.commit()
        loan_scf_copy(world, scf_item, user="01AAA_CD-CDRS")  # a later, foreign loan
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        summary = await forward(world, AB, _hold(source.request_id, "AB0002"))
        assert summary.cancelled == 1
        assert _cancelled(world, source.request_id) == ON_LOAN


async def test_R7_R8_not_in_the_scf_and_not_in_remote_storage_cancels_and_notifies(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        source = member_item_request(world, AB, "AB0004", "ab_patron2")  # AB0004: AB stacks
        summary = await forward(
            world, AB, {**_hold(source.request_id, "AB0004"), "mmsId": source.mms_id}
        )
        assert summary.cancelled == 1
        assert _cancelled(world, source.request_id) == NOT_FULFILLED  # bib-level DELETE
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.status is RequestStatus.CANCELLED


async def test_R7_a_request_waits_for_its_mirror_and_is_forwarded_after_the_items_sync(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        source = member_item_request(world, AB, "AB0002", "ab_patron2")  # in AB remote storage
        forwarding = request_forwarding(world.bridge)
        world.drop_request_file(AB, "r.xml", _export(_hold(source.request_id, "AB0002")))
        summary = await forwarding.run(AB)
        assert summary.waiting == 1
        assert summary.cancelled == 0
        record = await world.ledger.request_record(AB, source.request_id)
        row = record.request
        assert row is not None
        assert row.status is RequestStatus.WAITING_FOR_MIRROR
        assert row.first_seen_at == world.clock.now()
        assert row.request_data["barcode"] == "AB0002"
        assert row.request_data["request_type"] == "PATRON_PHYSICAL"

        world.clock.advance(hours=6)
        assert (await forwarding.retry_waiting(AB)).waiting == 1  # the sync has not brought it
        scf_item = mirror(world, AB, "AB0002")  # ... now the items sync has mirrored it
        await record_mirror(world, AB, "AB0002", scf_item)
        world.clock.advance(hours=6)
        summary = await forwarding.retry_waiting(AB)
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        assert placed.item_pid == scf_item.pid
        assert f"Internal identifier: {source.request_id}" in placed.fields["comment"]
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.status is RequestStatus.FORWARDED
        assert [e.action for e in record.events] == [
            "request.wait",
            "request.wait",
            "request.forward",
        ]
        file_ids = {event.file_id for event in record.events}
        assert len(file_ids) == 1
        assert None not in file_ids


async def test_R7_R8_a_request_still_waiting_after_the_grace_period_is_cancelled(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        forwarding = request_forwarding(world.bridge)
        world.drop_request_file(
            AB, "r.xml", _export({**_hold(source.request_id, "AB0002"), "mmsId": source.mms_id})
        )
        assert (await forwarding.run(AB)).waiting == 1
        world.clock.advance(hours=23, minutes=59)
        assert (await forwarding.retry_waiting(AB)).waiting == 1  # within request_grace_hours
        world.clock.advance(minutes=2)
        summary = await forwarding.retry_waiting(AB)
        assert summary.cancelled == 1
        assert _cancelled(world, source.request_id) == NOT_FULFILLED
        (event,) = await world.events(action="request.cancel")
        assert "24 hours" in (event.message or "")


async def test_R7_R8_a_title_without_mms_waits_then_is_cancelled_through_its_user(
    tmp_path: Path,
) -> None:
    """No SCF bib yet: a title-level request waits out the grace period (its member copy cannot
    be judged), then the source-request row cancels it through the user without an mmsId."""
    async with open_world(tmp_path) as world:
        member_bib = world.state.item_by_barcode(AB, "AB0002").mms_id
        source = member_title_request(world, AB, member_bib, "ab_patron2")
        forwarding = request_forwarding(world.bridge)
        patron = {"patronIdentifier": "ab_patron2"}
        request: dict[str, object] = {"requestId": source.request_id, "patron": patron}
        world.drop_request_file(AB, "r.xml", _export(request))
        assert (await forwarding.run(AB)).waiting == 1
        world.clock.advance(hours=25)
        assert (await forwarding.retry_waiting(AB)).cancelled == 1
        assert _cancelled(world, source.request_id) == NOT_FULFILLED
        (event,) = await world.events(action="request.cancel")
        assert event.details["cancel_scope"] == "bib or user request"
