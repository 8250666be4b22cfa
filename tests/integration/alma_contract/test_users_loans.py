"""Contract: loans (create, list a user's, read an item's) and users (get, linked get, create
linked, refresh)."""

from __future__ import annotations

import pytest

from application.shared.alma import AlmaError, ItemNotFound, UserNotFound
from tests.integration.alma_contract.support import (
    AB,
    CD,
    SCF,
    SCF_DESK,
    SCF_LIBRARY,
    SCF_USER,
    Backend,
    ids,
    scf_items,
)

AB_PATRON_LINKING_ID = "7100000000000004101"  # seeded; the SCF holds a linked copy of ab_patron1
CD_PATRON_LINKING_ID = "7100000000000004201"


async def test_a_loan_puts_the_item_on_loan_and_is_listed(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "L1X")

    loan = await gateway.create_loan(
        SCF_USER, str(item.pid), circ_desk=SCF_DESK, library=SCF_LIBRARY
    )

    assert loan.loan_id
    assert loan.item_barcode == "L1X"
    assert loan.raw["user_id"] == SCF_USER
    assert loan.raw["circ_desk"]["value"] == SCF_DESK
    assert (await gateway.get_item(*ids(item))).process_type == "LOAN"
    loans = await gateway.list_user_loans(SCF_USER)
    assert [x.loan_id for x in loans.records] == [loan.loan_id]
    assert loans.total_record_count == 1
    with pytest.raises(AlmaError) as again:
        await gateway.create_loan(SCF_USER, str(item.pid), circ_desk=SCF_DESK, library=SCF_LIBRARY)
    assert again.value.error_code == "400042"


async def test_item_loans_names_the_borrower_of_the_open_loan_only(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "L6X")
    assert await gateway.item_loans(*ids(item)) == []

    loan = await gateway.create_loan(
        SCF_USER, str(item.pid), circ_desk=SCF_DESK, library=SCF_LIBRARY
    )

    (found,) = await gateway.item_loans(*ids(item))
    assert (found.loan_id, found.user_id, found.item_barcode) == (loan.loan_id, SCF_USER, "L6X")
    assert found.active
    assert found.raw["item_id"] == item.pid
    await gateway.scan_in(*ids(item), library=SCF_LIBRARY, circ_desk=SCF_DESK)
    assert await gateway.item_loans(*ids(item)) == []


async def test_item_loans_of_an_unknown_item_is_item_not_found(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "L7X")
    mms_id, holding_id, _ = ids(item)

    with pytest.raises(ItemNotFound) as caught:
        await gateway.item_loans(mms_id, holding_id, "23999999999999999")

    assert caught.value.error_code == "401683"
    assert caught.value.operation == "get item loans"
    assert caught.value.subject == {"item": "23999999999999999"}


async def test_list_user_loans_pages(backend: Backend) -> None:
    gateway = backend.gateway()
    items = await scf_items(gateway, "L2X", "L3X", "L4X")
    for item in items:
        await gateway.create_loan(SCF_USER, str(item.pid), circ_desk=SCF_DESK, library=SCF_LIBRARY)

    page = await gateway.list_user_loans(SCF_USER, limit=2, offset=1)

    assert [x.item_barcode for x in page.records] == ["L3X", "L4X"]
    assert (page.total_record_count, page.offset, page.next_offset) == (3, 1, None)


async def test_a_loan_at_an_unknown_desk_is_refused(backend: Backend) -> None:
    gateway = backend.gateway()
    (item,) = await scf_items(gateway, "L5X")

    with pytest.raises(AlmaError) as caught:
        await gateway.create_loan(SCF_USER, str(item.pid), circ_desk="NO_DESK", library="RS")

    assert type(caught.value) is AlmaError
    assert caught.value.error_code == "402204"
    assert (await gateway.get_item(*ids(item))).process_type == ""


async def test_get_user_by_any_unique_id_and_by_linking_id(backend: Backend) -> None:
    gateway = backend.gateway(AB)

    by_primary = await gateway.get_user("ab_patron1")
    by_barcode = await gateway.get_user("ABP0001", id_type="BARCODE")
    by_linking = await gateway.get_user(AB_PATRON_LINKING_ID, id_type="linking_id")

    assert by_primary.primary_id == "ab_patron1"
    assert by_primary.raw["full_name"] == "Ada Lovelace"
    assert by_barcode == by_primary
    assert by_linking == by_primary
    assert by_primary.linking_id == AB_PATRON_LINKING_ID


async def test_an_unknown_user_is_user_not_found_401861(backend: Backend) -> None:
    with pytest.raises(UserNotFound) as caught:
        await backend.gateway(AB).get_user("nobody")

    assert caught.value.error_code == "401861"
    assert caught.value.error_message == "User with identifier nobody was not found."
    assert caught.value.subject == {"user": "nobody"}


async def test_get_linked_user_finds_the_local_copy(backend: Backend) -> None:
    gateway = backend.gateway()

    linked = await gateway.get_linked_user(AB_PATRON_LINKING_ID, AB)

    assert linked.primary_id == "ab_patron1"
    assert linked.source_institution_code == AB
    assert linked.source_link_id == AB_PATRON_LINKING_ID
    assert linked.linking_id is None
    with pytest.raises(UserNotFound) as caught:
        await gateway.get_linked_user(CD_PATRON_LINKING_ID, CD)
    assert caught.value.error_code == "4019990"


async def test_create_linked_user_copies_the_source_user_once(backend: Backend) -> None:
    gateway = backend.gateway()

    created = await gateway.create_linked_user(CD, "cd_patron1")

    assert created.primary_id == "cd_patron1"
    assert (created.source_institution_code, created.source_link_id) == (
        CD,
        CD_PATRON_LINKING_ID,
    )
    assert created.raw["account_type"]["value"] == "EXTERNAL"
    assert await gateway.get_linked_user(CD_PATRON_LINKING_ID, CD) == created
    with pytest.raises(AlmaError) as twice:
        await gateway.create_linked_user(CD, "cd_patron1")
    assert twice.value.error_code == "60227"
    with pytest.raises(UserNotFound) as unknown:
        await gateway.create_linked_user(CD, "nobody")
    assert unknown.value.error_code == "401861"


async def test_refresh_user_copies_the_source_again(backend: Backend) -> None:
    gateway = backend.gateway()
    # The member's staff change their patron; the SCF copy is stale until refreshed.
    backend.state.institution(AB).users["ab_patron1"].data["last_name"] = "King"
    assert (await gateway.get_user("ab_patron1")).raw["last_name"] == "Lovelace"

    await gateway.refresh_user("ab_patron1")

    refreshed = await gateway.get_user("ab_patron1")
    assert refreshed.raw["last_name"] == "King"
    assert refreshed.source_link_id == AB_PATRON_LINKING_ID
    with pytest.raises(AlmaError) as not_linked:
        await gateway.refresh_user(SCF_USER)
    assert not_linked.value.error_code == "60229"
    assert backend.state.institution(SCF).users[SCF_USER].data["last_name"] == "Remote Storage"
