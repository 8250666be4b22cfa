"""The same request file twice leaves Alma and the ledger as after once (rule R6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.scf.requests.outcomes import Action
from domain.scf.requests.comments import c1_item_hold_comment
from domain.scf.requests.routing import RemoteStorageRequest
from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.requests.support import (
    PATRON_DIGITIZATION,
    member_item_request,
    mirror,
    record_mirror,
    scf_requests,
)
from tests.scenarios.world import AB, SCF, LedgerKind, World, open_world, request_export


def _alma_state(world: World) -> dict[str, tuple[object, ...]]:
    """Every request of AB and the SCF with what a forwarding run can change about it."""
    return {
        f"{institution}/{r.request_id}": (r.active, r.user_primary_id, r.item_pid, r.cancel_reason)
        for institution in (AB, SCF)
        for r in world.state.requests_of(institution, active=None)
    }


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_R6_the_same_request_file_twice_forwards_each_request_once(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        scf_item = mirror(world, AB, "AB0002")
        await record_mirror(world, AB, "AB0002", scf_item)
        hold = member_item_request(world, AB, "AB0002", "ab_patron2")
        scan = member_item_request(world, AB, "AB0002", "ab_patron1", PATRON_DIGITIZATION)
        gone = member_item_request(world, AB, "AB0004", "ab_patron2")  # not in remote storage
        waits = member_item_request(world, AB, "AB0001", "ab_patron2")  # not mirrored yet
        export = request_export(
            [
                {"requestId": hold.request_id, "barcode": "AB0002", "mmsId": hold.mms_id},
                {
                    "requestId": scan.request_id,
                    "requestType": "PHYSICAL_TO_DIGITIZATION",
                    "barcode": "AB0002",
                    "mmsId": scan.mms_id,
                },
                {"requestId": gone.request_id, "barcode": "AB0004", "mmsId": gone.mms_id},
                {"requestId": waits.request_id, "barcode": "AB0001", "mmsId": waits.mms_id},
            ]
        )
        ids = [hold.request_id, scan.request_id, gone.request_id, waits.request_id]
        forwarding = request_forwarding(world.bridge)

        world.drop_request_file(AB, "requests_1.xml", export)
        first = await forwarding.run(AB)
        assert [o.action for o in first.outcomes] == [
            Action.FORWARDED,
            Action.FORWARDED,
            Action.CANCELLED,
            Action.WAITING,
        ]
        alma_after_once = _alma_state(world)
        rows_after_once = [(await world.ledger.request_record(AB, i)).request for i in ids]
        decisions_after_once = await world.events(action="request.forward")
        assert len(scf_requests(world)) == 2

        world.clock.advance(minutes=30)
        world.drop_request_file(AB, "requests_1.xml", export)  # Alma sends the same file again
        second = await forwarding.run(AB)
        assert second.files == 1
        assert {o.action for o in second.outcomes} == {Action.ALREADY_HANDLED}
        assert _alma_state(world) == alma_after_once
        assert [(await world.ledger.request_record(AB, i)).request for i in ids] == rows_after_once
        assert await world.events(action="request.forward") == decisions_after_once
        assert await world.events(action="request.cancel") != []
        assert len(await world.events(action="request.duplicate")) == 4


async def test_R6_a_request_an_earlier_attempt_placed_is_adopted_not_duplicated(
    tmp_path: Path,
) -> None:
    """The SCF placed the request but the reply was lost (timeout, crash before the ledger
    write): under allow_same_request=false Alma refuses the second one, and the bridge adopts
    the first, recognised by its user and `Internal identifier`."""
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        request = RemoteStorageRequest(request_id=source.request_id, barcode="AB0002")
        earlier = world.state.create_item_request(
            SCF,
            scf_item.mms_id,
            scf_item.holding_id,
            scf_item.pid,
            "01AAA_AB-ABRS",
            {"request_type": "HOLD", "comment": c1_item_hold_comment(request)},
        )
        world.drop_request_file(
            AB, "r.xml", request_export([{"requestId": source.request_id, "barcode": "AB0002"}])
        )
        summary = await request_forwarding(world.bridge).run(AB)
        assert summary.forwarded == 1
        assert [r.request_id for r in scf_requests(world)] == [earlier.request_id]
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.scf_request_id == earlier.request_id
        (event,) = await world.events(action="request.forward")
        assert event.details["adopted"] is True


async def test_R6_two_patrons_of_one_pickup_library_both_get_their_scf_request(
    tmp_path: Path,
) -> None:
    """Both SCF requests belong to the pickup library's system user, so Alma refuses the second
    under allow_same_request=false; it is not an earlier attempt of the same member request,
    so the bridge places it again allowing the same user twice (Java parity)."""
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        await record_mirror(world, AB, "AB0002", scf_item)
        first = member_item_request(world, AB, "AB0002", "ab_patron1")
        second = member_item_request(world, AB, "AB0002", "ab_patron2")
        world.drop_request_file(
            AB,
            "two_patrons.xml",
            request_export(
                [
                    {"requestId": first.request_id, "barcode": "AB0002", "mmsId": first.mms_id},
                    {"requestId": second.request_id, "barcode": "AB0002", "mmsId": second.mms_id},
                ]
            ),
        )
        summary = await request_forwarding(world.bridge).run(AB)
        assert summary.forwarded == 2
        placed = scf_requests(world)
        assert len(placed) == 2
        assert {p.user_primary_id for p in placed} == {"01AAA_AB-ABRS"}
        identifiers = sorted(str(p.fields["comment"]).rsplit(": ", 1)[-1] for p in placed)
        assert identifiers == sorted([first.request_id, second.request_id])
