"""Requests: item- and title-level, duplicates, cancellation details, per-user views."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from adapters.fake_alma import FakeAlmaState
from tests.integration.fake_alma.conftest import AB, API, CD, SCF, error_code, headers

SCF_HOLD = {
    "request_type": "HOLD",
    "request_sub_type": {"value": "PATRON_PHYSICAL", "desc": "Patron physical item request"},
    "pickup_location_type": "USER_HOME_ADDRESS",
    "task_name": "Pickup From Shelf",
    "user_primary_id": "01AAA_AB-ABRS",
    "comment": "Patron: Ada || request type: PATRON_PHYSICAL || Internal identifier: 1",
}


async def test_second_request_of_a_user_on_an_item_needs_allow_same_request(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    item = state.seed_item(SCF, barcode="AB0001X", library="RS", location="rs_shared")
    url = f"{API}/bibs/{item.mms_id}/holdings/{item.holding_id}/items/{item.pid}/requests"
    first = await client.post(
        url, params={"user_id": "01AAA_AB-ABRS"}, json=SCF_HOLD, headers=headers(SCF)
    )
    assert first.status_code == 200, first.text
    assert first.json()["comment"] == SCF_HOLD["comment"]
    assert first.json()["barcode"] == "AB0001X"
    assert first.json()["request_status"] == "IN_PROCESS"
    duplicate = await client.post(
        url, params={"user_id": "01AAA_AB-ABRS"}, json=SCF_HOLD, headers=headers(SCF)
    )
    assert duplicate.status_code == 400
    assert error_code(duplicate) == "401136"
    allowed = await client.post(
        url,
        params={"user_id": "01AAA_AB-ABRS", "allow_same_request": "true"},
        json=SCF_HOLD,
        headers=headers(SCF),
    )
    assert allowed.status_code == 200
    assert allowed.json()["place_in_queue"] == 2
    listed = await client.get(url, headers=headers(SCF))
    assert listed.json()["total_record_count"] == 2
    assert state.find_item(SCF, "AB0001X").data["requested"] is True  # type: ignore[union-attr]


async def test_request_for_an_unknown_user_or_item(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    item = state.seed_item(SCF, barcode="CD0001X", library="RS", location="rs_shared_1")
    url = f"{API}/bibs/{item.mms_id}/holdings/{item.holding_id}/items/{item.pid}/requests"
    no_user = await client.post(
        url, params={"user_id": "nobody"}, json=SCF_HOLD, headers=headers(SCF)
    )
    assert error_code(no_user) == "401890"
    bad_item = url.replace(item.pid, "23000")
    no_item = await client.post(
        bad_item, params={"user_id": "01AAA_CD-CDRS"}, json=SCF_HOLD, headers=headers(SCF)
    )
    assert error_code(no_item) == "401683"


async def test_cancel_item_request_records_reason_and_note(
    client: httpx.AsyncClient, state: FakeAlmaState, item_url: Callable[[str, str], str]
) -> None:
    (seeded,) = state.requests_of(AB, user_id="ab_patron1")
    url = f"{item_url(AB, 'AB0001')}/requests/{seeded.request_id}"
    response = await client.delete(
        url, params={"reason": "CannotBeFulfilled", "note": "Item is on loan"}, headers=headers(AB)
    )
    assert response.status_code == 204
    assert seeded.active is False
    assert (seeded.cancel_reason, seeded.cancel_note, seeded.notify_user) == (
        "CannotBeFulfilled",
        "Item is on loan",
        None,
    )
    assert state.find_item(AB, "AB0001").data["requested"] is False  # type: ignore[union-attr]
    again = await client.delete(url, params={"reason": "CannotBeFulfilled"}, headers=headers(AB))
    assert again.status_code == 400
    history = await client.get(
        f"{API}/users/ab_patron1/requests", params={"status": "history"}, headers=headers(AB)
    )
    assert history.json()["total_record_count"] == 1


async def test_title_level_request_cancel_via_bib_records_notify(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    item = state.find_item(CD, "CD0002")
    assert item is not None
    created = await client.post(
        f"{API}/bibs/{item.mms_id}/requests",
        params={"user_id": "cd_patron1"},
        json={
            "request_type": "HOLD",
            "pickup_location_type": "LIBRARY",
            "pickup_location_library": "CDRS",
        },
        headers=headers(CD),
    )
    assert created.status_code == 200, created.text
    request_id = created.json()["request_id"]
    got = await client.get(f"{API}/bibs/{item.mms_id}/requests/{request_id}", headers=headers(CD))
    assert got.json()["request_id"] == request_id
    cancelled = await client.delete(
        f"{API}/bibs/{item.mms_id}/requests/{request_id}",
        params={
            "reason": "RequestSwitched",
            "notify_user": "false",
            "note": "Request will be handled by the remote storage.",
        },
        headers=headers(CD),
    )
    assert cancelled.status_code == 204
    request = state.request(CD, request_id)
    assert (request.cancel_reason, request.cancel_note, request.notify_user) == (
        "RequestSwitched",
        "Request will be handled by the remote storage.",
        False,
    )


async def test_item_requests_are_readable_through_the_bib_path(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    # The Java app reads member item-level requests with GET /bibs/{mms}/requests/{rid}.
    (seeded,) = state.requests_of(CD, user_id="cd_patron1")
    response = await client.get(
        f"{API}/bibs/{seeded.mms_id}/requests/{seeded.request_id}", headers=headers(CD)
    )
    body = response.json()
    assert body["request_type"] == "DIGITIZATION"
    assert body["request_sub_type"] == {
        "value": "PHYSICAL_TO_DIGITIZATION",
        "desc": "Patron digitization request",
    }
    assert body["partial_digitization"] is True
    assert body["barcode"] == "CD0002"
    wrong_bib = await client.get(
        f"{API}/bibs/990/requests/{seeded.request_id}", headers=headers(CD)
    )
    assert wrong_bib.status_code == 400


async def test_title_request_on_a_bib_without_items_is_401129(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    bib = state.create_bib(CD, title="Nothing on the shelf")
    response = await client.post(
        f"{API}/bibs/{bib.mms_id}/requests",
        params={"user_id": "cd_patron1"},
        json={"request_type": "HOLD"},
        headers=headers(CD),
    )
    assert error_code(response) == "401129"


async def test_user_requests_get_filter_and_cancel_with_notify(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    listed = await client.get(f"{API}/users/ABP0001/requests", headers=headers(AB))
    (request,) = listed.json()["user_request"]
    holds = await client.get(
        f"{API}/users/ab_patron1/requests",
        params={"request_type": "DIGITIZATION"},
        headers=headers(AB),
    )
    assert holds.json() == {"total_record_count": 0}
    one = await client.get(
        f"{API}/users/ab_patron1/requests/{request['request_id']}", headers=headers(AB)
    )
    assert one.json()["user_primary_id"] == "ab_patron1"
    other_user = await client.get(
        f"{API}/users/ab_patron2/requests/{request['request_id']}", headers=headers(AB)
    )
    assert other_user.status_code == 400
    cancelled = await client.delete(
        f"{API}/users/ab_patron1/requests/{request['request_id']}",
        params={
            "reason": "CannotBeFulfilled",
            "notify_user": "true",
            "note": "Request could not be fulfilled by the SCF.",
        },
        headers=headers(AB),
    )
    assert cancelled.status_code == 204
    stored = state.request(AB, request["request_id"])
    assert stored.notify_user is True
    assert stored.cancel_note == "Request could not be fulfilled by the SCF."


async def test_user_requests_post_by_item_pid_and_mms_id(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    item = state.find_item(AB, "AB0002")
    assert item is not None
    by_item = await client.post(
        f"{API}/users/ab_patron2/requests",
        params={"item_pid": item.pid},
        json={"request_type": "HOLD"},
        headers=headers(AB),
    )
    assert by_item.json()["item_id"] == item.pid
    by_bib = await client.post(
        f"{API}/users/ab_patron2/requests",
        params={"mms_id": item.mms_id},
        json={"request_type": "HOLD"},
        headers=headers(AB),
    )
    assert "item_id" not in by_bib.json()
    assert len(state.requests_of(AB, user_id="ab_patron2")) == 2
