"""Request files: claimed and finished (R1), read tolerantly (R2), previewed in a dry run."""

from __future__ import annotations

from pathlib import Path

from application.scf.reports import ReportName
from application.scf.requests.outcomes import Action
from application.shared.ledger_records import TransferFile, TransferStatus
from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.requests.support import (
    PATRON_DIGITIZATION,
    member_item_request,
    mirror,
    scf_requests,
)
from tests.scenarios.world import AB, World, open_world, request_export


async def test_R1_R2_a_malformed_file_fails_forwards_what_came_before_and_cancels_nothing(
    tmp_path: Path,
) -> None:
    """Requests before the fault are complete (the reader yields a request at its end tag):
    they are forwarded, but nothing is cancelled — neither the one whose decision is to cancel
    nor the source of a patron digitization (its RequestSwitched); those are parked as failed."""
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        hold = member_item_request(world, AB, "AB0002", "ab_patron2")
        gone = member_item_request(world, AB, "AB0004", "ab_patron2")  # would be cancelled
        scan = member_item_request(world, AB, "AB0002", "ab_patron1", PATRON_DIGITIZATION)
        complete = request_export(
            [
                {"requestId": hold.request_id, "barcode": "AB0002"},
                {"requestId": gone.request_id, "barcode": "AB0004", "mmsId": gone.mms_id},
                {
                    "requestId": scan.request_id,
                    "requestType": "PHYSICAL_TO_DIGITIZATION",
                    "barcode": "AB0002",
                    "mmsId": scan.mms_id,
                },
            ]
        )
        truncated = complete.replace(b"</xb:rsExportList>\n", b"<xb:rsExport><xb:requestId>99")
        world.drop_request_file(AB, "requests_cut.xml", truncated)

        summary = await request_forwarding(world.bridge).run(AB)
        assert [o.action for o in summary.outcomes] == [
            Action.FORWARDED,
            Action.FAILED,
            Action.FAILED,
        ]
        assert summary.files_failed == 1
        assert summary.cancelled == 0
        assert all(world.state.request(AB, r.request_id).active for r in (hold, gone, scan))
        assert len(scf_requests(world)) == 1
        (finished,) = await world.events(action="file.finish")
        assert finished.outcome == "failed"
        assert "nothing was cancelled" in (finished.message or "")
        transfer = await _transfer(world, finished.file_id)
        assert transfer.status is TransferStatus.FAILED
        assert (transfer.records_total, transfer.records_failed) == (3, 2)
        assert "line" in (transfer.failure_reason or "")
        # The file is finished: a later run does not read it again.
        assert (await request_forwarding(world.bridge).run(AB)).files == 0


async def test_R1_P1_a_request_without_requestId_is_reported_and_the_rest_forwarded(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        hold = member_item_request(world, AB, "AB0002", "ab_patron2")
        world.drop_request_file(
            AB,
            "requests.xml",
            request_export(
                [{"barcode": "AB0002"}, {"requestId": hold.request_id, "barcode": "AB0002"}]
            ),
        )
        summary = await request_forwarding(world.bridge).run(AB)
        assert [o.action for o in summary.outcomes] == [Action.FAILED, Action.FORWARDED]
        (row,) = world.reports.rows
        assert row.report is ReportName.REQUESTS
        assert "no requestId" in row.message
        (finished,) = await world.events(action="file.finish")
        assert finished.outcome == "ok"


async def test_R1_a_dry_run_claims_nothing_and_writes_neither_alma_nor_the_ledger(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        hold = member_item_request(world, AB, "AB0002", "ab_patron2")
        gone = member_item_request(world, AB, "AB0004", "ab_patron2")
        waits = member_item_request(world, AB, "AB0001", "ab_patron2")
        path = world.drop_request_file(
            AB,
            "requests.xml",
            request_export(
                [
                    {"requestId": hold.request_id, "barcode": "AB0002"},
                    {"requestId": gone.request_id, "barcode": "AB0004", "mmsId": gone.mms_id},
                    {"requestId": waits.request_id, "barcode": "AB0001"},
                ]
            ),
        )
        forwarding = request_forwarding(world.bridge)
        preview = await forwarding.run(AB, dry_run=True)
        assert preview.dry_run
        assert preview.files == 1
        assert [o.action for o in preview.outcomes] == [
            Action.WOULD_FORWARD,
            Action.WOULD_CANCEL,
            Action.WOULD_WAIT,
        ]
        assert preview.outcomes[0].user_id == "01AAA_AB-ABRS"
        assert world.remote.kind(path) == "file"  # not claimed
        assert await world.events() == []  # nothing in the ledger
        assert scf_requests(world) == []
        assert world.state.request(AB, gone.request_id).active
        assert not list((tmp_path / "work").rglob("*.xml"))  # the scratch copy is gone

        done = await forwarding.run(AB)  # the real run does what the preview said
        assert [o.action.value for o in done.outcomes] == ["forwarded", "cancelled", "waiting"]


async def _transfer(world: World, file_id: int | None) -> TransferFile:
    assert file_id is not None
    async with world.ledger.unit_of_work() as uow:
        found = await uow.files.get(file_id)
    assert found is not None
    return found
