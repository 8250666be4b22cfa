"""The items job releases requests that waited for their mirror (rules R7, I6, I10)."""

from __future__ import annotations

from pathlib import Path

from application.shared.ledger_records import RequestStatus
from entrypoints.bridge_wiring import sync_jobs
from tests.scenarios.requests.support import member_item_request, scf_requests
from tests.scenarios.world import AB, marc_record, open_world, request_export


async def test_R7_a_request_waiting_for_its_mirror_is_forwarded_by_the_next_items_job(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        jobs = sync_jobs(world.bridge)
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        world.drop_request_file(
            AB,
            "requests_noon.xml",
            request_export(
                [
                    {
                        "requestId": source.request_id,
                        "requestType": "PATRON_PHYSICAL",
                        "barcode": "AB0002",
                    }
                ]
            ),
        )
        assert (await jobs.requests_job(AB)).waiting == 1

        member = world.state.find_item(AB, "AB0002")
        assert member is not None
        world.drop_publishing_file(
            AB,
            "AB_nightly_new_1.tar.gz",
            [marc_record(member.mms_id, [{"b": "AB0002", "c": "ABRS", "l": "rs_shared_in_ab"}])],
        )
        world.clock.advance(hours=12)
        summary = await jobs.items_job(AB)

        assert summary.items.created == 1
        assert summary.waiting_requests is not None
        assert summary.waiting_requests.forwarded == 1
        (placed,) = scf_requests(world)
        assert f"Internal identifier: {source.request_id}" in placed.fields["comment"]
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.status is RequestStatus.FORWARDED
