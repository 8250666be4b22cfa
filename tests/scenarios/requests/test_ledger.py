"""Every decision and Alma outcome is a ledger event beside its row (item 4, R7, P1)."""

from __future__ import annotations

from pathlib import Path

from application.scf.reports import ReportName
from application.scf.requests.outcomes import Action
from application.shared.ledger_records import RequestStatus
from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.requests.support import (
    forward,
    member_item_request,
    mirror,
    record_mirror,
    scf_requests,
)
from tests.scenarios.world import AB, SCF, open_world


async def test_R7_ledger_a_forward_event_carries_the_request_file_and_alma_ids(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        await record_mirror(world, AB, "AB0002", scf_item)
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        await forward(world, AB, {"requestId": source.request_id, "barcode": "AB0002"})
        (placed,) = scf_requests(world)
        (claim,) = await world.events(action="file.claim")
        record = await world.ledger.request_record(AB, source.request_id)
        row = record.request
        assert row is not None
        assert (row.status, row.route, row.barcode) == (
            RequestStatus.FORWARDED,
            "item_hold",
            "AB0002",
        )
        assert (row.scf_request_id, row.scf_mms_id) == (placed.request_id, scf_item.mms_id)
        assert row.user_id == "01AAA_AB-ABRS"
        (event,) = record.events
        assert (event.action, event.outcome) == ("request.forward", "ok")
        assert (event.institution, event.request_id, event.barcode) == (
            AB,
            source.request_id,
            "AB0002",
        )
        assert event.file_id == claim.file_id
        assert event.details["scf_request_id"] == placed.request_id
        assert event.details["scf_mms_id"] == scf_item.mms_id
        assert event.details["scf_item_pid"] == scf_item.pid
        assert event.error_code is None


async def test_R7_P1_an_alma_refusal_is_recorded_with_its_code_reported_and_replayable(
    tmp_path: Path,
) -> None:
    """The pickup library's system user does not exist in the SCF: Alma refuses the request.
    The Java app cancelled the patron's request; here it is parked, reported, and replayed once
    SCF staff have created the user."""
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        summary = await forward(
            world,
            AB,
            {"requestId": source.request_id, "barcode": "AB0002", "libraryCode": "ABMAIN"},
        )
        assert summary.failed == 1
        assert world.state.request(AB, source.request_id).active
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.status is RequestStatus.FAILED
        (event,) = record.events
        assert (event.action, event.outcome, event.error_code) == (
            "request.fail",
            "failed",
            "401890",
        )
        assert "01AAA_AB-ABMAIN" in (event.message or "")
        assert "was not found" in (record.request.last_error or "")  # Alma's own message
        (row,) = world.reports.rows
        assert (row.report, row.barcode, row.institution) == (ReportName.REQUESTS, "AB0002", AB)
        assert "01AAA_AB-ABMAIN" in row.message
        (finished,) = await world.events(action="file.finish")
        assert finished.outcome == "ok"  # a refusal does not hold the file open

        world.state.add_user(SCF, {"primary_id": "01AAA_AB-ABMAIN"})
        forwarding = request_forwarding(world.bridge)
        replayed = await forwarding.replay(AB, source.request_id)
        assert replayed is not None
        assert replayed.action is Action.FORWARDED
        (placed,) = scf_requests(world)
        assert placed.user_primary_id == "01AAA_AB-ABMAIN"
        again = await forwarding.replay(AB, source.request_id)
        assert again is not None
        assert again.action is Action.ALREADY_HANDLED
        assert await forwarding.replay(AB, "no-such-request") is None
