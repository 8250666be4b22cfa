"""Users (identifier types, linked accounts, refresh) and loans."""

from __future__ import annotations

import httpx

from adapters.fake_alma import FakeAlmaState
from tests.integration.fake_alma.conftest import AB, API, CD, SCF, error_code, headers


async def test_user_lookup_by_identifier_types(client: httpx.AsyncClient) -> None:
    by_barcode = await client.get(
        f"{API}/users/ABP0001", params={"user_id_type": "all_unique"}, headers=headers(AB)
    )
    assert by_barcode.json()["primary_id"] == "ab_patron1"
    by_link = await client.get(
        f"{API}/users/7100000000000004101",
        params={"user_id_type": "linking_id"},
        headers=headers(AB),
    )
    assert by_link.json()["primary_id"] == "ab_patron1"
    missing = await client.get(f"{API}/users/ogrouch", headers=headers(AB))
    assert missing.status_code == 400
    assert error_code(missing) == "401861"
    assert (
        missing.json()["errorList"]["error"][0]["errorMessage"]
        == "User with identifier ogrouch was not found."
    )
    no_link = await client.get(
        f"{API}/users/1", params={"user_id_type": "linking_id"}, headers=headers(AB)
    )
    assert error_code(no_link) == "4019998"


async def test_system_user_ids_with_reserved_characters_in_the_path(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    state.add_user(SCF, {"primary_id": "01AAA_X+Y&Z#1 A"})
    response = await client.get(f"{API}/users/01AAA_X%2BY%26Z%231%20A", headers=headers(SCF))
    assert response.status_code == 200, response.text
    assert response.json()["primary_id"] == "01AAA_X+Y&Z#1 A"


async def test_linked_user_lookup_create_and_refresh(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    # Seeded: the SCF holds a linked copy of ab_patron1; cd_patron1 has none yet.
    copy = await client.get(
        f"{API}/users/7100000000000004101",
        params={"source_institution_code": AB},
        headers=headers(SCF),
    )
    assert copy.json()["source_link_id"] == "7100000000000004101"
    none_yet = await client.get(
        f"{API}/users/7100000000000004201",
        params={"source_institution_code": CD},
        headers=headers(SCF),
    )
    assert error_code(none_yet) == "4019990"
    created = await client.post(
        f"{API}/users",
        params={"source_institution_code": CD, "source_user_id": "cd_patron1"},
        content="<user></user>",
        headers={**headers(SCF), "Content-Type": "application/xml"},
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["source_institution_code"] == CD
    assert body["source_link_id"] == "7100000000000004201"
    assert body["last_name"] == "Zhou"
    assert "linking_id" not in body
    twice = await client.post(
        f"{API}/users",
        params={"source_institution_code": CD, "source_user_id": "cd_patron1"},
        headers=headers(SCF),
    )
    assert error_code(twice) == "60227"
    listed = await client.get(
        f"{API}/users",
        params={"source_institution_code": CD, "source_user_id": "cd_patron1"},
        headers=headers(SCF),
    )
    assert [u["primary_id"] for u in listed.json()["user"]] == [body["primary_id"]]

    state.institution(CD).users["cd_patron1"].data["last_name"] = "Zhou-Martin"
    refreshed = await client.post(
        f"{API}/users/{body['primary_id']}", params={"op": "refresh"}, headers=headers(SCF)
    )
    assert refreshed.status_code == 204
    again = await client.get(f"{API}/users/{body['primary_id']}", headers=headers(SCF))
    assert again.json()["last_name"] == "Zhou-Martin"
    not_linked = await client.post(
        f"{API}/users/01AAA_AB-ABRS", params={"op": "refresh"}, headers=headers(SCF)
    )
    assert not_linked.status_code == 400


async def test_linked_user_of_an_unknown_source_user(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{API}/users",
        params={"source_institution_code": AB, "source_user_id": "ghost"},
        headers=headers(SCF),
    )
    assert error_code(response) == "401861"


async def test_scf_loan_to_the_system_user_sets_loan_and_is_listed(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    item = state.seed_item(SCF, barcode="AB0001X", library="RS", location="rs_shared")
    body = {"circ_desk": {"value": "DEFAULT_CIRC_DESK"}, "library": {"value": "RS"}}
    loan = await client.post(
        f"{API}/users/01AAA_AB-ABRS/loans",
        params={"item_pid": item.pid},
        json=body,
        headers=headers(SCF),
    )
    assert loan.status_code == 200, loan.text
    assert loan.json()["item_barcode"] == "AB0001X"
    assert loan.json()["circ_desk"] == {
        "value": "DEFAULT_CIRC_DESK",
        "desc": "SCF Circulation Desk",
    }
    assert item.data["process_type"] == {"value": "LOAN", "desc": "Loan"}
    twice = await client.post(
        f"{API}/users/01AAA_AB-ABRS/loans",
        params={"item_pid": item.pid},
        json=body,
        headers=headers(SCF),
    )
    assert error_code(twice) == "400042"
    listed = await client.get(f"{API}/users/01AAA_AB-ABRS/loans", headers=headers(SCF))
    assert listed.json()["total_record_count"] == 1
    loan_id = loan.json()["loan_id"]
    renewed = await client.post(
        f"{API}/users/01AAA_AB-ABRS/loans/{loan_id}", params={"op": "renew"}, headers=headers(SCF)
    )
    assert renewed.json()["last_renew_status"]["value"] == "SUCCESS"
    assert renewed.json()["due_date"] > loan.json()["due_date"]


async def test_loan_needs_desk_library_and_a_known_item(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    item = state.find_item(AB, "AB0002")
    assert item is not None
    url = f"{API}/users/ab_patron2/loans"
    no_desk = await client.post(
        url, params={"item_pid": item.pid}, json={"library": {"value": "ABRS"}}, headers=headers(AB)
    )
    assert error_code(no_desk) == "401664"
    bad_desk = await client.post(
        url,
        params={"item_pid": item.pid},
        json={"circ_desk": "NOPE", "library": "ABRS"},
        headers=headers(AB),
    )
    assert bad_desk.status_code == 400
    no_item = await client.post(
        url,
        params={"item_pid": "23999"},
        json={"circ_desk": "DEFAULT_CIRC_DESK", "library": "ABRS"},
        headers=headers(AB),
    )
    assert no_item.status_code == 400
    by_barcode = await client.post(
        url,
        params={"item_barcode": "AB0002"},
        json={"circ_desk": "DEFAULT_CIRC_DESK", "library": "ABRS"},
        headers=headers(AB),
    )
    assert by_barcode.status_code == 200
    no_user = await client.post(
        f"{API}/users/ghost/loans",
        params={"item_pid": item.pid},
        json={"circ_desk": "DEFAULT_CIRC_DESK", "library": "ABRS"},
        headers=headers(AB),
    )
    assert error_code(no_user) == "401861"
