"""Contract of `HoldingsReader` (rule H2) on both backends, and the fake's holdings against the
real samples (``scriptotek-php-alma-client__holdings_response.json``, ``…__holding_response.xml``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import httpx
import pytest

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.holdings import HttpHoldingsReader
from adapters.fake_alma import FakeAlmaState, create_fake_alma_app
from adapters.fake_alma.marc import find_record
from application.ports.alma.holdings import (
    HoldingHasNoRecord,
    HoldingNotFound,
    HoldingRecord,
    HoldingSummary,
)
from application.shared.alma import BibNotFound
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
from tests.integration.fake_alma.shapes import assert_same_shape, xml_paths

HOLDING_SAMPLE = "scriptotek-php-alma-client__holding_response.xml"
HOLDINGS_SAMPLE = "scriptotek-php-alma-client__holdings_response.json"


def canonical(xml: str) -> str:
    """Canonical XML with whitespace-only text dropped: equal records compare equal."""
    return ET.canonicalize(xml_data=xml, strip_text=True)


def sample_record() -> str:
    """The ``<record>`` of the real holding sample, as text."""
    root = ET.fromstring(reference(HOLDING_SAMPLE).read_bytes())  # noqa: S314 - our own sample
    record = find_record(root)
    assert record is not None
    return ET.tostring(record, encoding="unicode")


def seed_bib_with_holdings(state: FakeAlmaState) -> tuple[str, list[str]]:
    """An AB bib with two holdings (main, then remote-storage stacks): (mms_id, holding ids)."""
    bib = state.create_bib(AB, title="Bananboken", isbn="8247806290")
    first = state.create_holding(
        AB, bib.mms_id, library="ABMAIN", location="main", call_number="839.82 Vol"
    )
    second = state.create_holding(AB, bib.mms_id, library="ABRS", location="stacks")
    return bib.mms_id, [first.holding_id, second.holding_id]


def seed_sample_holding(state: FakeAlmaState) -> tuple[str, str]:
    """An AB bib whose holding's record is the real sample's (library 1030300, k00041)."""
    state.add_library(AB, "1030300", name="UiO HumSam-biblioteket")
    state.add_location(AB, "1030300", "k00041", name="UHS")
    bib = state.create_bib(AB, title="Bananboken")
    holding = state.seed_holding_record(AB, bib.mms_id, sample_record())
    return bib.mms_id, holding.holding_id


# ---- the contract, on both backends ----------------------------------------------------------


async def test_holdings_of_lists_codes_names_and_call_numbers_in_alma_order(roles: Roles) -> None:
    mms_id, (main, stacks) = seed_bib_with_holdings(roles.state)

    holdings = await roles.holdings().holdings_of(mms_id)

    assert holdings == [
        HoldingSummary(main, "ABMAIN", "AB Main Library", "main", "Main Stacks", "839.82 Vol"),
        HoldingSummary(stacks, "ABRS", "AB Remote Storage Library", "stacks", "AB Stacks", None),
    ]


async def test_a_bib_without_holdings_has_an_empty_list(roles: Roles) -> None:
    bib = roles.state.create_bib(AB, title="No holdings here")

    assert await roles.holdings().holdings_of(bib.mms_id) == []


async def test_an_unknown_bib_is_bib_not_found_on_both_calls(roles: Roles) -> None:
    reader = roles.holdings()

    with pytest.raises(BibNotFound) as listing:
        await reader.holdings_of("990000000000")
    with pytest.raises(BibNotFound) as record:
        await reader.holding_record("990000000000", "220000000000")

    assert facts(listing.value) == (
        BibNotFound,
        AB,
        "list holdings",
        400,
        "402203",
        "Input parameters mmsId 990000000000 is not valid.",
        {"mms_id": "990000000000"},
    )
    assert record.value.operation == "get holding record"
    assert dict(record.value.subject) == {"mms_id": "990000000000", "holding_id": "220000000000"}


async def test_holding_record_is_the_record_as_alma_sent_it(roles: Roles) -> None:
    mms_id, holding_id = seed_sample_holding(roles.state)

    found = await roles.holdings().holding_record(mms_id, holding_id)

    stored = roles.state.holding(AB, mms_id, holding_id).record
    assert found == HoldingRecord(mms_id, holding_id, ET.tostring(stored, encoding="unicode"))
    assert canonical(found.marcxml) == canonical(sample_record())
    # The migrated 001 stays as Alma keeps it; rule H3 normalises it, not the port.
    assert 'tag="001">h449730-47bibsys_ubo<' in found.marcxml
    assert not found.marcxml.startswith("<?xml")


async def test_a_holding_answered_without_its_record_is_holding_has_no_record(
    roles: Roles,
) -> None:
    mms_id, (main, _) = seed_bib_with_holdings(roles.state)
    roles.state.withhold_holding_record(AB, main)

    with pytest.raises(HoldingHasNoRecord) as caught:
        await roles.holdings().holding_record(mms_id, main)

    assert facts(caught.value) == (
        HoldingHasNoRecord,
        AB,
        "get holding record",
        None,
        None,
        "Alma's answer holds no MARC <record>",
        {"mms_id": mms_id, "holding_id": main},
    )


async def test_an_unknown_holding_of_a_known_bib_is_holding_not_found(roles: Roles) -> None:
    mms_id, _ = seed_bib_with_holdings(roles.state)

    with pytest.raises(HoldingNotFound) as caught:
        await roles.holdings().holding_record(mms_id, "229999999999")

    assert (caught.value.error_code, caught.value.http_status) == ("402210", 400)


async def test_both_backends_give_identical_views_and_errors() -> None:
    seen = []
    for name in ("memory", "http"):
        async with open_roles(name) as roles:
            mms_id, (main, stacks) = seed_bib_with_holdings(roles.state)
            roles.state.withhold_holding_record(AB, stacks)
            reader = roles.holdings()
            views = [await reader.holdings_of(mms_id), await reader.holding_record(mms_id, main)]
            with pytest.raises(HoldingHasNoRecord) as caught:
                await reader.holding_record(mms_id, stacks)
            seen.append((views, facts(caught.value)))

    assert seen[0] == seen[1]


# ---- the fake against the real samples -------------------------------------------------------


async def _fake_get(state: FakeAlmaState, path: str, accept: str) -> httpx.Response:
    app = create_fake_alma_app(state)
    headers = {"Authorization": f"apikey {KEYS[AB]}", "Accept": accept}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL
    ) as http:
        return await http.get(f"{API}{path}", headers=headers)


async def test_the_fake_serves_one_holding_as_the_real_xml_sample() -> None:
    async with open_roles("memory") as roles:
        mms_id, holding_id = seed_sample_holding(roles.state)
        response = await _fake_get(
            roles.state, f"/bibs/{mms_id}/holdings/{holding_id}", "application/xml"
        )

    served = ET.fromstring(response.text.encode())  # noqa: S314 - the fake's own answer
    sample = ET.fromstring(reference(HOLDING_SAMPLE).read_bytes())  # noqa: S314 - our sample
    assert response.headers["content-type"].startswith("application/xml")
    assert xml_paths(served) - xml_paths(sample) == {"holding/calculated_suppress_from_publishing"}
    assert xml_paths(sample) <= xml_paths(served)
    record = find_record(served)
    assert record is not None
    assert canonical(ET.tostring(record, encoding="unicode")) == canonical(sample_record())


async def test_the_fake_lists_holdings_in_the_real_json_shape() -> None:
    async with open_roles("memory") as roles:
        mms_id, _ = seed_bib_with_holdings(roles.state)
        response = await _fake_get(roles.state, f"/bibs/{mms_id}/holdings", "application/json")

    sample = json.loads(reference(HOLDINGS_SAMPLE).read_text(encoding="utf-8"))
    # Call number and suppression are in Alma's holdings list (research §2.2, upenn fixture),
    # absent from this older sample.
    assert_same_shape(
        sample,
        response.json(),
        extra={"$.holding[].call_number", "$.holding[].suppress_from_publishing"},
    )


async def test_ids_are_sent_as_single_encoded_path_segments() -> None:
    # Rule A5 (and B4): an id with "/" or "?" stays one segment; the key only in the header.
    async with recording_client({"holding": []}) as (client, sent):
        reader = HttpHoldingsReader(client, AB, Secret(KEYS[AB]))
        await reader.holdings_of("99/1?x")
        with pytest.raises(HoldingHasNoRecord):
            await reader.holding_record("99/1", "22 1")

    assert [r.url.raw_path for r in sent] == [
        b"/almaws/v1/bibs/99%2F1%3Fx/holdings",
        b"/almaws/v1/bibs/99%2F1/holdings/22%201",
    ]
    assert all(r.headers["authorization"] == f"apikey {KEYS[AB]}" for r in sent)
    assert all(KEYS[AB] not in str(r.url) for r in sent)


async def test_the_real_samples_read_through_the_http_adapter() -> None:
    # Whatever form Alma answers in, the adapter reads the same record: here the real XML
    # sample, and the real holdings list, served as they are.
    holdings = reference(HOLDINGS_SAMPLE).read_bytes()
    holding = reference(HOLDING_SAMPLE).read_bytes()

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"apikey {KEYS[AB]}"
        if request.url.path.endswith("/holdings"):
            return httpx.Response(
                200, content=holdings, headers={"content-type": "application/json"}
            )
        return httpx.Response(200, content=holding, headers={"content-type": "application/xml"})

    client = AlmaHttpClient(GATEWAY_URL, transport=httpx.MockTransport(answer))
    try:
        reader = HttpHoldingsReader(client, AB, Secret(KEYS[AB]))
        listed = await reader.holdings_of("990006312214702204")
        record = await reader.holding_record("990006312214702204", "22163771200002204")
    finally:
        await client.aclose()

    assert [(h.holding_id, h.library_code, h.location_name) for h in listed] == [
        ("2221159990000121", "65144020000121", "UNASSIGNED location"),
        ("2221410000000121", "5867020000121", "Microforms"),
    ]
    assert canonical(record.marcxml) == canonical(sample_record())
