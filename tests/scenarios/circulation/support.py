"""Circulation scenarios' helpers: mirror a member item into the SCF the way items sync does."""

from __future__ import annotations

from typing import Any

from adapters.fake_alma.model import Item
from application.shared.ledger_records import RequestStatus
from tests.scenarios.world import SCF, World

SCF_DESK = "DEFAULT_CIRC_DESK"
HOLD = {"request_type": "HOLD", "pickup_location_type": "LIBRARY"}


async def mirror(world: World, owner: str, barcode: str, *, home_library: str) -> Item:
    """The SCF copy `{b}X` with provenance `owner` (N1, N2), loaned in transit to the owner's
    system user (I10), and the ledger's mirror row with that loan open (R7)."""
    member = world.state.item_by_barcode(owner, barcode)
    copy = world.state.seed_item(
        SCF,
        barcode=f"{barcode}X",
        library="RS",
        location="rs_shared",
        title=f"Mirror of {barcode}",
        item_data={"provenance": {"value": owner}},
    )
    world.state.create_loan(
        SCF, f"{owner}-{home_library}", item_pid=copy.pid, circ_desk=SCF_DESK, library="RS"
    )
    async with world.ledger.unit_of_work() as uow:
        await uow.items.upsert(
            owner,
            barcode,
            scf_mms_id=copy.mms_id,
            scf_holding_id=copy.holding_id,
            scf_item_pid=copy.pid,
            member_mms_id=member.mms_id,
            member_item_pid=member.pid,
        )
        await uow.items.mark_loan(owner, barcode)
        await uow.commit()
    return copy


def scf_returns(world: World, copy: Item) -> None:
    """SCF staff return the transit loan at the SCF desk: what makes Alma send LOAN_RETURNED."""
    world.state.scan_in(
        SCF, copy.mms_id, copy.holding_id, copy.pid, library="RS", circ_desk=SCF_DESK, done=True
    )


def send_in_transit(world: World, owner: str, barcode: str, *, via: str) -> Item:
    """The member item scanned at another library: in transit until scanned in at home."""
    item = world.state.item_by_barcode(owner, barcode)
    world.state.scan_in(
        owner, item.mms_id, item.holding_id, item.pid, library=via, circ_desk=SCF_DESK
    )
    assert item.process_type == "TRANSIT"
    return item


def hold(world: World, owner: str, barcode: str, user: str, pickup: str) -> str:
    """A new active hold of `user` on the member item; its request id."""
    item = world.state.item_by_barcode(owner, barcode)
    body: dict[str, Any] = {**HOLD, "pickup_location_library": pickup}
    request = world.state.create_item_request(
        owner, item.mms_id, item.holding_id, item.pid, user, body
    )
    return request.request_id


async def forwarded(
    world: World,
    owner: str,
    request_id: str,
    scf_request_id: str,
    *,
    barcode: str | None = None,
    mms_id: str | None = None,
    user_id: str | None = None,
    route: str = "item_hold",
) -> None:
    """The ledger row RequestForwarding writes once the SCF request exists (R6, C2)."""
    async with world.ledger.unit_of_work() as uow:
        await uow.requests.upsert(
            owner,
            request_id,
            route=route,
            status=RequestStatus.FORWARDED,
            barcode=barcode,
            mms_id=mms_id,
            scf_request_id=scf_request_id,
            user_id=user_id,
        )
        await uow.commit()
