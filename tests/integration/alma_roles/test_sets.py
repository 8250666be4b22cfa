"""Contract of `SetMembers` (rules H1, AS3) on both backends, and the fake's members against the
real sample (``mlibrary-aim__set_members.json``)."""

from __future__ import annotations

import json

import httpx
import pytest

from adapters.alma_http.sets import HttpSetMembers
from adapters.fake_alma import create_fake_alma_app
from application.ports.alma.sets import SetMember, SetNotFound
from application.shared.alma import AlmaError
from application.shared.connections import Secret
from tests.integration.alma_roles.support import (
    AB,
    API,
    GATEWAY_URL,
    KEYS,
    Roles,
    facts,
    open_roles,
    recording_client,
    reference,
)
from tests.integration.fake_alma.shapes import assert_same_shape

SAMPLE = "mlibrary-aim__set_members.json"
BIBS = f"{GATEWAY_URL}{API}/bibs"


async def test_a_page_of_members_with_descriptions_and_links(roles: Roles) -> None:
    made = roles.state.add_set(
        AB, [("991", "Bananboken"), ("992", "Second title"), ("993", "Third")], name="west"
    )
    sets = roles.sets()

    first = await sets.members(made.set_id, limit=2)
    rest = await sets.members(made.set_id, limit=2, offset=2)

    assert list(first.records) == [
        SetMember("991", "Bananboken", f"{BIBS}/991"),
        SetMember("992", "Second title", f"{BIBS}/992"),
    ]
    assert (first.total_record_count, first.next_offset) == (3, 2)
    assert list(rest.records) == [SetMember("993", "Third", f"{BIBS}/993")]
    assert (rest.total_record_count, rest.offset, rest.next_offset) == (3, 2, None)


async def test_all_members_walks_every_page_of_100_in_order(roles: Roles) -> None:
    ids = [f"99{n:04d}" for n in range(250)]
    made = roles.state.add_set(AB, ids)

    walked = [m.id async for m in roles.sets().all_members(made.set_id)]

    assert walked == ids
    if roles.name == "http":
        calls = roles.calls(f"/conf/sets/{made.set_id}/members")
        assert [(c.param("limit"), c.param("offset")) for c in calls] == [
            ("100", "0"),
            ("100", "100"),
            ("100", "200"),
        ]


async def test_an_empty_set_has_no_members(roles: Roles) -> None:
    made = roles.state.add_set(AB, [])
    sets = roles.sets()

    page = await sets.members(made.set_id)

    assert (list(page.records), page.total_record_count, page.next_offset) == ([], 0, None)
    assert [m async for m in sets.all_members(made.set_id)] == []


async def test_item_members_carry_their_barcode_in_the_description(roles: Roles) -> None:
    # Rule AS3: the known barcodes are the descriptions of the set's members.
    made = roles.state.add_set(
        AB, [("23001", "32101044947941"), ("23002", "")], content="ITEM", name="barcodes"
    )

    members = [m async for m in roles.sets().all_members(made.set_id)]

    assert members == [SetMember("23001", "32101044947941"), SetMember("23002", None)]


async def test_an_unknown_set_is_set_not_found(roles: Roles) -> None:
    sets = roles.sets()

    with pytest.raises(SetNotFound) as caught:
        await sets.members("404")
    with pytest.raises(SetNotFound):
        [m async for m in sets.all_members("404")]

    assert facts(caught.value) == (
        SetNotFound,
        AB,
        "list set members",
        400,
        "402460",
        "Input parameters setId 404 is not valid.",
        {"set_id": "404"},
    )


async def test_paging_arguments_alma_would_refuse(roles: Roles) -> None:
    made = roles.state.add_set(AB, ["991"])
    sets = roles.sets()

    with pytest.raises(ValueError, match="0 to 100"):
        await sets.members(made.set_id, limit=101)
    with pytest.raises(AlmaError) as caught:
        await sets.members(made.set_id, offset=-1)

    assert (type(caught.value), caught.value.error_code) == (AlmaError, "402204")


async def test_set_ids_and_paging_are_encoded_and_the_key_stays_in_the_header() -> None:
    async with recording_client({"total_record_count": 0}) as (client, sent):
        await HttpSetMembers(client, AB, Secret(KEYS[AB])).members("12/3 4", limit=5, offset=10)

    (request,) = sent
    assert request.url.raw_path == b"/almaws/v1/conf/sets/12%2F3%204/members?limit=5&offset=10"
    assert request.headers["authorization"] == f"apikey {KEYS[AB]}"


async def test_the_fake_serves_set_members_in_the_real_shape() -> None:
    sample = json.loads(reference(SAMPLE).read_text(encoding="utf-8"))
    async with open_roles("memory") as roles:
        # The sample is a page of one of a set of two users (limit=1).
        made = roles.state.add_set(
            AB,
            [("mlibrary.acct.testing1@gmail.com", "Student, Test 1"), ("someone", "Other")],
            content="USER",
        )
        app = create_fake_alma_app(roles.state)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL
        ) as http:
            response = await http.get(
                f"{API}/conf/sets/{made.set_id}/members",
                params={"limit": 1},
                headers={"Authorization": f"apikey {KEYS[AB]}", "Accept": "application/json"},
            )

    body = response.json()
    assert_same_shape(sample, body)
    assert body["total_record_count"] == sample["total_record_count"] == 2
    (member,) = body["member"]
    assert (member["id"], member["description"]) == (
        "mlibrary.acct.testing1@gmail.com",
        "Student, Test 1",
    )
    assert member["link"] == f"{GATEWAY_URL}{API}/users/mlibrary.acct.testing1%40gmail.com"


async def test_the_real_sample_reads_through_the_http_adapter() -> None:
    # The sample says 2 members but holds 1: the adapter asks for the next offset.
    async with recording_client(json.loads(reference(SAMPLE).read_text("utf-8"))) as (
        client,
        sent,
    ):
        sets = HttpSetMembers(client, AB, Secret(KEYS[AB]))
        page = await sets.members("5")

    (member,) = page.records
    assert member.id == "mlibrary.acct.testing1@gmail.com"
    assert member.description == "Student, Test 1"
    assert (page.total_record_count, page.next_offset) == (2, 1)
    assert len(sent) == 1
