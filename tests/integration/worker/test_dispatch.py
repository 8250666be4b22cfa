"""Each kind of webhook, from the inbox through the worker to the SCF and the members (W3–W5).

The world is the seeded fake consortium with the real `BridgeHandlers`; bodies are Alma's own
samples adjusted to the examples' consortium.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from application.scf.circulation.carry_back import CANCEL_SOURCE, SCAN_IN
from application.scf.inbox.records import INBOX_PROCESSED, ITEMS, REQUESTS, WORKER_HEARTBEAT
from application.shared.ledger_records import InboxStatus, Outcome, RequestStatus
from application.shared.metrics import Metrics
from entrypoints.bridge_wiring import bridge_handlers
from tests.integration.worker.support import (
    AB_PUBLISHING_JOB,
    AB_REQUESTS_JOB,
    enqueue,
    job_end,
    loan_returned,
    make_worker,
    message,
    process_events,
    request_canceled,
    with_action,
)
from tests.scenarios.circulation.support import forwarded, mirror, scf_returns, send_in_transit
from tests.scenarios.requests import support as requests
from tests.scenarios.world import AB, CD, SCF, LedgerKind, World, marc_record, open_world
from tests.scenarios.world import request_export as export

LEDGERS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgresql", marks=pytest.mark.postgres),
]


def publish_ab0002(world: World) -> str:
    member = world.state.find_item(AB, "AB0002")
    assert member is not None
    record = marc_record(member.mms_id, [{"b": "AB0002", "c": "ABRS", "l": "rs_shared_in_ab"}])
    return world.drop_publishing_file(AB, "AB_nightly_new_1.tar.gz", [record])


@pytest.mark.parametrize("ledger", LEDGERS)
async def test_W4_the_publishing_JOB_END_of_AB_mirrors_its_published_items(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        publish_ab0002(world)
        metrics = Metrics()
        worker = make_worker(
            world.ledger, bridge_handlers(world.bridge), world.clock, metrics=metrics
        )
        # S987654321 is AB's publishing job and CD's requests job: the sender settles it (W4).
        [inbox_id] = await enqueue(world.ledger, world.clock, job_end(AB, AB_PUBLISHING_JOB, "701"))

        assert await worker.run_until_idle() == 1

        assert world.state.find_item(SCF, "AB0002X") is not None
        assert (await message(world.ledger, inbox_id)).status is InboxStatus.DONE
        (event,) = await process_events(world.ledger)
        assert (event.outcome, event.institution, event.inbox_id) == (Outcome.OK, AB, inbox_id)
        assert event.details["classification"] == "items_sync_due"
        assert (event.details["webhook_id"], event.details["action"]) == ("701", "JOB_END")
        assert (event.details["job_id"], event.details["job_status"]) == (
            AB_PUBLISHING_JOB,
            "COMPLETED_SUCCESS",
        )
        assert event.details["items"] == {**event.details["items"], "created": 1}  # type: ignore[dict-item]
        assert await world.events(action="requests.sync") == []  # not CD's requests job
        assert metrics.value(ITEMS, institution=AB, outcome="created") == 1
        assert metrics.value(INBOX_PROCESSED, outcome="ok", kind="items_sync_due") == 1
        assert metrics.value(WORKER_HEARTBEAT) == world.clock.now().timestamp()


async def test_W4_the_requests_JOB_END_forwards_the_request_file(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        requests.mirror(world, AB, "AB0002")
        source = requests.member_item_request(world, AB, "AB0002", "ab_patron2")
        request = {
            "requestId": source.request_id,
            "requestType": "PATRON_PHYSICAL",
            "barcode": "AB0002",
            "mmsId": source.mms_id,
            "pickup": "AB Remote Storage Library",
        }
        world.drop_request_file(AB, "requests_1.xml", export([request]))
        metrics = Metrics()
        worker = make_worker(
            world.ledger, bridge_handlers(world.bridge), world.clock, metrics=metrics
        )
        [inbox_id] = await enqueue(world.ledger, world.clock, job_end(AB, AB_REQUESTS_JOB, "702"))

        await worker.run_until_idle()

        (placed,) = requests.scf_requests(world)
        assert f"Internal identifier: {source.request_id}" in placed.fields["comment"]
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.status is RequestStatus.FORWARDED
        (event,) = await process_events(world.ledger)
        assert (event.outcome, event.details["classification"]) == (Outcome.OK, "requests_sync_due")
        assert event.details["requests"] == {**event.details["requests"], "forwarded": 1}  # type: ignore[dict-item]
        assert (await message(world.ledger, inbox_id)).status is InboxStatus.DONE
        labels = {"institution": AB, "outcome": "forwarded", "reason": "the SCF copy is available"}
        assert metrics.value(REQUESTS, **labels) == 1


async def test_W5_C1_LOAN_RETURNED_from_the_SCF_scans_the_member_item_in(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        copy = await mirror(world, AB, "AB0002", home_library="ABRS")
        member = send_in_transit(world, AB, "AB0002", via="ABMAIN")
        scf_returns(world, copy)
        worker = make_worker(world.ledger, bridge_handlers(world.bridge), world.clock)
        [inbox_id] = await enqueue(world.ledger, world.clock, loan_returned("AB0002X", "703"))

        await worker.run_until_idle()

        assert member.process_type == ""
        (scan,) = await world.events(action=SCAN_IN)
        assert (scan.outcome, scan.inbox_id) == (Outcome.OK, inbox_id)
        (event,) = await process_events(world.ledger)
        assert (event.outcome, event.details["result"]) == (Outcome.OK, "ok")
        assert (event.details["scf_barcode"], event.details["event"]) == (
            "AB0002X",
            "LOAN_RETURNED",
        )


async def test_W5_C2_REQUEST_CANCELED_from_the_SCF_cancels_the_member_request(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        (digitization,) = world.state.requests_of(CD, user_id="cd_patron1")
        rid = digitization.request_id
        await forwarded(
            world, CD, rid, "83013520000121", user_id="cd_patron1", route="patron_title"
        )
        worker = make_worker(world.ledger, bridge_handlers(world.bridge), world.clock)
        [inbox_id] = await enqueue(
            world.ledger, world.clock, request_canceled("83013520000121", "704")
        )

        await worker.run_until_idle()

        assert not world.state.request(CD, rid).active
        (cancel,) = await world.events(action=CANCEL_SOURCE)
        assert (cancel.outcome, cancel.inbox_id) == (Outcome.OK, inbox_id)
        (event,) = await process_events(world.ledger)
        assert event.details["classification"] == "request_canceled"


async def test_W4_a_COMPLETED_FAILED_job_is_recorded_as_skipped_and_nothing_is_synced(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        path = publish_ab0002(world)
        metrics = Metrics()
        worker = make_worker(
            world.ledger, bridge_handlers(world.bridge), world.clock, metrics=metrics
        )
        body = job_end(AB, AB_PUBLISHING_JOB, "705", status="COMPLETED_FAILED")
        [inbox_id] = await enqueue(world.ledger, world.clock, body)

        await worker.run_until_idle()

        assert world.remote.kind(path) is not None  # the file was not even claimed
        assert world.state.find_item(SCF, "AB0002X") is None
        assert await world.events(action="items.sync") == []
        (event,) = await process_events(world.ledger)
        assert (event.outcome, event.institution) == (Outcome.SKIPPED, AB)
        assert event.message is not None
        assert "COMPLETED_FAILED" in event.message
        assert (event.details["job_status"], event.details["job_kind"]) == (
            "COMPLETED_FAILED",
            "items",
        )
        stored = await message(world.ledger, inbox_id)
        assert (stored.status, stored.attempts) == (InboxStatus.DONE, 1)
        assert metrics.value(INBOX_PROCESSED, outcome="skipped", kind="job_failed") == 1


async def test_W4_W5_unknown_actions_unknown_jobs_and_bad_bodies_are_skipped_never_retried(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        worker = make_worker(world.ledger, bridge_handlers(world.bridge), world.clock)
        bodies = [
            with_action(job_end(AB, AB_PUBLISHING_JOB, "706"), "BIB_DELETED"),
            job_end(AB, "S000000000", "707"),
            loan_returned("AB0002X", "708", institution=AB),  # W5: only the SCF's count
            b"\x00 not json",
            b'{"id": "709", "action": "JOB_END"}',
        ]
        ids = await enqueue(world.ledger, world.clock, *bodies)

        assert await worker.run_until_idle() == len(bodies)

        events = await process_events(world.ledger)
        assert [e.outcome for e in events] == [Outcome.SKIPPED] * len(bodies)
        messages = {e.inbox_id: e.message or "" for e in events}
        assert "action BIB_DELETED is not handled" in messages[ids[0]]
        assert "job S000000000" in messages[ids[1]]
        assert "not from the SCF" in messages[ids[2]]
        assert messages[ids[3]] == "rejected: body is not JSON"
        assert messages[ids[4]].startswith("rejected: JOB_END without")
        for inbox_id in ids:
            assert (await message(world.ledger, inbox_id)).status is InboxStatus.DONE
        assert world.state.find_item(SCF, "AB0002X") is None
