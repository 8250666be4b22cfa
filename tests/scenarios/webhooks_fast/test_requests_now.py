"""A member's REQUEST_CREATED forwarded now, ahead of its export file (rules W6, R6, R7, P2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from application.scf.requests.outcomes import Action
from application.shared.ledger_records import Outcome, RequestStatus
from domain.scf.member_webhooks import RequestCreated
from domain.scf.webhooks import Skipped, classify_webhook
from tests.scenarios.requests.support import (
    forward,
    member_item_request,
    member_title_request,
    mirror,
    record_mirror,
    scf_requests,
)
from tests.scenarios.webhooks_fast.support import REQUEST_SAMPLE, deliver, request_created
from tests.scenarios.world import AB, SCF, LedgerKind, example_settings, open_world

PICKUP = {"request_type": "HOLD", "pickup_location_type": "LIBRARY"}
PICKUP_ABRS = {**PICKUP, "pickup_location_library": "ABRS", "comment": "Please hurry"}


def test_W6_W5_the_real_sample_is_a_member_request_created_only_from_a_member() -> None:
    consortium = example_settings().consortium
    document = json.loads(REQUEST_SAMPLE.read_text())
    assert isinstance(classify_webhook(REQUEST_SAMPLE.read_bytes(), consortium), Skipped)
    document["institution"]["value"] = AB.lower()
    document["event"]["value"] = "REQUEST_CREATED"
    event = classify_webhook(json.dumps(document).encode(), consortium)
    assert event == RequestCreated(
        institution=AB,
        request_id="6944906510004102",
        user_primary_id="6911953020004102",
        mms_id="994526713604102",
        webhook_id="5182762615859927411",
    )
    document["institution"]["value"] = SCF  # the SCF's own new requests are not forwarded
    assert isinstance(classify_webhook(json.dumps(document).encode(), consortium), Skipped)


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_W6_R6_forwarded_now_and_the_export_copy_is_a_no_op(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        scf_copy = mirror(world, AB, "AB0002")
        await record_mirror(world, AB, "AB0002", scf_copy)
        source = member_item_request(world, AB, "AB0002", "ab_patron2", PICKUP_ABRS)

        handled = await deliver(world, request_created(AB, source))

        assert handled.outcome is Outcome.OK, handled.message
        assert handled.details is not None
        assert handled.details["via"] == "webhook"
        (placed,) = scf_requests(world)
        assert placed.item_pid == scf_copy.pid
        assert placed.user_primary_id == "01AAA_AB-ABRS"
        comment = str(placed.fields.get("comment"))
        assert "Hopper, Grace" in comment
        assert "Please hurry" in comment
        async with world.ledger.unit_of_work() as uow:
            row = await uow.requests.get(AB, source.request_id)
        assert row is not None
        assert row.status is RequestStatus.FORWARDED
        (forwarded,) = await world.events(action="request.forward")
        assert forwarded.details["via"] == "webhook"

        # The export file brings the same request later: R6, nothing sent again.
        request = {
            "requestId": source.request_id,
            "requestType": "PATRON_PHYSICAL",
            "barcode": "AB0002",
            "libraryCode": "ABRS",
            "patron": {"patronIdentifier": "ab_patron2", "patronName": "Hopper, Grace"},
        }
        summary = await forward(world, AB, request)
        assert [o.action for o in summary.outcomes] == [Action.ALREADY_HANDLED]
        assert len(scf_requests(world)) == 1
        # P2: the patron's name stays in Alma and the SCF comment, never in the ledger.
        for event in await world.events():
            assert "Hopper" not in json.dumps([event.message, event.details])


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_W6_a_title_request_whose_assigned_copy_is_in_remote_storage(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        scf_copy = mirror(world, AB, "AB0002")
        await record_mirror(world, AB, "AB0002", scf_copy)
        member_item = world.state.item_by_barcode(AB, "AB0002")
        source = member_title_request(world, AB, member_item.mms_id, "ab_patron2", PICKUP_ABRS)
        body = request_created(AB, source, title_level=True)

        # No copy assigned yet: the export would not carry it, so it is left alone.
        waiting = await deliver(world, body)
        assert waiting.outcome is Outcome.SKIPPED
        assert "no copy is assigned" in waiting.message
        assert scf_requests(world) == []

        source.item_pid = member_item.pid  # Alma assigns AB0002, in AB's remote storage
        handled = await deliver(world, body, inbox_id=2)

        assert handled.outcome is Outcome.OK, handled.message
        (placed,) = scf_requests(world)
        assert placed.item_pid == scf_copy.pid
        assert world.state.request(AB, source.request_id).active


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_W6_R7_a_request_the_export_would_not_carry_is_skipped_never_cancelled(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        source = member_item_request(world, AB, "AB0004", "ab_patron2", PICKUP_ABRS)  # stacks

        handled = await deliver(world, request_created(AB, source))

        assert handled.outcome is Outcome.SKIPPED
        assert "not in remote storage" in handled.message
        assert world.state.request(AB, source.request_id).active  # never cancelled
        assert scf_requests(world) == []
        async with world.ledger.unit_of_work() as uow:
            assert await uow.requests.get(AB, source.request_id) is None
        (skipped,) = await world.events(action="request.skip")
        assert skipped.outcome is Outcome.SKIPPED
        assert skipped.request_id == source.request_id
        assert skipped.barcode == "AB0004"
        assert skipped.details["via"] == "webhook"
        assert "not in remote storage" in (skipped.message or "")
