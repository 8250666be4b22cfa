"""The fake's JSON has the keys and value types of the real Alma samples.

Each test names the sample it is held to (``shared/reference/alma-api/``). Keys the fake adds
or leaves out are listed at the call site with the reason; everything else must match.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.fake_alma import FakeAlmaState
from tests.integration.fake_alma.conftest import AB, API, BASE, CD, SCF, headers
from tests.integration.fake_alma.shapes import (
    alma_xml_to_json,
    assert_same_shape,
    shape_problems,
    xml_paths,
)


@pytest.fixture
def sample(shared_reference: Path) -> Callable[[str], Any]:
    """A real Alma JSON sample by file name."""

    def load(name: str) -> Any:
        return json.loads((shared_reference / "alma-api" / name).read_text(encoding="utf-8"))

    return load


# Keys some samples have and others lack: newer tenants' extras the fake does not model.
NEWER_ITEM_EXTRAS = (
    "$.holding_data.permanent_call_number",
    "$.holding_data.permanent_call_number_type",
)


def test_comparator_reports_missing_extra_and_type_changes() -> None:
    sample = {"a": "x", "b": {"value": "1", "desc": None}, "c": [{"d": True}], "e": {}}
    assert (
        shape_problems(sample, {"a": "y", "b": {"value": "2", "desc": "t"}, "c": [], "e": {}}) == []
    )
    problems = shape_problems(sample, {"a": 1, "b": {"value": "2"}, "c": [{"d": "no"}], "z": 0})
    assert problems == [
        "$.a: sample is string, fake gives int",
        "$.b.desc: missing",
        "$.c[].d: sample is bool, fake gives string",
        "$.e: missing",
        "$.z: not in the sample",
    ]
    assert shape_problems({"n": None}, {"n": {"x": 1}}) == [
        "$.n: sample is null, fake gives object"
    ]
    assert shape_problems([1.5], [2]) == ["$[]: sample is float, fake gives int"]


async def test_item_by_barcode_matches_real_items(
    client: httpx.AsyncClient, sample: Callable[[str], Any]
) -> None:
    response = await client.get(
        f"{API}/items",
        params={"item_barcode": "AB0001"},
        headers=headers(AB),
        follow_redirects=True,
    )
    item = response.json()
    assert_same_shape(sample("tulibraries-alma_rb__item_from_barcode.json"), item)
    # This record has an ISSN; without a 022 Alma gives null (item_from_barcode above).
    assert_same_shape(
        sample("pulibrary-bibdata__barcode_32101044947941.json"),
        item,
        nullable={"$.bib_data.issn"},
    )
    assert_same_shape(
        sample("latoohey-libraryapps-server-webhooks__webhook_item.json")["item"], item
    )


async def test_item_on_loan_matches_the_on_loan_sample(
    client: httpx.AsyncClient, state: FakeAlmaState, sample: Callable[[str], Any]
) -> None:
    item = state.find_item(CD, "CD0001")
    assert item is not None
    state.create_loan(
        CD, "cd_patron1", item_pid=item.pid, circ_desk="DEFAULT_CIRC_DESK", library="CDRS"
    )
    response = await client.get(
        f"{API}/items",
        params={"item_barcode": "CD0001"},
        headers=headers(CD),
        follow_redirects=True,
    )
    body = response.json()
    assert_same_shape(sample("pulibrary-bibdata__barcode_32101089814220.json"), body)
    assert body["item_data"]["process_type"] == {"value": "LOAN", "desc": "Loan"}
    assert body["item_data"]["base_status"] == {"value": "0", "desc": "Item not in place"}


async def test_items_list_matches_real_lists(
    client: httpx.AsyncClient, state: FakeAlmaState, sample: Callable[[str], Any]
) -> None:
    item = state.find_item(AB, "AB0001")
    assert item is not None
    response = await client.get(f"{API}/bibs/{item.mms_id}/holdings/ALL/items", headers=headers(AB))
    body = response.json()
    assert body["total_record_count"] == 2
    assert_same_shape(
        sample("tulibraries-alma_rb__bib_items.json"),
        body,
        # This older fixture predates keys every newer sample (item_from_barcode, bibdata) has.
        extra={
            "$.item[].item_data.awaiting_reshelving",
            "$.item[].item_data.inventory_number",
            "$.item[].item_data.inventory_price",
            "$.item[].item_data.physical_condition",
            "$.item[].bib_data.date_of_publication",
        },
    )
    assert_same_shape(
        sample("pulibrary-bibdata__9943506421_holding_items.json"),
        body,
        omitted={"$.item[]" + p[1:] for p in NEWER_ITEM_EXTRAS},
    )


async def test_empty_lists_look_like_alma_empty_lists(
    client: httpx.AsyncClient, state: FakeAlmaState, sample: Callable[[str], Any]
) -> None:
    bib = state.create_bib(AB, title="No items yet")
    state.create_holding(AB, bib.mms_id, library="ABRS", location="stacks")
    items = await client.get(f"{API}/bibs/{bib.mms_id}/holdings/ALL/items", headers=headers(AB))
    assert items.json() == sample("pulibrary-bibdata__not_found_items.json")
    bibs = await client.get(f"{API}/bibs", params={"other_system_id": "(X)1"}, headers=headers(SCF))
    assert bibs.json() == sample("pulibrary-bibdata__not_found.json")


async def test_holdings_list_matches_the_xml_sample_mapped_to_json(
    client: httpx.AsyncClient, state: FakeAlmaState, shared_reference: Path
) -> None:
    # Only an XML holdings list is public; Alma's JSON is its mechanical mapping.
    xml_text = (
        shared_reference / "alma-api" / "pulibrary-bibdata__991227840000541_holdings.xml"
    ).read_text()
    xml_sample = ET.fromstring(xml_text.encode())  # noqa: S314 - trusted: a repo sample or the fake's own output
    as_json = alma_xml_to_json(xml_sample, repeated={"holding"})
    item = state.find_item(AB, "AB0001")
    assert item is not None
    response = await client.get(f"{API}/bibs/{item.mms_id}/holdings", headers=headers(AB))
    # issn: in the JSON shape research saw (upenn holdings_get_success.json), not in this record.
    assert_same_shape(as_json, response.json(), extra={"$.bib_data.issn"})

    as_xml = await client.get(
        f"{API}/bibs/{item.mms_id}/holdings", headers=headers(AB, accept="application/xml")
    )
    ours = xml_paths(ET.fromstring(as_xml.content))  # noqa: S314 - trusted: a repo sample or the fake's own output
    theirs = xml_paths(xml_sample)
    assert theirs - ours == set()
    assert ours - theirs == {"holdings/bib_data/issn"}


async def test_holding_record_matches_both_holding_samples(
    client: httpx.AsyncClient, state: FakeAlmaState, sample: Callable[[str], Any]
) -> None:
    item = state.find_item(AB, "AB0001")
    assert item is not None
    response = await client.get(
        f"{API}/bibs/{item.mms_id}/holdings/{item.holding_id}", headers=headers(AB)
    )
    body = response.json()
    # The two real holdings differ; the fake gives the union, each sample lacks the other's.
    assert_same_shape(
        sample("tulibraries-alma_rb__single_holding.json"),
        body,
        extra={
            "$.originating_system",
            "$.originating_system_id",
            "$.calculated_suppress_from_publishing",
        },
    )
    assert_same_shape(
        sample("pulibrary-bibdata__holding_22178060190006421.json"),
        body,
        extra={"$.last_modified_by", "$.last_modified_date"},
    )
    assert body["anies"][0].startswith('<?xml version="1.0" encoding="UTF-16"?><record>')
    assert (
        '<datafield ind1="0" ind2=" " tag="852"><subfield code="b">ABRS</subfield>'
        in body["anies"][0]
    )


async def test_bib_matches_the_real_bib(
    client: httpx.AsyncClient, state: FakeAlmaState, sample: Callable[[str], Any]
) -> None:
    item = state.find_item(AB, "AB0001")
    assert item is not None
    listed = await client.get(f"{API}/bibs", params={"mms_id": item.mms_id}, headers=headers(AB))
    assert_same_shape(sample("pulibrary-bibdata__99122455086806421.json"), listed.json())
    single = await client.get(f"{API}/bibs/{item.mms_id}", headers=headers(AB))
    assert_same_shape(sample("pulibrary-bibdata__99122455086806421.json")["bib"][0], single.json())
    assert single.json()["linked_record_id"] == {"value": "9912345600000021", "type": "NZ"}


async def test_user_and_linked_user_match_the_real_user(
    client: httpx.AsyncClient, sample: Callable[[str], Any]
) -> None:
    plain = await client.get(f"{API}/users/ab_patron2", headers=headers(AB))
    assert_same_shape(sample("pulibrary-bibdata__bbird.json"), plain.json())
    # Linked-account fields are documented (users API, fulfillment-network blog) but in no
    # public sample; they appear only on users that have them.
    source = await client.get(f"{API}/users/ab_patron1", headers=headers(AB))
    assert_same_shape(
        sample("pulibrary-bibdata__bbird.json"), source.json(), extra={"$.linking_id"}
    )
    linked = await client.get(
        f"{API}/users/{source.json()['linking_id']}",
        params={"source_institution_code": AB},
        headers=headers(SCF),
    )
    assert_same_shape(
        sample("pulibrary-bibdata__bbird.json"),
        linked.json(),
        extra={"$.source_institution_code", "$.source_link_id"},
    )


# Request keys the fake adds: item_id/barcode/comment are in the REQUEST webhook's
# user_request (an item-level request); place_in_queue is in Alma's rest_user_request XSD.
REQUEST_EXTRAS = {"$.item_id", "$.barcode", "$.comment", "$.place_in_queue"}


async def test_item_and_title_requests_match_real_requests(
    client: httpx.AsyncClient,
    state: FakeAlmaState,
    item_url: Callable[[str, str], str],
    sample: Callable[[str], Any],
) -> None:
    created = await client.post(
        f"{item_url(AB, 'AB0002')}/requests",
        params={"user_id": "ab_patron2"},
        json={
            "request_type": "HOLD",
            "pickup_location_type": "LIBRARY",
            "pickup_location_library": "ABMAIN",
        },
        headers=headers(AB),
    )
    assert created.status_code == 200, created.text
    body = created.json()
    assert_same_shape(
        sample("tulibraries-alma_rb__request_success.json"), body, extra=REQUEST_EXTRAS
    )
    assert_same_shape(
        sample("tulibraries-tul_cob__request_sent_from_main.json"), body, extra=REQUEST_EXTRAS
    )
    webhook = sample("latoohey-libraryapps-server-webhooks__webhook_request.json")["user_request"]
    assert_same_shape(webhook, body, any_extra=True)

    item = state.find_item(CD, "CD0001")
    assert item is not None
    title = await client.post(
        f"{API}/bibs/{item.mms_id}/requests",
        params={"user_id": "cd_patron1"},
        json={
            "request_type": "HOLD",
            "pickup_location_type": "LIBRARY",
            "pickup_location_library": "CDRS",
        },
        headers=headers(CD),
    )
    assert title.status_code == 200, title.text
    assert_same_shape(
        sample("tulibraries-alma_rb__request_success.json"),
        title.json(),
        extra={"$.comment", "$.place_in_queue"},
    )
    assert "item_id" not in title.json()
    listed = await client.get(f"{API}/bibs/{item.mms_id}/requests", headers=headers(CD))
    assert listed.json()["total_record_count"] == 1
    assert_same_shape(
        sample("tulibraries-alma_rb__request_success.json"),
        listed.json()["user_request"][0],
        extra={"$.comment", "$.place_in_queue"},
    )


async def test_loan_matches_the_real_loans_list(
    client: httpx.AsyncClient, state: FakeAlmaState, sample: Callable[[str], Any]
) -> None:
    ab_item = state.find_item(AB, "AB0002")
    assert ab_item is not None
    created = await client.post(
        f"{API}/users/ab_patron2/loans",
        params={"item_pid": ab_item.pid},
        json={"circ_desk": {"value": "DEFAULT_CIRC_DESK"}, "library": {"value": "ABRS"}},
        headers=headers(AB),
    )
    assert created.status_code == 200, created.text
    loans_sample = sample("mlibrary-alma_rest_client__jbister_loans0.json")
    assert_same_shape(loans_sample["item_loan"][0], created.json())
    listed = await client.get(f"{API}/users/ab_patron2/loans", headers=headers(AB))
    assert_same_shape(loans_sample, listed.json())
    webhook = sample("latoohey-libraryapps-server-webhooks__webhook_loan.json")["item_loan"]
    # The webhook's loan lacks the list's loan_fine and publication_year.
    assert_same_shape(webhook, created.json(), extra={"$.loan_fine", "$.publication_year"})


async def test_libraries_and_locations_match_real_conf(
    client: httpx.AsyncClient, sample: Callable[[str], Any]
) -> None:
    libraries = await client.get(f"{API}/conf/libraries", headers=headers(SCF))
    assert_same_shape(sample("pulibrary-bibdata__libraries.json"), libraries.json())
    assert_same_shape(sample("tulibraries-alma_rb__libraries.json"), libraries.json())
    library = await client.get(f"{API}/conf/libraries/RS", headers=headers(SCF))
    # description is null in both real library lists, a string in this doc sample.
    assert_same_shape(
        sample("tulibraries-alma_rb__library.json"), library.json(), nullable={"$.description"}
    )
    locations = await client.get(f"{API}/conf/libraries/RS/locations", headers=headers(SCF))
    assert_same_shape(sample("tulibraries-alma_rb__locations.json"), locations.json())
    location = await client.get(
        f"{API}/conf/libraries/RS/locations/rs_shared", headers=headers(SCF)
    )
    assert_same_shape(sample("tulibraries-alma_rb__location.json"), location.json())
    assert_same_shape(sample("pulibrary-bibdata__library_firestone_stacks.json"), location.json())
    assert location.json()["type"] == {"value": "REMOTE", "desc": "Remote Storage"}


SET_SAMPLES = "Testing-Environment-esploro-csv-researcher-loader__set_"


async def test_set_create_add_members_and_list_match_the_real_set_samples(
    client: httpx.AsyncClient, sample: Callable[[str], Any]
) -> None:
    # O8: an itemized set made, then filled with the sample's own add_members body.
    real_created = sample(f"{SET_SAMPLES}create_response.json")
    created = await client.post(
        f"{API}/conf/sets",
        json={
            "name": real_created["name"],
            "description": real_created["description"],
            "type": {"value": "ITEMIZED"},
            "content": {"value": "IER"},
            "private": {"value": "true"},
        },
        headers=headers(AB),
    )
    body = created.json()
    assert created.status_code == 200, created.text
    assert list(body) == list(real_created)  # the same field names, in the same order
    assert_same_shape(real_created, body)
    for key in ("type", "content", "status", "origin", "private", "created_by"):
        assert body[key] == real_created[key], key
    link = f"{BASE}{API}/conf/sets/{body['id']}"
    assert (body["link"], body["number_of_members"]) == (
        link,
        {"value": 0, "link": f"{link}/members"},
    )

    request = sample(
        f"{SET_SAMPLES}add_members_request.json"
    )  # names another set id: the path wins
    added = await client.post(
        f"{API}/conf/sets/{body['id']}",
        params={"op": "add_members"},
        json=request,
        headers=headers(AB),
    )
    real_added = sample(f"{SET_SAMPLES}add_members_response.json")
    assert list(added.json()) == list(real_added)
    assert_same_shape(real_added, added.json())
    assert added.json()["number_of_members"]["value"] == 2
    single = await client.get(f"{API}/conf/sets/{body['id']}", headers=headers(AB))
    assert single.json() == added.json()
    members = await client.get(f"{API}/conf/sets/{body['id']}/members", headers=headers(AB))
    assert [m["id"] for m in members.json()["member"]] == [
        m["id"] for m in request["members"]["member"]
    ]

    listed = await client.get(
        f"{API}/conf/sets", params={"q": "name~cloudapp-filesloader"}, headers=headers(AB)
    )
    assert_same_shape(sample("mlibrary-aim__digitizer_setter_sets.json"), listed.json())
    assert [s["id"] for s in listed.json()["set"]] == [body["id"]]

    again = await client.post(
        f"{API}/conf/sets",
        json={"name": body["name"], "content": {"value": "BIB_MMS"}},
        headers=headers(AB),
    )
    assert again.status_code == 400
    assert_same_shape(sample("tulibraries-alma_rb__error.json"), again.json())
    assert again.json()["errorList"]["error"][0]["errorCode"] == "402263"  # documented, unverified


async def test_set_writes_take_and_give_xml(client: httpx.AsyncClient) -> None:
    xml = {**headers(AB, accept="application/xml"), "Content-Type": "application/xml"}
    new_set = "<set><name>from xml</name><type>ITEMIZED</type><content>BIB_MMS</content></set>"
    two = "<member><id>991</id></member><member><id>992</id></member>"
    created = await client.post(f"{API}/conf/sets", content=new_set, headers=xml)
    made = ET.fromstring(created.content)  # noqa: S314 - trusted: the fake's own output
    content = made.find("content")
    assert (made.tag, made.findtext("name")) == ("set", "from xml")
    assert content is not None
    assert (content.text, content.get("desc")) == ("BIB_MMS", "All Titles")
    added = await client.post(
        f"{API}/conf/sets/{made.findtext('id')}",
        params={"op": "add_members"},
        content=f"<set><members>{two}</members></set>",
        headers=xml,
    )
    answer = ET.fromstring(added.content)  # noqa: S314 - trusted: the fake's own output
    assert answer.findtext("number_of_members") == "2"


async def test_courses_match_the_real_course_list(
    client: httpx.AsyncClient, sample: Callable[[str], Any]
) -> None:
    courses = await client.get(f"{API}/courses", headers=headers(AB))
    assert_same_shape(sample("tulibraries-alma_rb__courses.json"), courses.json())
    one = courses.json()["course"][0]
    single = await client.get(f"{API}/courses/{one['id']}", headers=headers(AB))
    assert_same_shape(sample("tulibraries-alma_rb__courses.json")["course"][0], single.json())


async def test_scan_result_matches_real_scans(
    client: httpx.AsyncClient, item_url: Callable[[str, str], str], sample: Callable[[str], Any]
) -> None:
    response = await client.post(
        item_url(CD, "CD0003"),
        params={"op": "scan", "library": "CDRS", "circ_desk": "DEFAULT_CIRC_DESK", "done": "true"},
        headers=headers(CD),
    )
    body = response.json()
    # CD0003's bib has no 020: Alma gives null there, as the item samples show for issn.
    no_isbn = {"$.bib_data.isbn"}
    assert_same_shape(
        sample("pulibrary-bibdata__scan_23258767460006421.json"), body, nullable=no_isbn
    )
    assert_same_shape(sample("tulibraries-alma_rb__scan.json"), body, nullable=no_isbn)
    assert list(body) == ["bib_data", "holding_data", "item_data", "additional_info", "link"]


@pytest.mark.parametrize(
    ("sample_name", "call"),
    [
        ("pulibrary-bibdata__barcode_32101108683143.json", ("GET", "/items?item_barcode=nope", AB)),
        ("tulibraries-alma_rb__error.json", ("GET", "/bibs/123", AB)),
        ("pulibrary-bibdata__ogrouch.json", ("GET", "/users/ogrouch", AB)),
        (
            "tulibraries-alma_rb__scan_missing_params.json",
            ("POST", "SCAN?op=scan&library=CDRS", CD),
        ),
        ("pulibrary-bibdata__scan_23258799999906421.json", ("POST", "BADSCAN", CD)),
    ],
)
async def test_errors_match_real_error_bodies(
    client: httpx.AsyncClient,
    item_url: Callable[[str, str], str],
    sample: Callable[[str], Any],
    sample_name: str,
    call: tuple[str, str, str],
) -> None:
    method, path, institution = call
    real_item = item_url(CD, "CD0003")
    if path.startswith("SCAN"):
        url = real_item + path[4:]
    elif path == "BADSCAN":
        url = (
            real_item.rsplit("/", 1)[0]
            + "/23258799999906421?op=scan&library=CDRS&circ_desk=DEFAULT_CIRC_DESK"
        )
    else:
        url = API + path
    response = await client.request(method, url, headers=headers(institution))
    assert response.status_code == 400
    real = sample(sample_name)
    assert_same_shape(real, response.json())
    # The codes and messages of these errors are Alma's own, with the ids of this call.
    real_error = real["errorList"]["error"][0]
    error = response.json()["errorList"]["error"][0]
    assert error["errorCode"] == real_error["errorCode"]
    if real_error["errorCode"] in ("40166415",):
        assert error["errorMessage"] == real_error["errorMessage"]
    assert error["trackingId"].startswith("E01-")


async def test_error_xml_form_is_a_web_service_result(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/items",
        params={"item_barcode": "nope"},
        headers=headers(AB, accept="application/xml"),
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - trusted: a repo sample or the fake's own output
    ns = "{http://com/exlibris/urm/general/xmlbeans}"
    assert root.tag == f"{ns}web_service_result"
    assert root.findtext(f"{ns}errorsExist") == "true"
    assert root.findtext(f"{ns}errorList/{ns}error/{ns}errorCode") == "401689"
    assert (
        root.findtext(f"{ns}errorList/{ns}error/{ns}errorMessage")
        == "No items found for barcode nope."
    )
