"""The `requests.sync` event each real requests run records (for /health and the staff page),
through the scenario world: a fake Alma, a file server and a ledger in memory."""

from __future__ import annotations

from pathlib import Path

from adapters.fake_alma.faults import FaultConfig
from application.scf.requests.forwarding import REQUESTS_SYNC
from application.scf.staff_status import StaffStatus
from application.shared.ledger_records import Outcome
from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.requests.support import forward, member_item_request, mirror, record_mirror
from tests.scenarios.world import AB, CD, open_world, request_export


async def test_a_requests_run_records_its_files_and_counts(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        await record_mirror(world, AB, "AB0002", scf_item)
        forwarded = member_item_request(world, AB, "AB0002", "ab_patron2")
        waits = member_item_request(world, AB, "AB0001", "ab_patron2")
        summary = await forward(
            world,
            AB,
            {"requestId": forwarded.request_id, "barcode": "AB0002"},
            {"requestId": waits.request_id, "barcode": "AB0001"},
            name="requests_ab.xml",
        )
        assert (summary.forwarded, summary.waiting) == (1, 1)

        (event,) = await world.events(action=REQUESTS_SYNC)
        assert (event.institution, event.outcome, event.error_code) == (AB, Outcome.OK, None)
        assert event.message == "1 files, 2 requests"
        assert event.details["counts"] == {
            "forwarded": 1,
            "waiting": 1,
            "cancelled": 0,
            "failed": 0,
            "already handled": 0,
        }
        assert event.details["files"] == ["requests_ab.xml"]
        assert (event.details["files_failed"], event.details["files_pending"]) == (0, 0)

        # The staff page reads it as AB's last requests sync; CD has none.
        snapshot = await StaffStatus(world.ledger, world.bridge.settings, world.clock).snapshot()
        ab, cd = snapshot.institutions
        assert ab.last_requests_sync is not None
        assert ab.last_requests_sync.at == event.occurred_at
        assert ab.last_requests_sync.files == ("requests_ab.xml",)
        assert dict(ab.last_requests_sync.counts)["waiting"] == 1
        assert cd.code == CD
        assert cd.last_requests_sync is None

        # Neither a dry run nor the retry after an items sync is a requests run.
        await request_forwarding(world.bridge).run(AB, dry_run=True)
        await request_forwarding(world.bridge).retry_waiting(AB)
        assert len(await world.events(action=REQUESTS_SYNC)) == 1


async def test_a_run_stopped_by_a_spent_quota_is_recorded_failed_with_alma_code(
    tmp_path: Path,
) -> None:
    quota = FaultConfig(enforce_thresholds=True, daily_quota=2)
    async with open_world(tmp_path, alma="http", faults=quota) as world:
        requests = []
        for barcode, patron in (("AB0001", "ab_patron2"), ("AB0002", "ab_patron2")):
            mirror(world, AB, barcode)
            source = member_item_request(world, AB, barcode, patron)
            requests.append({"requestId": source.request_id, "barcode": barcode})
        world.drop_request_file(AB, "requests_1.xml", request_export(requests))

        stopped = await request_forwarding(world.bridge).run(AB)
        assert stopped.stopped is not None

        (event,) = await world.events(action=REQUESTS_SYNC)
        assert event.outcome is Outcome.FAILED
        assert event.error_code == "DAILY_THRESHOLD"
        assert (event.message or "").startswith("stopped, files resume next time:")
        assert event.details["files"] == ["requests_1.xml"]
        assert event.details["files_pending"] == 1
