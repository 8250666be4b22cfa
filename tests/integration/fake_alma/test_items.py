"""Items: the barcode redirect, encoded barcodes, paging, PUT/POST/DELETE and scan-in."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from adapters.fake_alma import FakeAlmaState
from tests.integration.fake_alma.conftest import AB, API, BASE, CD, KEYS, SCF, error_code, headers


async def test_barcode_lookup_redirects_to_the_item_and_the_item_follows(
    client: httpx.AsyncClient, item_url: Callable[[str, str], str]
) -> None:
    response = await client.get(
        f"{API}/items", params={"item_barcode": "AB0001"}, headers=headers(AB)
    )
    assert response.status_code == 302
    assert response.headers["location"] == BASE + item_url(AB, "AB0001")
    followed = await client.get(response.headers["location"], headers=headers(AB))
    assert followed.status_code == 200
    body = followed.json()
    assert body["item_data"]["barcode"] == "AB0001"
    assert body["item_data"]["library"] == {"value": "ABRS", "desc": "AB Remote Storage Library"}
    assert body["item_data"]["location"]["value"] == "rs_shared_in_ab"
    assert body["link"] == BASE + item_url(AB, "AB0001")
    assert "(EXLNZ-01AAA_NETWORK)9912345600000021" in body["bib_data"]["network_number"]


async def test_unknown_barcode_is_400_with_401689(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/items", params={"item_barcode": "AB0001X"}, headers=headers(AB)
    )
    assert response.status_code == 400
    assert error_code(response) == "401689"
    assert response.json()["errorList"]["error"][0]["errorMessage"] == (
        "No items found for barcode AB0001X."
    )


async def test_barcodes_are_per_institution(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/items", params={"item_barcode": "AB0001"}, headers=headers(CD)
    )
    assert error_code(response) == "401689"


@pytest.mark.parametrize("barcode", ["AB 0003+4&5#6", "B+1", "B&2", "B#3", "B 4", "B%5/6?"])
async def test_barcodes_with_reserved_characters_round_trip(
    client: httpx.AsyncClient, state: FakeAlmaState, barcode: str
) -> None:
    if state.find_item(AB, barcode) is None:
        state.seed_item(AB, barcode=barcode, library="ABRS", location="stacks")
    response = await client.get(
        f"{API}/items", params={"item_barcode": barcode}, headers=headers(AB), follow_redirects=True
    )
    assert response.status_code == 200, response.text
    assert response.json()["item_data"]["barcode"] == barcode


async def test_redirect_keeps_a_query_apikey_and_format(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    response = await client.get(
        f"{API}/items",
        params={"item_barcode": "AB0002", "apikey": KEYS[AB], "format": "json"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert response.json()["item_data"]["barcode"] == "AB0002"
    assert all(r.param("apikey") in (None, "***") for r in state.call_log)


async def test_items_list_pages_with_limit_and_offset(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    first = state.seed_item(
        SCF, barcode="P000X", library="RS", location="rs_shared", title="Serial"
    )
    for number in range(1, 25):
        state.seed_item(
            SCF, barcode=f"P{number:03d}X", library="RS", location="rs_shared", mms_id=first.mms_id
        )
    url = f"{API}/bibs/{first.mms_id}/holdings/{first.holding_id}/items"
    default = await client.get(url, headers=headers(SCF))
    assert default.json()["total_record_count"] == 25
    assert len(default.json()["item"]) == 10
    seen: list[str] = []
    offset = 0
    while True:
        page = await client.get(url, params={"limit": 7, "offset": offset}, headers=headers(SCF))
        body = page.json()
        seen += [i["item_data"]["barcode"] for i in body.get("item", [])]
        offset += 7
        if offset >= body["total_record_count"]:
            break
    assert seen == [f"P{n:03d}X" for n in range(25)]
    empty = await client.get(url, params={"limit": 0}, headers=headers(SCF))
    assert empty.json() == {"total_record_count": 25}
    past = await client.get(url, params={"offset": 100}, headers=headers(SCF))
    assert past.json() == {"total_record_count": 25}
    for bad in ({"limit": 101}, {"limit": -1}, {"offset": "x"}):
        refused = await client.get(url, params=bad, headers=headers(SCF))
        assert refused.status_code == 400


async def test_items_of_an_unknown_bib_or_holding_are_401688(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    item = state.find_item(AB, "AB0001")
    assert item is not None
    for url in (
        f"{API}/bibs/123/holdings/ALL/items",
        f"{API}/bibs/{item.mms_id}/holdings/456/items",
    ):
        response = await client.get(url, headers=headers(AB))
        assert response.status_code == 400
        assert error_code(response) == "401688"


async def test_get_item_at_the_wrong_holding_is_401683(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    item = state.find_item(AB, "AB0001")
    assert item is not None
    response = await client.get(
        f"{API}/bibs/{item.mms_id}/holdings/999/items/{item.pid}", headers=headers(AB)
    )
    assert error_code(response) == "401683"


async def test_post_item_takes_the_holdings_location_and_alma_sets_ids(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    # The SCF bridge's item body (rule I9): the member item with barcode+X and provenance,
    # minus the keys the bridge removes.
    member = await client.get(
        f"{API}/items",
        params={"item_barcode": "AB0001"},
        headers=headers(AB),
        follow_redirects=True,
    )
    body = member.json()
    body["item_data"]["barcode"] = "AB0001X"
    body["item_data"]["provenance"] = {"value": AB}
    for key in ("po_line", "library", "location", "policy", "internal_note_1", "internal_note_3"):
        body["item_data"].pop(key)
    for key in ("temp_library", "in_temp_location", "temp_location", "temp_policy"):
        body["holding_data"].pop(key)
    bib = state.create_bib_from_nz(SCF, "9912345600000021")
    holding = state.create_holding(SCF, bib.mms_id, library="RS", location="rs_shared")
    created = await client.post(
        f"{API}/bibs/{bib.mms_id}/holdings/{holding.holding_id}/items",
        json=body,
        headers=headers(SCF),
    )
    assert created.status_code == 200, created.text
    data = created.json()["item_data"]
    assert data["pid"] != body["item_data"]["pid"]
    assert data["barcode"] == "AB0001X"
    assert data["provenance"] == {"value": AB, "desc": "AB University"}
    assert data["library"] == {"value": "RS", "desc": "Shared Collection Facility"}
    assert data["location"]["value"] == "rs_shared"
    assert data["internal_note_2"] == "shelf A-12"
    assert data["policy"] == {"value": "", "desc": None}
    again = await client.post(
        f"{API}/bibs/{bib.mms_id}/holdings/{holding.holding_id}/items",
        json=body,
        headers=headers(SCF),
    )
    assert again.status_code == 400


async def test_put_item_replaces_fields_and_renames_the_barcode(
    client: httpx.AsyncClient, state: FakeAlmaState, item_url: Callable[[str, str], str]
) -> None:
    url = item_url(AB, "AB0001")
    body = (await client.get(url, headers=headers(AB))).json()
    body["item_data"]["public_note"] = "Fragile"
    body["item_data"]["barcode"] = "AB0001-NEW"
    del body["item_data"]["internal_note_2"]
    body["item_data"]["process_type"] = {"value": "MISSING"}
    updated = await client.put(url, json=body, headers=headers(AB))
    assert updated.status_code == 200, updated.text
    data = updated.json()["item_data"]
    assert data["public_note"] == "Fragile"
    assert data["internal_note_2"] == ""
    assert data["process_type"]["value"] == ""
    assert state.find_item(AB, "AB0001") is None
    assert state.find_item(AB, "AB0001-NEW") is not None
    body["item_data"]["barcode"] = "AB0002"
    clash = await client.put(url, json=body, headers=headers(AB))
    assert clash.status_code == 400
    assert state.find_item(AB, "AB0001-NEW") is not None


async def test_delete_item_refuses_a_loaned_item_unless_override(
    client: httpx.AsyncClient, state: FakeAlmaState, item_url: Callable[[str, str], str]
) -> None:
    url = item_url(CD, "CD0001")
    item = state.find_item(CD, "CD0001")
    assert item is not None
    state.create_loan(
        CD, "cd_patron1", item_pid=item.pid, circ_desk="DEFAULT_CIRC_DESK", library="CDRS"
    )
    refused = await client.delete(url, headers=headers(CD))
    assert refused.status_code == 400
    assert "on loan" in refused.json()["errorList"]["error"][0]["errorMessage"]
    assert state.find_item(CD, "CD0001") is not None
    deleted = await client.delete(url, params={"override": "true"}, headers=headers(CD))
    assert deleted.status_code == 204
    assert state.find_item(CD, "CD0001") is None
    assert state.loans_of(CD, "cd_patron1") == []
    gone = await client.get(url, headers=headers(CD))
    assert error_code(gone) == "401683"


async def test_delete_with_holdings_delete_removes_an_empty_holding(
    client: httpx.AsyncClient, state: FakeAlmaState, item_url: Callable[[str, str], str]
) -> None:
    item = state.find_item(AB, "AB0004")
    assert item is not None
    response = await client.delete(
        item_url(AB, "AB0004"), params={"holdings": "delete"}, headers=headers(AB)
    )
    assert response.status_code == 204
    assert item.holding_id not in state.institution(AB).holdings


async def test_loan_then_scan_in_completes_the_transit(
    client: httpx.AsyncClient, state: FakeAlmaState, item_url: Callable[[str, str], str]
) -> None:
    item = state.find_item(CD, "CD0001")
    assert item is not None
    loan = await client.post(
        f"{API}/users/cd_patron1/loans",
        params={"item_pid": item.pid},
        json={"circ_desk": {"value": "DEFAULT_CIRC_DESK"}, "library": {"value": "CDRS"}},
        headers=headers(CD),
    )
    assert loan.status_code == 200, loan.text
    assert loan.json()["loan_status"] == "ACTIVE"
    on_loan = await client.get(item_url(CD, "CD0001"), headers=headers(CD))
    assert on_loan.json()["item_data"]["process_type"] == {"value": "LOAN", "desc": "Loan"}

    missing_desk = await client.post(
        item_url(CD, "CD0001"),
        params={"op": "scan", "library": "CDRS", "done": "true"},
        headers=headers(CD),
    )
    assert missing_desk.status_code == 400
    assert error_code(missing_desk) == "40166415"

    scanned = await client.post(
        item_url(CD, "CD0001"),
        params={"op": "scan", "library": "CDRS", "circ_desk": "DEFAULT_CIRC_DESK", "done": "true"},
        headers=headers(CD),
    )
    assert scanned.status_code == 200, scanned.text
    body = scanned.json()
    assert body["item_data"]["process_type"] == {"value": "", "desc": None}
    assert body["item_data"]["base_status"] == {"value": "1", "desc": "Item in place"}
    assert body["additional_info"].startswith(
        "Item's destination is: Reshelve to rs_shared_1 CDRS."
    )
    assert state.loans_of(CD, "cd_patron1") == []
    (returned,) = state.loans_of(CD, "cd_patron1", active=None)
    assert returned.status == "COMPLETE"
    assert returned.return_circ_desk == "DEFAULT_CIRC_DESK"


async def test_scan_with_a_waiting_hold_puts_the_item_on_the_hold_shelf(
    client: httpx.AsyncClient, state: FakeAlmaState, item_url: Callable[[str, str], str]
) -> None:
    # AB0001 has a seeded hold for pickup at ABMAIN; scanned at ABRS it goes in transit there.
    scanned = await client.post(
        item_url(AB, "AB0001"),
        params={"op": "scan", "library": "ABRS", "circ_desk": "DEFAULT_CIRC_DESK", "done": "true"},
        headers=headers(AB),
    )
    body = scanned.json()
    assert body["item_data"]["process_type"]["value"] == "TRANSIT"
    assert "Transit to AB Main Library" in body["additional_info"]
    assert "Requester ID: ab_patron1" in body["additional_info"]
    at_pickup = await client.post(
        item_url(AB, "AB0001"),
        params={
            "op": "scan",
            "library": "ABMAIN",
            "circ_desk": "DEFAULT_CIRC_DESK",
            "done": "true",
        },
        headers=headers(AB),
    )
    assert at_pickup.json()["item_data"]["process_type"]["value"] == "HOLDSHELF"
    (hold,) = state.requests_of(AB, item_pid=at_pickup.json()["item_data"]["pid"])
    assert hold.request_status == "ON_HOLD_SHELF"


async def test_scan_of_an_unknown_pid_is_40166411(
    client: httpx.AsyncClient, item_url: Callable[[str, str], str]
) -> None:
    url = item_url(CD, "CD0003").rsplit("/", 1)[0] + "/230000"
    response = await client.post(
        url,
        params={"op": "scan", "library": "CDRS", "circ_desk": "DEFAULT_CIRC_DESK"},
        headers=headers(CD),
    )
    assert error_code(response) == "40166411"
    assert response.json()["errorList"]["error"][0]["errorMessage"] == (
        "The parameter item_pid is invalid. Received: 230000."
    )


async def test_unknown_query_parameters_such_as_retry_are_ignored(
    client: httpx.AsyncClient, item_url: Callable[[str, str], str]
) -> None:
    # The Java app appends retry=N on retries (scf-java-app §8).
    response = await client.get(item_url(AB, "AB0002"), params={"retry": "3"}, headers=headers(AB))
    assert response.status_code == 200
