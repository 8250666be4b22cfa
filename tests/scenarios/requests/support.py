"""Helpers for the request-forwarding scenarios: SCF mirrors, member requests, request files.

Mirrors are seeded straight into the fake SCF (and the ledger), as the items sync would have left
them, so these scenarios do not depend on `ItemSync`.
"""

from __future__ import annotations

from typing import Any

from adapters.fake_alma.model import Item, UserRequest
from application.scf.requests.outcomes import ForwardingSummary
from application.shared.ledger_records import MirroredItem
from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.world import SCF, World, request_export

SCF_LIBRARY, SCF_LOCATION, SCF_DESK = "RS", "rs_shared", "DEFAULT_CIRC_DESK"
AB_NZ_BIB = "9912345600000021"  # AB0001, AB0002: NZ-linked, in AB's remote storage
PATRON_DIGITIZATION = {
    "request_type": "DIGITIZATION",
    "request_sub_type": {"value": "PHYSICAL_TO_DIGITIZATION"},
    "partial_digitization": True,
    "required_pages_range": [{"from_page": "5", "to_page": "9"}],
    "chapter_or_article_title": "Cold storage",
    "copyrights_declaration_signed_by_patron": True,
    "comment": "Please scan",
    "volume": "3",
}


def mirror(world: World, institution: str, barcode: str) -> Item:
    """The SCF copy `{b}X` of a member item (N1, N2), under the SCF bib of its title (N4, N5)."""
    state = world.state
    member = state.item_by_barcode(institution, barcode)
    bib = state.bib(institution, member.mms_id)
    if bib.nz_mms_id:
        existing = state.find_bibs(SCF, nz_mms_id=bib.nz_mms_id)
        keys: dict[str, Any] = {"nz_mms_id": bib.nz_mms_id}
    else:
        other_id = f"({institution}){member.mms_id}"
        existing = state.find_bibs(SCF, other_system_id=other_id)
        keys = {"system_numbers": [other_id]}
    return state.seed_item(
        SCF,
        barcode=f"{barcode}X",
        library=SCF_LIBRARY,
        location=SCF_LOCATION,
        mms_id=existing[0].mms_id if existing else None,
        title="Mirrored title",
        item_data={"provenance": {"value": institution}},
        **keys,
    )


async def record_mirror(
    world: World, institution: str, barcode: str, scf_item: Item, *, loaned: bool = False
) -> MirroredItem:
    """The ledger row the items sync writes for a mirror; `loaned`: its I10 transit loan."""
    async with world.ledger.unit_of_work() as uow:
        row = await uow.items.upsert(
            institution,
            barcode,
            scf_mms_id=scf_item.mms_id,
            scf_holding_id=scf_item.holding_id,
            scf_item_pid=scf_item.pid,
        )
        if loaned:
            row = await uow.items.mark_loan(institution, barcode) or row
        await uow.commit()
    return row


def loan_scf_copy(world: World, scf_item: Item, user: str = "01AAA_AB-ABRS") -> None:
    """Loan the SCF copy (to the member's system user, as I10 does, unless told otherwise)."""
    world.state.create_loan(
        SCF, user, item_pid=scf_item.pid, circ_desk=SCF_DESK, library=SCF_LIBRARY
    )


def member_item_request(
    world: World, institution: str, barcode: str, user: str, body: dict[str, Any] | None = None
) -> UserRequest:
    """A member patron's item-level request, as Alma holds it before exporting it."""
    item = world.state.item_by_barcode(institution, barcode)
    return world.state.create_item_request(
        institution,
        item.mms_id,
        item.holding_id,
        item.pid,
        user,
        body or {"request_type": "HOLD", "pickup_location_type": "USER_HOME_ADDRESS"},
    )


def member_title_request(
    world: World, institution: str, mms_id: str, user: str, body: dict[str, Any] | None = None
) -> UserRequest:
    """A member patron's title-level request."""
    return world.state.create_title_request(
        institution,
        mms_id,
        user,
        body or {"request_type": "HOLD", "pickup_location_type": "USER_HOME_ADDRESS"},
    )


def scf_requests(world: World) -> list[UserRequest]:
    """The SCF's active requests (the SCF has none before forwarding)."""
    return world.state.requests_of(SCF, active=True)


async def forward(
    world: World, institution: str, *requests: dict[str, object], name: str = "requests_1.xml"
) -> ForwardingSummary:
    """Drop one request file for `institution` and run a requests `JOB_END` on it."""
    world.drop_request_file(institution, name, request_export(requests))
    return await request_forwarding(world.bridge).run(institution)
