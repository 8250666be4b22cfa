"""Rate limits, 5xx and a spent quota never cancel a patron's request (rules R7, A3)."""

from __future__ import annotations

from pathlib import Path

from adapters.fake_alma.faults import FaultConfig
from application.scf.requests.forwarding import TransientRetry
from application.scf.requests.outcomes import Action
from application.scf.requests.records import RETRY_LIMIT
from application.shared.ledger_records import RequestStatus
from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.requests.support import (
    PATRON_DIGITIZATION,
    member_item_request,
    member_title_request,
    mirror,
    scf_requests,
)
from tests.scenarios.world import AB, SCF, World, open_world, request_export

ONE_TRY = TransientRetry(passes=0)
"""No second pass inside the run: these tests check what a run leaves for the next one."""
QUICK = TransientRetry(wait_initial=0.001, wait_max=0.002, wait_jitter=0.0)

LOCAL_BARCODE = "AB 0003+4&5#6"


def _four_requests(world: World) -> tuple[list[str], bytes]:
    """An item hold, a patron item digitization (unlinked patron: the SCF account is created),
    a title hold and a patron title digitization (linked patron), all forwardable."""
    for barcode in ("AB0001", "AB0002", LOCAL_BARCODE):
        mirror(world, AB, barcode)
    hold = member_item_request(world, AB, "AB0002", "ab_patron2")
    scan = member_item_request(world, AB, "AB0001", "ab_patron2", PATRON_DIGITIZATION)
    local_bib = world.state.item_by_barcode(AB, LOCAL_BARCODE).mms_id
    title = member_title_request(world, AB, local_bib, "ab_patron2")
    nz_bib = world.state.item_by_barcode(AB, "AB0002").mms_id
    title_scan = member_title_request(world, AB, nz_bib, "ab_patron1", PATRON_DIGITIZATION)
    digitize = "PHYSICAL_TO_DIGITIZATION"
    export = request_export(
        [
            {"requestId": hold.request_id, "barcode": "AB0002"},
            {
                "requestId": scan.request_id,
                "requestType": digitize,
                "barcode": "AB0001",
                "mmsId": scan.mms_id,
            },
            {"requestId": title.request_id, "mmsId": local_bib},
            {
                "requestId": title_scan.request_id,
                "requestType": digitize,
                "barcode": "Part 2: scans",
                "mmsId": nz_bib,
                "patron": {"patronIdentifier": "ab_patron1"},
            },
        ]
    )
    ids = [hold.request_id, scan.request_id, title.request_id, title_scan.request_id]
    return ids, export


def _all_active(world: World, ids: list[str]) -> bool:
    return all(world.state.request(AB, request_id).active for request_id in ids)


async def test_R7_a_429_and_5xx_storm_cancels_nothing_and_a_rerun_forwards_everything(
    tmp_path: Path,
) -> None:
    storm = FaultConfig(error_rate=0.3, enforce_thresholds=False)
    async with open_world(tmp_path, alma="http", faults=storm) as world:
        assert world.faults is not None
        ids, export = _four_requests(world)
        # Longer than the client's 8 attempts: some requests do fail, after retrying.
        world.faults.fail_next(
            12, kind="error", status=503, institution=SCF, path_contains="/requests"
        )
        world.faults.fail_next(20, kind="per_second", institution=AB)
        world.drop_request_file(AB, "requests_1.xml", export)
        forwarding = request_forwarding(world.bridge, retry=ONE_TRY)

        stormy = await forwarding.run(AB)
        assert stormy.cancelled == 0
        assert stormy.failed >= 1
        assert all(o.transient for o in stormy.outcomes if o.action is Action.FAILED)
        unforwarded = [o.request_id for o in stormy.outcomes if o.action is not Action.FORWARDED]
        assert _all_active(world, unforwarded)
        assert await world.events(action="request.cancel") == []
        assert stormy.files_pending == 1  # the file stays open for the retry
        failed = await world.events(action="request.fail")
        assert failed
        assert all(e.details.get("transient") for e in failed)

        world.faults.configure(error_rate=0.0)
        world.faults.clear_script()
        calm = await forwarding.run(AB)
        assert calm.files == 1
        assert calm.files_pending == 0
        for request_id in ids:
            record = await world.ledger.request_record(AB, request_id)
            assert record.request is not None
            assert record.request.status is RequestStatus.FORWARDED, record.request.last_error
        assert len(scf_requests(world)) == 4  # each forwarded exactly once
        # Only the two patron digitizations were switched off, after their SCF request existed.
        switched = [r for r in world.state.requests_of(AB, active=False) if r.request_id in ids]
        assert {r.cancel_reason for r in switched} == {"RequestSwitched"}
        assert len(switched) == 2


async def test_R7_a_spent_daily_quota_stops_the_run_cancels_nothing_and_resumes(
    tmp_path: Path,
) -> None:
    quota = FaultConfig(enforce_thresholds=True, daily_quota=4)
    async with open_world(tmp_path, alma="http", faults=quota) as world:
        assert world.faults is not None
        ids, export = _four_requests(world)
        world.drop_request_file(AB, "requests_1.xml", export)
        forwarding = request_forwarding(world.bridge)

        stopped = await forwarding.run(AB)
        assert stopped.stopped is not None
        assert "DAILY_THRESHOLD" in stopped.stopped
        assert stopped.cancelled == 0
        assert stopped.outcomes[-1].quota_exhausted
        assert _all_active(world, ids)

        world.faults.configure(daily_quota=None)  # midnight: the quota is back
        world.faults.reset_usage()
        resumed = await forwarding.run(AB)
        assert resumed.stopped is None
        assert len(scf_requests(world)) == 4


async def test_R7_retry_waiting_also_retries_requests_parked_by_a_transient_failure(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        assert world.faults is not None
        mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        world.faults.fail_next(
            9, kind="error", status=502, institution=SCF, path_contains="/requests"
        )
        world.drop_request_file(
            AB, "r.xml", request_export([{"requestId": source.request_id, "barcode": "AB0002"}])
        )
        forwarding = request_forwarding(world.bridge, retry=ONE_TRY)
        first = await forwarding.run(AB)
        assert first.failed == 1
        assert first.outcomes[0].retry_later
        assert world.state.request(AB, source.request_id).active

        retried = await forwarding.retry_waiting(AB)  # after the next items sync
        assert retried.forwarded == 1
        assert retried.files == 1
        (placed,) = scf_requests(world)
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.scf_request_id == placed.request_id
        assert record.request.attempts == 2
        assert (await forwarding.run(AB)).files == 0  # the file is finished now


async def test_R7_a_request_failing_transiently_too_often_is_parked_and_frees_its_file(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        assert world.faults is not None
        mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        world.faults.fail_next(
            500, kind="error", status=503, institution=SCF, path_contains="/requests"
        )
        world.drop_request_file(
            AB, "r.xml", request_export([{"requestId": source.request_id, "barcode": "AB0002"}])
        )
        forwarding = request_forwarding(world.bridge, retry=QUICK)
        runs = [await forwarding.run(AB) for _ in range(RETRY_LIMIT)]
        assert [run.files_pending for run in runs] == [1] * (RETRY_LIMIT - 1) + [0]
        assert (await forwarding.run(AB)).files == 0  # parked: the file no longer holds it
        assert world.state.request(AB, source.request_id).active  # and still nothing cancelled

        world.faults.clear_script()
        replayed = await forwarding.replay(AB, source.request_id)
        assert replayed is not None
        assert replayed.action is Action.FORWARDED
