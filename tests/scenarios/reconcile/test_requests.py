"""Reconciling forwarded requests: an SCF request lost while the member's is active is forwarded
again; an SCF request whose member request is gone is cancelled (issue 7, R4, R6, R7, C2)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from adapters.fake_alma.model import UserRequest
from application.shared.ledger_records import RequestStatus
from domain.scf.reconciliation import FindingKind, scf_cancel_note
from tests.scenarios.reconcile.support import (
    LEDGERS,
    SYSTEM_USER,
    fix_then_clean,
    mirrored_world,
    only,
    plan_without_writes,
    reconcile_events,
    return_loan_by_hand,
    scf_item,
)
from tests.scenarios.requests.support import PATRON_DIGITIZATION, forward, member_item_request
from tests.scenarios.world import AB, SCF, LedgerKind, World

pytestmark = pytest.mark.parametrize("ledger", LEDGERS)


@asynccontextmanager
async def forwarded_world(
    tmp_path: Path, ledger: LedgerKind, *, request_type: str = "PATRON_PHYSICAL"
) -> AsyncIterator[tuple[World, UserRequest, UserRequest]]:
    """AB7001 mirrored by a sync, and a patron's hold on it forwarded by a requests sync;
    yields the world, the member request and the SCF request."""
    async with mirrored_world(tmp_path, ledger) as world:
        body = PATRON_DIGITIZATION if request_type == "PHYSICAL_TO_DIGITIZATION" else None
        source = member_item_request(world, AB, "AB7001", "ab_patron2", body)
        summary = await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "requestType": request_type,
                "barcode": "AB7001",
                "mmsId": source.mms_id,
                "pickup": "AB Remote Storage Library",
                "patron": {"patronIdentifier": "ab_patron2"},
            },
        )
        assert summary.forwarded == 1, summary
        (placed,) = world.state.requests_of(SCF, active=True)
        yield world, source, placed


async def _row_status(world: World, request_id: str) -> tuple[RequestStatus, str | None]:
    row = (await world.ledger.request_record(AB, request_id)).request
    assert row is not None
    return row.status, row.scf_request_id


async def test_R4_an_SCF_request_deleted_while_the_member_request_is_active_is_forwarded_again(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with forwarded_world(tmp_path, ledger) as (world, source, lost):
        world.state.cancel_request(SCF, lost.request_id, reason="CancelledAtPatronRequest")
        plan = await plan_without_writes(world)
        only(plan, FindingKind.REQUEST_LOST_IN_SCF, source.request_id)

        await fix_then_clean(world)
        (again,) = world.state.requests_of(SCF, active=True)
        assert again.request_id != lost.request_id
        assert (again.item_pid, again.user_primary_id) == (
            scf_item(world, "AB7001").pid,
            SYSTEM_USER,
        )
        assert await _row_status(world, source.request_id) == (
            RequestStatus.FORWARDED,
            again.request_id,
        )
        assert world.state.request(AB, source.request_id).active  # the patron keeps the hold
        record = await world.ledger.request_record(AB, source.request_id)
        actions = [(e.action, e.outcome) for e in record.events]
        assert actions[-2:] == [("request.forward", "ok"), ("reconcile.request_lost_in_scf", "ok")]


async def test_R4_an_SCF_request_gone_from_Alma_altogether_is_forwarded_again(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with forwarded_world(tmp_path, ledger) as (world, source, lost):
        del world.state.institution(SCF).requests[lost.request_id]  # Alma answers 401694
        plan = await plan_without_writes(world)
        only(plan, FindingKind.REQUEST_LOST_IN_SCF, source.request_id)
        await fix_then_clean(world)
        assert len(world.state.requests_of(SCF, active=True)) == 1


async def test_a_fulfilled_SCF_request_is_not_lost(tmp_path: Path, ledger: LedgerKind) -> None:
    async with forwarded_world(tmp_path, ledger) as (world, _source, placed):
        # The mirror arrived (its transit loan returned, C1 recorded it); then the SCF filled
        # the hold: the item went out on loan to the pickup library's user, so the SCF request
        # is over while the member request waits for the item. That is no loss.
        return_loan_by_hand(world, "AB7001")
        async with world.ledger.unit_of_work() as uow:
            await uow.items.mark_loan_returned(AB, "AB7001")
            await uow.commit()
        item = scf_item(world, "AB7001")
        world.state.cancel_request(SCF, placed.request_id)
        world.state.create_loan(
            SCF, SYSTEM_USER, item_pid=item.pid, circ_desk="DEFAULT_CIRC_DESK", library="RS"
        )
        plan = await plan_without_writes(world)
        assert plan.entries == (), plan.summary()


async def test_C2_an_SCF_request_whose_member_request_was_cancelled_is_cancelled(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with forwarded_world(tmp_path, ledger) as (world, source, placed):
        world.state.cancel_request(AB, source.request_id, reason="CancelledAtPatronRequest")
        plan = await plan_without_writes(world)
        only(plan, FindingKind.REQUEST_LOST_AT_SOURCE, source.request_id)
        assert world.state.request(SCF, placed.request_id).active

        await fix_then_clean(world)
        cancelled = world.state.request(SCF, placed.request_id)
        assert not cancelled.active
        assert cancelled.cancel_reason == "CannotBeFulfilled"
        assert cancelled.cancel_note == scf_cancel_note(AB, source.request_id)
        assert cancelled.notify_user is False
        assert (await _row_status(world, source.request_id))[0] is RequestStatus.CANCELLED
        (event,) = await reconcile_events(world)
        assert (event.action, event.request_id, event.details["scf_request_id"]) == (
            "reconcile.request_lost_at_source",
            source.request_id,
            placed.request_id,
        )


async def test_a_patron_digitization_switched_off_at_the_member_is_not_a_finding(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with forwarded_world(tmp_path, ledger, request_type="PHYSICAL_TO_DIGITIZATION") as (
        world,
        source,
        _placed,
    ):
        # The bridge cancelled the member request itself (RequestSwitched, research §7.4.3).
        assert not world.state.request(AB, source.request_id).active
        plan = await plan_without_writes(world)
        assert plan.entries == ()
