"""Each request type reaches the SCF as the right request of the right user (rules R2, R4, R5).

The exact bodies and comments are pinned byte for byte by the domain's golden tests; here the
scenario checks what the fake SCF actually received: user, level, comment and fields.
"""

from __future__ import annotations

from pathlib import Path

from application.scf.reports import ReportName
from application.shared.ledger_records import RequestStatus
from tests.scenarios.requests.support import (
    AB_NZ_BIB,
    PATRON_DIGITIZATION,
    forward,
    member_item_request,
    member_title_request,
    mirror,
    scf_requests,
)
from tests.scenarios.world import AB, CD, SCF, open_world

PATRON = {
    "patronName": "Hopper, Grace",
    "patronIdentifier": "ab_patron2",
    "patronEmail": "grace@ab.example.edu",
    "patronAddress": "1 Campus Road",
}
PATRON_TEXT = "Patron: Hopper, Grace, ab_patron2, grace@ab.example.edu, 1 Campus Road"


async def test_R4_R5_patron_physical_item_hold_goes_to_the_pickup_system_user_with_C1(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        summary = await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "requestType": "PATRON_PHYSICAL",
                "barcode": "AB0002",
                "mmsId": source.mms_id,
                "pickup": "AB Remote Storage Library",
                "requestNote": "Rush",
                "patron": PATRON,
            },
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        assert placed.item_pid == scf_item.pid
        assert placed.user_primary_id == "01AAA_AB-ABRS"
        assert placed.request_type == "HOLD"
        assert placed.fields["comment"] == (
            f"Rush {PATRON_TEXT} || request type: PATRON_PHYSICAL"
            f" || Internal identifier: {source.request_id}"
        )
        assert placed.fields["pickup_location_type"] == "USER_HOME_ADDRESS"
        assert world.state.request(AB, source.request_id).active  # holds keep their source


async def test_R4_R5_a_barcode_with_a_colon_is_a_title_hold_with_C2_and_the_source_tag(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        member_bib = world.state.item_by_barcode(AB, "AB0002").mms_id
        source = member_title_request(world, AB, member_bib, "ab_patron2")
        summary = await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "requestType": "PATRON_PHYSICAL",
                "barcode": "Vol. 2: 2019",
                "mmsId": member_bib,
                "description": "v.2",
                "pickup": "AB Remote Storage Library",
                "patron": PATRON,
            },
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        (scf_bib,) = world.state.find_bibs(SCF, nz_mms_id=AB_NZ_BIB)  # found by the NZ id
        assert placed.item_pid is None
        assert placed.mms_id == scf_bib.mms_id
        assert placed.user_primary_id == "01AAA_AB-ABRS"
        assert placed.fields["description"] == "v.2"
        comment = placed.fields["comment"]
        assert comment.startswith("The inventory for this request should come from 01AAA_AB. ")
        assert f"{PATRON_TEXT} || request type: Patron physical item request" in comment
        assert comment.endswith(
            f"|| Internal identifier: {source.request_id}"
            f" {{Source Request 01AAA_AB-{source.request_id}-ab_patron2}}"
        )


async def test_R4_a_request_without_a_barcode_element_is_a_title_hold_not_a_cancel(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        member_bib = world.state.item_by_barcode(AB, "AB0002").mms_id
        source = member_title_request(world, AB, member_bib, "ab_patron2")
        summary = await forward(
            world,
            AB,
            {"requestId": source.request_id, "mmsId": member_bib, "patron": PATRON},
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        assert placed.item_pid is None
        assert placed.user_primary_id == "01AAA_AB-ABRS"  # no pickup: default_library (R3)
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.route == "title_hold"
        assert world.state.request(AB, source.request_id).active


async def test_R5_a_local_title_is_found_by_the_owning_institution_when_pickup_is_elsewhere(
    tmp_path: Path,
) -> None:
    """Fix: Java searched `({pickup institution}){mms}` and cancelled cross-institution pickups."""
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB 0003+4&5#6")  # local bib: (01AAA_AB){mms} in its 035
        member_bib = world.state.item_by_barcode(AB, "AB 0003+4&5#6").mms_id
        source = member_title_request(
            world,
            AB,
            member_bib,
            "ab_patron2",
            {"request_type": "HOLD", "manual_description": "v.1 (1988)", "comment": "Urgent"},
        )
        summary = await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "requestType": "PATRON_PHYSICAL",
                "barcode": "Local annals: v.1",
                "mmsId": member_bib,
                "institutionCode": CD,
                "pickup": "CD Remote Storage Library",
            },
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        assert placed.mms_id == scf_item.mms_id
        assert placed.user_primary_id == "01AAA_CD-CDRS"  # the pickup institution's system user
        # The manual description rides on the SCF holding at the default location (§7.4.2).
        assert placed.fields["manual_description"] == "v.1 (1988)"
        assert placed.holding_id == scf_item.holding_id
        assert placed.fields["comment"].startswith(
            "Urgent The inventory for this request should come from 01AAA_AB. "
        )


async def test_R4_R5_patron_item_digitization_of_a_linked_patron_then_RequestSwitched(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        scf_item = mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron1", PATRON_DIGITIZATION)
        summary = await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "requestType": "PHYSICAL_TO_DIGITIZATION",
                "barcode": "AB0002",
                "mmsId": source.mms_id,
                "patron": {"patronName": "Lovelace, Ada", "patronIdentifier": "ab_patron1"},
            },
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        # The SCF's seeded linked copy of ab_patron1, found by the member's linking id.
        assert placed.user_primary_id == "ab_patron1"
        assert world.state.user(SCF, "ab_patron1").data["source_institution_code"] == AB
        assert placed.item_pid == scf_item.pid
        assert placed.request_type == "DIGITIZATION"
        assert placed.fields["target_destination"]["value"] == "DIGI_DEPT_INST"
        assert placed.fields["required_pages_range"] == [{"from_page": "5", "to_page": "9"}]
        assert placed.fields["partial_digitization"] is True
        assert placed.fields["chapter_or_article_title"] == "Cold storage"
        assert placed.fields["comment"] == (
            "Please scan The inventory for this request should come from 01AAA_AB. "
            "Patron: Lovelace, Ada, ab_patron1, null, null"
            " || request type: Patron digitization request"
            f" || Internal identifier: {source.request_id} || volume: 3"
        )
        cancelled = world.state.request(AB, source.request_id)
        assert not cancelled.active
        assert (cancelled.cancel_reason, cancelled.cancel_note, cancelled.notify_user) == (
            "RequestSwitched",
            "Request will be handled by the remote storage.",
            False,
        )
        (switch,) = await world.events(action="request.switch")
        assert switch.outcome == "ok"
        assert switch.request_id == source.request_id


async def test_R4_patron_digitization_of_an_unlinked_patron_creates_the_SCF_account(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        mirror(world, CD, "CD0001")
        source = member_item_request(world, CD, "CD0001", "cd_patron1", PATRON_DIGITIZATION)
        summary = await forward(
            world,
            CD,
            {
                "requestId": source.request_id,
                "requestType": "PHYSICAL_TO_DIGITIZATION",
                "barcode": "CD0001",
                "mmsId": source.mms_id,
                "patron": {"patronIdentifier": "cd_patron1"},
            },
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        account = world.state.user(SCF, placed.user_primary_id)
        assert account.data["source_institution_code"] == CD
        assert account.data["source_link_id"] == "7100000000000004201"  # cd_patron1's linking id
        assert not world.state.request(CD, source.request_id).active  # switched


async def test_R4_patron_digitization_of_a_patron_linked_from_a_third_institution(
    tmp_path: Path,
) -> None:
    """§7.4.3: a member user that is itself a copy gets an SCF account linked to the original."""
    async with open_world(tmp_path) as world:
        mirror(world, CD, "CD0001")
        copy_at_cd = world.state.create_linked_user(CD, AB, "ab_patron2")
        source = member_item_request(
            world, CD, "CD0001", copy_at_cd.primary_id, PATRON_DIGITIZATION
        )
        await forward(
            world,
            CD,
            {
                "requestId": source.request_id,
                "requestType": "PHYSICAL_TO_DIGITIZATION",
                "barcode": "CD0001",
                "mmsId": source.mms_id,
            },
        )
        (placed,) = scf_requests(world)
        account = world.state.user(SCF, placed.user_primary_id)
        assert account.data["source_institution_code"] == AB  # linked to the original at AB
        assert (
            account.data["source_link_id"] == world.state.user(AB, "ab_patron2").data["linking_id"]
        )


async def test_R4_patron_title_digitization_goes_to_the_bib_and_switches_the_source(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        member_bib = world.state.item_by_barcode(AB, "AB0002").mms_id
        source = member_title_request(world, AB, member_bib, "ab_patron1", PATRON_DIGITIZATION)
        summary = await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "requestType": "PHYSICAL_TO_DIGITIZATION",
                "barcode": "Chapter 3: Cold storage",
                "mmsId": member_bib,
                "patron": {"patronIdentifier": "ab_patron1"},
            },
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        assert placed.item_pid is None
        assert placed.request_type == "DIGITIZATION"
        assert placed.user_primary_id == "ab_patron1"
        # Title level prints volume and issue whenever the original has them (parity).
        assert placed.fields["comment"].endswith(" || volume: 3 || issue: ")
        assert world.state.request(AB, source.request_id).cancel_reason == "RequestSwitched"


async def test_R4_staff_item_digitization_is_for_the_system_user_and_keeps_the_source(
    tmp_path: Path,
) -> None:
    """§7.4.5: staff digitizations are not switched off (Java stopped cancelling them)."""
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        body = {"request_type": "DIGITIZATION", "required_pages_range": [{"from_page": "1"}]}
        source = member_item_request(world, AB, "AB0002", "ab_patron2", body)
        summary = await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "requestType": "STAFF_PHYSICAL_DIGITIZATION",
                "barcode": "AB0002",
                "mmsId": source.mms_id,
                "libraryCode": "ABRS",
            },
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        assert placed.user_primary_id == "01AAA_AB-ABRS"
        assert placed.request_type == "DIGITIZATION"
        assert "|| request type: Staff digitization request ||" in placed.fields["comment"]
        assert world.state.request(AB, source.request_id).active
        assert await world.events(action="request.switch") == []


async def test_R4_resource_sharing_P2D_shipment_at_title_level_keeps_the_source(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        mirror(world, CD, "CD0002")  # local CD bib
        member_bib = world.state.item_by_barcode(CD, "CD0002").mms_id
        body = {"request_type": "DIGITIZATION", "issue": "4"}
        source = member_title_request(world, CD, member_bib, "cd_patron1", body)
        summary = await forward(
            world,
            CD,
            {
                "requestId": source.request_id,
                "requestType": "RESOURCE_SHARING_P2D_SHIPMENT",
                "barcode": "1975-1979: minutes",
                "mmsId": member_bib,
            },
        )
        assert summary.forwarded == 1
        (placed,) = scf_requests(world)
        assert placed.item_pid is None
        assert placed.user_primary_id == "01AAA_CD-CDRS"  # default_library: no pickup given
        comment = placed.fields["comment"]
        assert "|| request type: Resource sharing Ship digitally request ||" in comment
        assert comment.endswith("|| volume:  || issue: 4")
        assert world.state.request(CD, source.request_id).active


async def test_R5_P1_an_unresolvable_patron_account_fails_and_is_not_cancelled(
    tmp_path: Path,
) -> None:
    """Parity `ba7e89f`: a patron whose SCF account cannot be made keeps the request."""
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron2", PATRON_DIGITIZATION)
        del world.state.institution(AB).users["ab_patron2"]  # the patron has since gone
        summary = await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "requestType": "PHYSICAL_TO_DIGITIZATION",
                "barcode": "AB0002",
                "mmsId": source.mms_id,
            },
        )
        assert summary.failed == 1
        assert summary.cancelled == 0
        assert scf_requests(world) == []
        assert world.state.request(AB, source.request_id).active
        record = await world.ledger.request_record(AB, source.request_id)
        assert record.request is not None
        assert record.request.status is RequestStatus.FAILED
        assert "ab_patron2" in (record.request.last_error or "")
        (row,) = world.reports.rows
        assert row.report is ReportName.REQUESTS
        assert (row.barcode, row.institution) == ("AB0002", AB)
        (failed,) = await world.events(action="request.fail")
        assert failed.error_code == "401861"
