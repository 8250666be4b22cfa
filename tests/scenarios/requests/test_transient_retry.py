"""A request that failed only because Alma was unavailable is tried again within the run (issue 13;
rules R1, R6, R7, A3).

The adapter retries each call (A3); when a call still fails, the run tries the request again at
its end, after a computed pause (`TransientRetry`), before it leaves the file open for the
worker's next attempt. Every try is a ledger attempt and an event; the retries carry their pass.
Nothing is cancelled for a transient failure, and no retry places a second SCF request.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from application.scf.requests.forwarding import TransientRetry
from application.scf.requests.outcomes import Action
from application.shared.alma import AlmaRequest, AlmaUnavailable
from application.shared.ledger_records import RequestStatus
from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.requests.support import (
    member_item_request,
    mirror,
    record_mirror,
    scf_requests,
)
from tests.scenarios.world import AB, SCF, LedgerKind, World, open_world, request_export

QUICK = TransientRetry(passes=2, wait_initial=0.001, wait_max=0.002, wait_jitter=0.0)
"""The production number of extra passes, without the production pauses."""
ADAPTER_ATTEMPTS = 8
"""`FAST_RETRY.attempts`: a call fails only after this many failed attempts."""


def _hold(world: World, barcode: str = "AB0002") -> tuple[str, bytes]:
    source = member_item_request(world, AB, barcode, "ab_patron2")
    export = request_export([{"requestId": source.request_id, "barcode": barcode}])
    return source.request_id, export


async def _request_events(world: World, request_id: str) -> list[tuple[str, int]]:
    """(action, pass) of the request's events, oldest first."""
    events = await world.events(institution=AB)
    return [
        (e.action, int(e.details.get("pass", 1)))  # type: ignore[arg-type]
        for e in events
        if e.request_id == request_id
    ]


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_R7_a_request_failing_transiently_once_is_forwarded_in_the_same_run(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, alma="http", ledger=ledger) as world:
        assert world.faults is not None
        mirror(world, AB, "AB0002")
        request_id, export = _hold(world)
        # One call's retries used up (A3), then one more 503 on the in-run retry, then Alma answers.
        world.faults.fail_next(
            ADAPTER_ATTEMPTS + 1,
            kind="error",
            status=503,
            institution=SCF,
            path_contains="/requests",
        )
        world.drop_request_file(AB, "r.xml", export)
        forwarding = request_forwarding(world.bridge, retry=QUICK)

        summary = await forwarding.run(AB)

        (outcome,) = summary.outcomes
        assert (outcome.action, outcome.run_pass) == (Action.FORWARDED, 2)
        assert (summary.files, summary.files_pending, summary.retries) == (1, 0, 1)
        assert summary.settled_on_retry == 1
        (placed,) = scf_requests(world)  # R6: one SCF request
        assert world.state.request(AB, request_id).active  # R7: nothing cancelled
        record = await world.ledger.request_record(AB, request_id)
        assert record.request is not None
        assert record.request.status is RequestStatus.FORWARDED
        assert record.request.scf_request_id == placed.request_id
        assert record.request.attempts == 2  # each try is an attempt
        # Staff see the first try's transient failure, then the forward of the second pass.
        assert await _request_events(world, request_id) == [
            ("request.fail", 1),
            ("request.forward", 2),
        ]
        (forward,) = await world.events(action="request.forward")
        assert "pass 2 of this run" in (forward.message or "")
        (failed,) = await world.events(action="request.fail")
        assert failed.details.get("transient") is True
        (finished,) = await world.events(action="file.finish")
        assert finished.outcome == "ok"
        assert await world.events(action="file.pending") == []
        (run,) = await world.events(action="requests.sync")
        assert (run.details["retries"], run.details["settled_on_retry"]) == (1, 1)
        assert (await forwarding.run(AB)).files == 0  # the file is done


@pytest.mark.parametrize("ledger", ["memory", "sqlite", "postgres"])
async def test_R7_a_request_failing_transiently_every_time_keeps_its_file_open_uncancelled(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, alma="http", ledger=ledger) as world:
        assert world.faults is not None
        mirror(world, AB, "AB0002")
        request_id, export = _hold(world)
        world.faults.fail_next(
            500, kind="error", status=503, institution=SCF, path_contains="/requests"
        )
        world.drop_request_file(AB, "r.xml", export)
        forwarding = request_forwarding(world.bridge, retry=QUICK)

        summary = await forwarding.run(AB)

        (outcome,) = summary.outcomes
        assert (outcome.action, outcome.transient, outcome.run_pass) == (Action.FAILED, True, 3)
        assert outcome.retry_later  # pending for the next run: not parked, not cancelled
        assert (summary.failed, summary.files_pending, summary.retries) == (1, 1, 2)
        assert summary.settled_on_retry == 0
        assert world.state.request(AB, request_id).active
        assert scf_requests(world) == []
        assert await world.events(action="request.cancel") == []
        assert await _request_events(world, request_id) == [
            ("request.fail", 1),
            ("request.fail", 2),
            ("request.fail", 3),
        ]
        record = await world.ledger.request_record(AB, request_id)
        assert record.request is not None
        assert (record.request.status, record.request.attempts) == (RequestStatus.FAILED, 3)
        (pending,) = await world.events(action="file.pending")
        assert "1 requests failed transiently (3 tries in this run)" in (pending.message or "")
        assert await world.events(action="file.finish") == []

        world.faults.clear_script()  # Alma is back: the next run forwards it from the open file
        again = await forwarding.run(AB)
        assert (again.files, again.forwarded, again.files_pending) == (1, 1, 0)
        assert len(scf_requests(world)) == 1


async def test_R7_a_refusal_is_not_retried_in_the_run(tmp_path: Path) -> None:
    """The pickup library's system user is missing in the SCF: Alma refuses (401890). Not a
    transient failure: one try, parked for replay, and the file is finished."""
    async with open_world(tmp_path, alma="http") as world:
        mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        export = request_export(
            [{"requestId": source.request_id, "barcode": "AB0002", "libraryCode": "ABMAIN"}]
        )
        world.drop_request_file(AB, "r.xml", export)

        summary = await request_forwarding(world.bridge, retry=QUICK).run(AB)

        assert (summary.failed, summary.retries, summary.files_pending) == (1, 0, 0)
        assert await _request_events(world, source.request_id) == [("request.fail", 1)]
        assert world.state.request(AB, source.request_id).active


class _AnswerLost:
    """The SCF gateway whose first request placement reaches Alma but loses its answer."""

    def __init__(self, gateway: Any) -> None:
        self._gateway = gateway
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gateway, name)

    async def create_item_request(self, *args: Any, **kwargs: Any) -> AlmaRequest:
        created: AlmaRequest = await self._gateway.create_item_request(*args, **kwargs)
        if not self.lost:
            self.lost += 1
            raise AlmaUnavailable(SCF, "create item request", error_message="connection reset")
        return created


class _Directory:
    def __init__(self, directory: Any, scf: _AnswerLost) -> None:
        self._directory = directory
        self._scf = scf

    def __getattr__(self, name: str) -> Any:
        return getattr(self._directory, name)

    def gateway(self, institution: str) -> Any:
        if institution.casefold() == SCF.casefold():
            return self._scf
        return self._directory.gateway(institution)


async def test_R6_a_retry_after_a_lost_answer_adopts_the_scf_request_not_a_second_one(
    tmp_path: Path,
) -> None:
    """The first try placed the SCF request, its answer was lost: the in-run retry plans again,
    Alma refuses the duplicate (allow_same_request=false) and the earlier request is adopted."""
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        request_id, export = _hold(world)
        scf = _AnswerLost(world.alma.gateway(SCF))
        bridge = dataclasses.replace(world.bridge, alma=_Directory(world.alma, scf))
        world.drop_request_file(AB, "r.xml", export)

        summary = await request_forwarding(bridge, retry=QUICK).run(AB)

        assert scf.lost == 1
        (outcome,) = summary.outcomes
        assert (outcome.action, outcome.run_pass) == (Action.FORWARDED, 2)
        (placed,) = world.state.requests_of(SCF, active=None)  # one, never two
        assert outcome.scf_request_id == placed.request_id
        (forward,) = await world.events(action="request.forward")
        assert forward.details["adopted"] is True
        assert world.state.request(AB, request_id).active


async def test_R7_a_waiting_request_failing_transiently_after_the_items_sync_is_retried(
    tmp_path: Path,
) -> None:
    """`retry_waiting` (after an items sync) retries in the run too: the waiting request's
    mirror now exists, its placement fails once after the adapter's retries, then goes through."""
    async with open_world(tmp_path, alma="http") as world:
        assert world.faults is not None
        request_id, export = _hold(world)
        world.drop_request_file(AB, "r.xml", export)
        forwarding = request_forwarding(world.bridge, retry=QUICK)
        first = await forwarding.run(AB)
        assert first.waiting == 1  # no mirror yet

        scf_item = mirror(world, AB, "AB0002")  # the items sync mirrored it
        await record_mirror(world, AB, "AB0002", scf_item)
        world.faults.fail_next(
            ADAPTER_ATTEMPTS, kind="error", status=502, institution=SCF, path_contains="/requests"
        )
        retried = await forwarding.retry_waiting(AB)

        (outcome,) = retried.outcomes
        assert (outcome.action, outcome.run_pass) == (Action.FORWARDED, 2)
        assert retried.retries == 1
        assert len(scf_requests(world)) == 1
        assert await _request_events(world, request_id) == [
            ("request.wait", 1),
            ("request.fail", 1),
            ("request.forward", 2),
        ]


def test_the_pause_before_each_extra_pass_is_an_exponential_backoff_with_jitter() -> None:
    retry = TransientRetry(wait_initial=1.0, wait_max=3.0, wait_jitter=0.5, random=lambda: 0.5)
    assert [retry.pause(n) for n in (1, 2, 3, 4)] == [1.25, 2.25, 3.25, 3.25]
    assert TransientRetry().passes == 2  # the default: up to two more passes
