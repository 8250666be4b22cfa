"""Contract: item and title requests (create, list, get, cancel) and a user's requests."""

from __future__ import annotations

import pytest

from application.shared.alma import AlmaError, DuplicateRequest, UserNotFound
from tests.integration.alma_contract.support import (
    AB,
    SCF,
    SCF_LIBRARY,
    SCF_USER,
    Backend,
    ids,
    scf_items,
)

HOLD = {
    "request_type": "HOLD",
    "pickup_location_type": "LIBRARY",
    "pickup_location_library": SCF_LIBRARY,
    "comment": "from AB request 123",
}


async def test_an_item_request_is_listed_and_read_through_bib_and_user(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "R1X")
    mms_id, holding_id, pid = ids(item)

    created = await gateway.create_item_request(mms_id, holding_id, pid, SCF_USER, HOLD)

    request_id = str(created.request_id)
    assert request_id
    assert (created.user_primary_id, created.mms_id) == (SCF_USER, mms_id)
    assert created.comment == "from AB request 123"
    assert created.request_status == "IN_PROCESS"
    assert created.raw["item_id"] == pid
    assert created.raw["barcode"] == "R1X"
    listed = await gateway.list_item_requests(mms_id, holding_id, pid)
    assert [r.request_id for r in listed] == [request_id]
    assert await gateway.get_title_request(mms_id, request_id) == created
    assert await gateway.get_user_request(SCF_USER, request_id) == created


async def test_a_title_request_and_a_duplicate_is_refused(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "R2X")
    mms_id = str(item.mms_id)

    created = await gateway.create_title_request(mms_id, SCF_USER, HOLD)

    assert created.mms_id == mms_id
    assert "item_id" not in created.raw
    assert await gateway.get_title_request(mms_id, str(created.request_id)) == created
    with pytest.raises(AlmaError) as caught:
        await gateway.create_title_request(mms_id, SCF_USER, HOLD)
    assert type(caught.value) is DuplicateRequest
    assert caught.value.error_code == "401136"


async def test_a_request_for_an_unknown_user_is_user_not_found(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "R3X")
    made = await gateway.create_item_request(*ids(item), SCF_USER, HOLD)

    with pytest.raises(UserNotFound) as on_create:
        await gateway.create_item_request(*ids(item), "nobody", HOLD)
    with pytest.raises(UserNotFound) as on_read:
        await gateway.get_user_request("nobody", str(made.request_id))

    assert on_create.value.error_code == "401890"
    assert on_read.value.error_code == "401861"


async def test_cancel_item_request_records_reason_note_and_notify_flag(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "C1X")
    mms_id, holding_id, pid = ids(item)
    created = await gateway.create_item_request(mms_id, holding_id, pid, SCF_USER, HOLD)
    request_id = str(created.request_id)

    await gateway.cancel_item_request(
        mms_id,
        holding_id,
        pid,
        request_id,
        reason="CannotBeFulfilled",
        note="Item not found in remote storage & gone",
        notify_user=True,
    )

    recorded = backend.state.institution(SCF).requests[request_id]
    assert (recorded.active, recorded.request_status) == (False, "HISTORY")
    assert recorded.cancel_reason == "CannotBeFulfilled"
    assert recorded.cancel_note == "Item not found in remote storage & gone"
    assert recorded.notify_user is True
    assert await gateway.list_item_requests(mms_id, holding_id, pid) == []
    with pytest.raises(AlmaError) as twice:
        await gateway.cancel_item_request(
            mms_id, holding_id, pid, request_id, reason="X", note="", notify_user=None
        )
    assert twice.value.error_code == "401694"


async def test_cancel_title_and_user_requests_record_their_flags(backend: Backend) -> None:
    gateway = backend.gateway()
    first, second = await scf_items(gateway, "C2X", "C3X")
    by_bib = await gateway.create_item_request(*ids(first), SCF_USER, HOLD)
    by_user = await gateway.create_item_request(*ids(second), SCF_USER, HOLD)

    await gateway.cancel_title_request(
        str(first.mms_id), str(by_bib.request_id), reason="R1", note="N1", notify_user=False
    )
    await gateway.cancel_user_request(
        SCF_USER, str(by_user.request_id), reason="R2", note="", notify_user=None
    )

    requests = backend.state.institution(SCF).requests
    cancelled_by_bib = requests[str(by_bib.request_id)]
    cancelled_by_user = requests[str(by_user.request_id)]
    assert (cancelled_by_bib.cancel_reason, cancelled_by_bib.cancel_note) == ("R1", "N1")
    assert cancelled_by_bib.notify_user is False
    assert (cancelled_by_user.cancel_reason, cancelled_by_user.cancel_note) == ("R2", "")
    assert cancelled_by_user.notify_user is None
    assert not cancelled_by_bib.active
    assert not cancelled_by_user.active


async def test_list_user_requests_pages_active_requests(backend: Backend) -> None:
    gateway = backend.gateway()
    items = await scf_items(gateway, "Q1X", "Q2X", "Q3X")
    made = [await gateway.create_item_request(*ids(i), SCF_USER, HOLD) for i in items]

    first = await gateway.list_user_requests(SCF_USER, limit=2)
    rest = await gateway.list_user_requests(SCF_USER, limit=2, offset=2)
    await gateway.cancel_user_request(
        SCF_USER, str(made[0].request_id), reason="R", note="", notify_user=None
    )
    after_cancel = await gateway.list_user_requests(SCF_USER)

    assert [r.request_id for r in first.records] == [m.request_id for m in made[:2]]
    assert (first.total_record_count, first.next_offset) == (3, 2)
    assert [r.request_id for r in rest.records] == [made[2].request_id]
    assert rest.next_offset is None
    assert after_cancel.total_record_count == 2


async def test_a_seeded_member_request_is_read_through_its_user(backend: Backend) -> None:
    gateway = backend.gateway(AB)

    page = await gateway.list_user_requests("ab_patron1")

    assert page.total_record_count == 1
    (seeded,) = page.records
    assert seeded.comment == "Seeded hold"
    assert seeded.raw["barcode"] == "AB0001"


async def test_every_active_request_on_an_item_is_listed_past_alma_s_default_page(
    backend: Backend,
) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "R4X")
    for n in range(12):  # Alma's default page holds 10
        user = f"patron-{n:02d}"
        backend.state.add_user(SCF, {"primary_id": user, "first_name": "P", "last_name": str(n)})
        await gateway.create_item_request(*ids(item), user, HOLD)

    listed = await gateway.list_item_requests(*ids(item))

    assert sorted(str(r.user_primary_id) for r in listed) == [f"patron-{n:02d}" for n in range(12)]
