"""Contract: bibs by NZ id and other-system id, get, create (from the NZ or local), holdings."""

from __future__ import annotations

import pytest

from application.shared.alma import AlmaError, BibNotFound
from tests.integration.alma_contract.support import (
    AB,
    NZ_ABSENT,
    NZ_LINKED_IN_AB,
    NZ_UNLINKED,
    SCF_LIBRARY,
    Backend,
)

LOCAL_RECORD = (
    "<record><leader>00000nam a2200000 i 4500</leader>"
    '<controlfield tag="001">991234</controlfield>'
    '<datafield ind1=" " ind2=" " tag="035"><subfield code="a">(01AAA_AB)991234</subfield>'
    "</datafield>"
    '<datafield ind1="1" ind2="0" tag="245"><subfield code="a">Local annals &amp; more /'
    "</subfield></datafield></record>"
)


async def test_bibs_by_nz_id_finds_the_linked_bib_or_nothing(backend: Backend) -> None:
    seeded = next(
        b for b in backend.state.institution(AB).bibs.values() if b.nz_mms_id == NZ_LINKED_IN_AB
    )

    found = await backend.gateway(AB).bibs_by_nz_id(NZ_LINKED_IN_AB)

    assert [b.mms_id for b in found] == [seeded.mms_id]
    assert f"(EXLNZ-01AAA_NETWORK){NZ_LINKED_IN_AB}" in found[0].network_numbers
    assert await backend.gateway().bibs_by_nz_id(NZ_LINKED_IN_AB) == []


async def test_bibs_by_an_unknown_other_system_id_is_empty(backend: Backend) -> None:
    assert await backend.gateway().bibs_by_other_system_id("(01AAA_AB)990000") == []


async def test_get_bib_and_an_unknown_one_is_bib_not_found(backend: Backend) -> None:
    gateway = backend.gateway(AB)
    (linked,) = await gateway.bibs_by_nz_id(NZ_LINKED_IN_AB)

    bib = await gateway.get_bib(str(linked.mms_id))

    assert bib.mms_id == linked.mms_id
    assert bib.raw["title"] == "The shared shelf : remote storage in practice /"
    assert bib.raw["anies"][0].startswith('<?xml version="1.0" encoding="UTF-16"?><record>')
    with pytest.raises(BibNotFound) as caught:
        await gateway.get_bib("990000000004101")
    assert caught.value.error_code == "402203"


async def test_create_bib_from_a_present_nz_record_links_it_once(backend: Backend) -> None:
    gateway = backend.gateway()

    bib = await gateway.create_bib_from_nz(NZ_UNLINKED)

    assert bib.mms_id
    assert bib.raw["linked_record_id"] == {"value": NZ_UNLINKED, "type": "NZ"}
    assert bib.raw["title"] == "Barcodes : a field guide /"
    assert [b.mms_id for b in await gateway.bibs_by_nz_id(NZ_UNLINKED)] == [bib.mms_id]
    with pytest.raises(AlmaError) as again:
        await gateway.create_bib_from_nz(NZ_UNLINKED)
    assert type(again.value) is AlmaError
    assert again.value.error_code == "402250"


async def test_create_bib_from_an_absent_nz_record_is_refused(backend: Backend) -> None:
    with pytest.raises(BibNotFound) as caught:
        await backend.gateway().create_bib_from_nz(NZ_ABSENT)

    assert caught.value.error_code == "402203"
    assert caught.value.subject == {"nz_mms_id": NZ_ABSENT}
    assert await backend.gateway().bibs_by_nz_id(NZ_ABSENT) == []


async def test_a_local_bib_is_found_by_its_035_other_system_id(backend: Backend) -> None:
    gateway = backend.gateway()

    created = await gateway.create_local_bib(LOCAL_RECORD)
    found = await gateway.bibs_by_other_system_id("(01AAA_AB)991234")

    assert [b.mms_id for b in found] == [created.mms_id]
    assert created.mms_id != "991234"  # Alma writes its own 001
    assert created.raw["originating_system_id"] == "991234"
    assert created.raw["title"] == "Local annals & more /"
    assert "(01AAA_AB)991234" in created.network_numbers


async def test_a_local_bib_that_is_not_xml_is_refused(backend: Backend) -> None:
    with pytest.raises(AlmaError) as caught:
        await backend.gateway().create_local_bib("<record><unclosed></record>")

    assert type(caught.value) is AlmaError
    assert caught.value.error_code == "401652"


async def test_list_holdings_reads_library_and_location(backend: Backend) -> None:
    gateway = backend.gateway(AB)
    item = await gateway.item_by_barcode("AB0004")  # the second bib: two holdings

    holdings = await gateway.list_holdings(str(item.mms_id))

    assert [(h.library, h.location) for h in holdings] == [
        ("ABRS", "rs_shared_in_ab"),
        ("ABRS", "stacks"),
    ]
    assert item.holding_id == holdings[1].holding_id


async def test_create_holding_writes_the_852_read_back_by_the_list(backend: Backend) -> None:
    gateway = backend.gateway()
    bib = await gateway.create_bib_from_nz(NZ_UNLINKED)
    mms_id = str(bib.mms_id)
    assert await gateway.list_holdings(mms_id) == []

    holding = await gateway.create_holding(mms_id, SCF_LIBRARY, "rs_shared_1")

    assert holding.holding_id
    marc = holding.raw["anies"][0]
    assert '<datafield ind1="0" ind2=" " tag="852">' in marc
    assert '<subfield code="b">RS</subfield><subfield code="c">rs_shared_1</subfield>' in marc
    assert holding.raw["suppress_from_publishing"] == "false"
    listed = await gateway.list_holdings(mms_id)
    assert [(h.holding_id, h.library, h.location) for h in listed] == [
        (holding.holding_id, SCF_LIBRARY, "rs_shared_1")
    ]


async def test_create_holding_at_an_unknown_location_is_refused(backend: Backend) -> None:
    gateway = backend.gateway()
    bib = await gateway.create_bib_from_nz(NZ_UNLINKED)

    with pytest.raises(AlmaError) as caught:
        await gateway.create_holding(str(bib.mms_id), SCF_LIBRARY, "nowhere")

    assert caught.value.error_code == "402222"
    assert caught.value.subject == {"mms_id": bib.mms_id, "location": "nowhere"}
