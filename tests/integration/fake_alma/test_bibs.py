"""Bibs and holdings: search by MMS id, NZ id and 035; create local or from the NZ."""

from __future__ import annotations

import httpx

from adapters.fake_alma import FakeAlmaState, marc
from tests.integration.fake_alma.conftest import AB, API, CD, SCF, error_code, headers

JAVA_HOLDING_XML = (
    '<holding><record><datafield ind1="0" ind2=" " tag="852"><subfield code="b">RS</subfield>'
    '<subfield code="c">rs_shared_1</subfield></datafield></record>'
    "<suppress_from_publishing>false</suppress_from_publishing></holding>"
)


async def test_from_nz_needs_the_record_in_the_network_zone(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    missing = await client.post(
        f"{API}/bibs",
        params={"from_nz_mms_id": "9999999999", "normalization": "null", "validate": "false"},
        content="<bib></bib>",
        headers={**headers(SCF), "Content-Type": "application/xml"},
    )
    assert missing.status_code == 400
    assert error_code(missing) == "402203"
    assert state.institution(SCF).bibs == {}

    created = await client.post(
        f"{API}/bibs",
        params={"from_nz_mms_id": "9912345700000021", "override_warning": "true", "format": "json"},
        content="<bib></bib>",
        headers={**headers(SCF), "Content-Type": "application/xml"},
    )
    assert created.status_code == 200, created.text
    bib = created.json()
    assert bib["linked_record_id"] == {"value": "9912345700000021", "type": "NZ"}
    assert bib["title"] == "Cold rooms and warm data /"
    found = await client.get(
        f"{API}/bibs",
        params={"nz_mms_id": "9912345700000021", "view": "full", "expand": "p_avail"},
        headers=headers(SCF),
    )
    assert found.json()["total_record_count"] == 1
    assert found.json()["bib"][0]["mms_id"] == bib["mms_id"]
    twice = await client.post(
        f"{API}/bibs", params={"from_nz_mms_id": "9912345700000021"}, headers=headers(SCF)
    )
    assert twice.status_code == 400


async def test_local_bib_from_marcxml_is_found_by_its_035(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    record = (
        '<bib><record xmlns="http://www.loc.gov/MARC21/slim">'
        "<leader>00000nam a2200000 i 4500</leader>"
        '<controlfield tag="001">991381337485004101</controlfield>'
        '<datafield ind1="1" ind2="0" tag="245">'
        '<subfield code="a">Local annals /</subfield></datafield>'
        '<datafield ind1=" " ind2=" " tag="035">'
        '<subfield code="a">(01AAA_AB)991381337485004101</subfield>'
        "</datafield></record></bib>"
    )
    created = await client.post(
        f"{API}/bibs",
        params={"validate": "false", "override_warning": "true", "format": "xml"},
        content=record,
        headers={**headers(SCF), "Content-Type": "application/xml"},
    )
    assert created.status_code == 200, created.text
    bib = created.json()
    assert bib["mms_id"].startswith("99")
    assert bib["mms_id"].endswith("04301")
    assert bib["originating_system_id"] == "991381337485004101"
    assert bib["linked_record_id"] == {"value": None, "type": None}
    assert "(01AAA_AB)991381337485004101" in bib["network_number"]
    found = await client.get(
        f"{API}/bibs",
        params={"other_system_id": "(01AAA_AB)991381337485004101"},
        headers=headers(SCF),
    )
    assert [b["mms_id"] for b in found.json()["bib"]] == [bib["mms_id"]]
    assert f'<controlfield tag="001">{bib["mms_id"]}</controlfield>' in bib["anies"][0]


async def test_bibs_by_several_mms_ids_skip_unknown_ones(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    ids = [b.mms_id for b in state.institution(AB).bibs.values()]
    response = await client.get(
        f"{API}/bibs", params={"mms_id": ",".join([*ids, "990000"])}, headers=headers(AB)
    )
    assert [b["mms_id"] for b in response.json()["bib"]] == ids
    assert response.json()["total_record_count"] == 2
    missing = await client.get(f"{API}/bibs", headers=headers(AB))
    assert missing.status_code == 400


async def test_unknown_bib_is_402203(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/bibs/99100401219703811", headers=headers(AB))
    assert response.status_code == 400
    assert response.json()["errorList"]["error"][0]["errorMessage"] == (
        "Input parameters mmsId 99100401219703811 is not valid."
    )


async def test_holding_is_created_from_the_java_apps_852_xml(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    bib = state.create_bib_from_nz(SCF, "9912345600000021")
    created = await client.post(
        f"{API}/bibs/{bib.mms_id}/holdings",
        content=JAVA_HOLDING_XML,
        headers={**headers(SCF), "Content-Type": "application/xml"},
    )
    assert created.status_code == 200, created.text
    holding_id = created.json()["holding_id"]
    listed = await client.get(f"{API}/bibs/{bib.mms_id}/holdings", headers=headers(SCF))
    (holding,) = listed.json()["holding"]
    assert holding["holding_id"] == holding_id
    assert holding["library"] == {"value": "RS", "desc": "Shared Collection Facility"}
    assert holding["location"] == {"value": "rs_shared_1", "desc": "Shared storage 1"}
    wrong = JAVA_HOLDING_XML.replace("rs_shared_1", "rs_shared_in_ab")
    refused = await client.post(
        f"{API}/bibs/{bib.mms_id}/holdings",
        content=wrong,
        headers={**headers(SCF), "Content-Type": "application/xml"},
    )
    assert refused.status_code == 400


async def test_doctype_bodies_are_refused(client: httpx.AsyncClient, state: FakeAlmaState) -> None:
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><bib><record/></bib>'
    response = await client.post(
        f"{API}/bibs", content=bomb, headers={**headers(SCF), "Content-Type": "application/xml"}
    )
    assert response.status_code == 400
    assert state.institution(SCF).bibs == {}


async def test_bib_list_can_be_xml(client: httpx.AsyncClient, state: FakeAlmaState) -> None:
    ids = list(state.institution(AB).bibs)
    response = await client.get(
        f"{API}/bibs",
        params={"mms_id": ids[0], "format": "xml"},
        headers={"Authorization": "apikey ab-example-key"},
    )
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><bibs')
    assert "<network_numbers><network_number>" in response.text
    assert "<record><leader>" in response.text


async def test_every_read_endpoint_can_answer_xml(
    client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    (request,) = state.requests_of(CD, user_id="cd_patron1")
    item = state.find_item(CD, "CD0002")
    assert item is not None
    state.create_loan(
        CD, "cd_patron1", item_pid=item.pid, circ_desk="DEFAULT_CIRC_DESK", library="CDRS"
    )
    course = next(iter(state.institution(AB).courses))
    item_path = f"{API}/bibs/{item.mms_id}/holdings/{item.holding_id}/items/{item.pid}"
    calls = {
        f"{API}/bibs/{item.mms_id}": (CD, "bib"),
        f"{API}/bibs/{item.mms_id}/holdings/{item.holding_id}": (CD, "holding"),
        item_path: (CD, "item"),
        f"{API}/bibs/{item.mms_id}/holdings/ALL/items": (CD, "items"),
        f"{item_path}/requests": (CD, "user_requests"),
        f"{API}/bibs/{item.mms_id}/requests/{request.request_id}": (CD, "user_request"),
        f"{API}/users/cd_patron1": (CD, "user"),
        f"{API}/users/cd_patron1/loans": (CD, "item_loans"),
        f"{API}/conf/libraries": (CD, "libraries"),
        f"{API}/conf/libraries/CDRS/locations": (CD, "locations"),
        f"{API}/courses": (AB, "courses"),
        f"{API}/courses/{course}": (AB, "course"),
    }
    for path, (institution, root) in calls.items():
        response = await client.get(path, headers=headers(institution, accept="application/xml"))
        assert response.status_code == 200, (path, response.text)
        document = marc.parse_xml(response.text)
        assert document.tag == root, path
