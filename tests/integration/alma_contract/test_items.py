"""Contract: items by barcode and by id, paging, create, update, delete and scan-in."""

from __future__ import annotations

import pytest

from application.shared.alma import AlmaError, BarcodeExists, ItemNotFound, ItemOnLoan
from tests.integration.alma_contract.support import (
    AB,
    SCF_DESK,
    SCF_LIBRARY,
    SCF_USER,
    Backend,
    ids,
    item_body,
    scf_holding,
    scf_items,
)

ODD_BARCODE = "AB 0003+4&5#6"  # seeded: a space and the characters a query string breaks on


async def test_item_by_barcode_finds_the_item_with_its_ids_and_location(backend: Backend) -> None:
    seeded = backend.state.find_item(AB, "AB0001")
    assert seeded is not None

    item = await backend.gateway(AB).item_by_barcode("AB0001")

    assert item.barcode == "AB0001"
    assert (item.mms_id, item.holding_id, item.pid) == (
        seeded.mms_id,
        seeded.holding_id,
        seeded.pid,
    )
    assert (item.library, item.location) == ("ABRS", "rs_shared_in_ab")
    assert item.raw["link"] == (
        f"http://fake-alma/almaws/v1/bibs/{seeded.mms_id}/holdings/{seeded.holding_id}"
        f"/items/{seeded.pid}"
    )


async def test_item_by_barcode_keeps_spaces_plus_ampersand_and_hash(backend: Backend) -> None:
    item = await backend.gateway(AB).item_by_barcode(ODD_BARCODE)

    assert item.barcode == ODD_BARCODE
    assert item.raw["item_data"]["description"] == "v.1"


async def test_an_unknown_barcode_is_item_not_found_401689(backend: Backend) -> None:
    with pytest.raises(ItemNotFound) as caught:
        await backend.gateway(AB).item_by_barcode("NOPE 1+2&3#4")

    error = caught.value
    assert error.error_code == "401689"
    assert error.error_message == "No items found for barcode NOPE 1+2&3#4."
    assert error.http_status == 400
    assert error.institution == AB
    assert error.operation == "get item by barcode"
    assert error.subject == {"barcode": "NOPE 1+2&3#4"}
    assert error.tracking_id


async def test_get_item_by_ids_and_an_unknown_pid_is_item_not_found(backend: Backend) -> None:
    gateway = backend.gateway(AB)
    by_barcode = await gateway.item_by_barcode("AB0002")
    mms_id, holding_id, pid = ids(by_barcode)

    assert await gateway.get_item(mms_id, holding_id, pid) == by_barcode
    with pytest.raises(ItemNotFound) as caught:
        await gateway.get_item(mms_id, holding_id, "23000000000004101")
    assert caught.value.error_code == "401683"


async def test_list_items_pages_with_limit_offset_and_total(backend: Backend) -> None:
    gateway = backend.gateway()
    created = await scf_items(gateway, "P1X", "P2X", "P3X")
    mms_id, holding_id, _ = ids(created[0])

    first = await gateway.list_items(mms_id, limit=2)
    second = await gateway.list_items(mms_id, holding_id, limit=2, offset=2)
    beyond = await gateway.list_items(mms_id, limit=2, offset=5)

    assert [i.barcode for i in first.records] == ["P1X", "P2X"]
    assert (first.total_record_count, first.next_offset) == (3, 2)
    assert [i.barcode for i in second.records] == ["P3X"]
    assert (second.total_record_count, second.offset, second.next_offset) == (3, 2, None)
    assert (list(beyond.records), beyond.total_record_count) == ([], 3)


async def test_list_items_refuses_bad_paging_and_unknown_bibs(backend: Backend) -> None:
    gateway = backend.gateway(AB)
    seeded = await gateway.item_by_barcode("AB0001")
    mms_id = str(seeded.mms_id)

    with pytest.raises(ValueError, match="0 to 100"):
        await gateway.list_items(mms_id, limit=101)
    with pytest.raises(AlmaError) as negative:
        await gateway.list_items(mms_id, offset=-1)
    assert negative.value.error_code == "402204"
    with pytest.raises(AlmaError) as unknown:
        await gateway.list_items("990000000004101")
    assert unknown.value.error_code == "401688"


async def test_create_item_takes_the_holdings_location_and_refuses_a_used_barcode(
    backend: Backend,
) -> None:
    gateway = backend.gateway()
    mms_id, holding_id = await scf_holding(gateway, location="rs_shared_1")

    item = await gateway.create_item(mms_id, holding_id, item_body("AB0001X"))

    assert item.barcode == "AB0001X"
    assert item.pid
    assert (item.mms_id, item.holding_id) == (mms_id, holding_id)
    assert (item.library, item.location, item.provenance) == (SCF_LIBRARY, "rs_shared_1", AB)
    assert item.raw["item_data"]["physical_material_type"] == {"value": "BOOK", "desc": "Book"}
    with pytest.raises(AlmaError) as caught:
        await gateway.create_item(mms_id, holding_id, item_body("AB0001X"))
    assert type(caught.value) is BarcodeExists
    assert caught.value.error_code == "401873"


async def test_update_item_replaces_fields_and_views_never_share_state(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "U1X")
    mms_id, holding_id, pid = ids(item)
    body = item.raw
    body["item_data"]["description"] = "c.2"
    body["item_data"]["internal_note_2"] = "moved"

    updated = await gateway.update_item(mms_id, holding_id, pid, body)
    updated.raw["item_data"]["description"] = "changed by the caller only"
    again = await gateway.get_item(mms_id, holding_id, pid)

    assert again.raw["item_data"]["description"] == "c.2"
    assert again.raw["item_data"]["internal_note_2"] == "moved"
    assert again.barcode == "U1X"


async def test_delete_item_removes_it(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "D1X")

    await gateway.delete_item(*ids(item))

    with pytest.raises(ItemNotFound):
        await gateway.get_item(*ids(item))
    with pytest.raises(ItemNotFound) as caught:
        await gateway.item_by_barcode("D1X")
    assert caught.value.error_code == "401689"


async def test_delete_is_refused_while_on_loan_unless_overridden(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "D2X")
    await gateway.create_loan(SCF_USER, str(item.pid), circ_desk=SCF_DESK, library=SCF_LIBRARY)

    with pytest.raises(ItemOnLoan) as caught:
        await gateway.delete_item(*ids(item))
    assert caught.value.operation == "delete item"
    assert caught.value.error_code == "401897"
    assert caught.value.error_message is not None
    assert "on loan" in caught.value.error_message
    assert await gateway.get_item(*ids(item))  # still there

    await gateway.delete_item(*ids(item), override=True)
    with pytest.raises(ItemNotFound):
        await gateway.get_item(*ids(item))


async def test_scan_in_completes_the_loan(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "S1X")
    await gateway.create_loan(SCF_USER, str(item.pid), circ_desk=SCF_DESK, library=SCF_LIBRARY)

    scanned = await gateway.scan_in(*ids(item), library=SCF_LIBRARY, circ_desk=SCF_DESK)

    assert scanned.pid == item.pid
    assert scanned.process_type == ""
    assert "Reshelve" in scanned.raw["additional_info"]
    loans = await gateway.list_user_loans(SCF_USER)
    assert (list(loans.records), loans.total_record_count) == ([], 0)


async def test_scan_in_without_a_desk_is_refused_40166415(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "S2X")

    with pytest.raises(AlmaError) as caught:
        await gateway.scan_in(*ids(item), library=SCF_LIBRARY, circ_desk="")

    assert type(caught.value) is AlmaError
    assert caught.value.error_code == "40166415"
    assert caught.value.operation == "scan in item"
