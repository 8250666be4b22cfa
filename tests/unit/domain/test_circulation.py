"""Rules C1 and C2: what the SCF's returns and cancellations do at the owning member."""

from __future__ import annotations

from typing import Any

from domain.scf.circulation import (
    CancelByInternalIdentifier,
    CancelByTag,
    CancelMapped,
    NoMatch,
    ScanIn,
    ScanInRefused,
    plan_cancel_propagation,
    plan_scan_in,
)
from domain.scf.requests.cancellations import SCF_CANCELED_ITEM_REQUEST
from domain.scf.requests.routing import SourceRequestRef
from domain.scf.webhooks import RequestCanceled

from .samples import CD, CONSORTIUM, SCF, member_item


def _cd_item(**item_data: Any) -> dict[str, Any]:
    item = member_item()
    item["item_data"]["library"] = {"value": "CDRS", "desc": "CD remote storage"}
    item["item_data"].update(item_data)
    return item


def test_C1_the_member_item_is_scanned_in_at_its_library_and_configured_desk() -> None:
    plan = plan_scan_in("32101108168939X", CD, _cd_item(), CONSORTIUM)
    assert plan == ScanIn(
        institution=CD,
        barcode="32101108168939",
        mms_id="99117110763506421",
        holding_id="22195173890006421",
        item_pid="23195173880006421",
        library="CDRS",
        circ_desk="DEFAULT_CIRC_DESK",
    )


def test_C1_an_item_in_a_temporary_location_is_scanned_in_at_the_temporary_library() -> None:
    item = _cd_item(library={"value": "firestone"})
    item["holding_data"].update(in_temp_location=True, temp_library={"value": "CDRS", "desc": None})
    plan = plan_scan_in("32101108168939X", CD.lower(), item, CONSORTIUM)
    assert isinstance(plan, ScanIn)
    assert plan.library == "CDRS"
    assert plan.institution == CD


def test_C1_a_library_without_a_configured_desk_is_refused_naming_the_library() -> None:
    plan = plan_scan_in("32101108168939X", CD, _cd_item(library={"value": "CDTEMP"}), CONSORTIUM)
    assert plan == ScanInRefused(
        "library CDTEMP of 01AAA_CD has no circulation desk configured (circ_desc)",
        institution=CD,
        barcode="32101108168939",
    )


def test_C1_a_library_that_is_not_configured_at_all_is_refused_too() -> None:
    plan = plan_scan_in("32101108168939X", CD, member_item(), CONSORTIUM)
    assert isinstance(plan, ScanInRefused)
    assert "library firestone of 01AAA_CD" in plan.reason


def test_C1_N1_a_barcode_without_X_is_not_a_mirror() -> None:
    plan = plan_scan_in("32101108168939", CD, _cd_item(), CONSORTIUM)
    assert plan == ScanInRefused(
        "32101108168939 is not an SCF mirror (N1)", barcode="32101108168939"
    )


def test_C1_N2_without_a_provenance_the_owner_is_unknown() -> None:
    for provenance in (None, " "):
        plan = plan_scan_in("32101108168939X", provenance, _cd_item(), CONSORTIUM)
        assert plan == ScanInRefused(
            "SCF item 32101108168939X has no provenance", barcode="32101108168939"
        )


def test_C1_a_provenance_that_is_no_member_is_refused_naming_it() -> None:
    for provenance in ("01AAA_ZZ", SCF):
        plan = plan_scan_in("32101108168939X", provenance, _cd_item(), CONSORTIUM)
        assert isinstance(plan, ScanInRefused)
        assert plan.institution == provenance
        assert f"provenance {provenance}" in plan.reason


def test_C1_a_member_item_missing_its_ids_or_library_is_refused_listing_what_is_missing() -> None:
    item = _cd_item(pid=None, library={"value": None})
    del item["bib_data"]["mms_id"]
    plan = plan_scan_in("32101108168939X", CD, item, CONSORTIUM)
    assert plan == ScanInRefused(
        "member item 32101108168939 of 01AAA_CD has no mms_id, pid, library",
        institution=CD,
        barcode="32101108168939",
    )
    item = _cd_item()
    item["holding_data"]["in_temp_location"] = True
    plan = plan_scan_in("32101108168939X", CD, item, CONSORTIUM)
    assert isinstance(plan, ScanInRefused)
    assert plan.reason.endswith("has no temp_library")


def _canceled(comment: str | None, barcode: str | None = "777") -> RequestCanceled:
    scf_barcode = None if barcode is None else barcode + "X"
    return RequestCanceled("5550000561", barcode, scf_barcode, comment, "01AAA_AB-ABRS")


def test_C2_a_request_the_ledger_maps_cancels_exactly_that_member_request() -> None:
    mapped = SourceRequestRef(CD, "1234567890000121", mms_id="991234560000121")
    tagged = "x {Source Request 01AAA_AB-1-u}"
    assert plan_cancel_propagation(_canceled(tagged), mapped) == CancelMapped(mapped)


def test_C2_otherwise_the_source_request_tag_names_the_member_request() -> None:
    plan = plan_cancel_propagation(_canceled("... {Source Request 01AAA_AB-1234-jd-001}"), None)
    assert plan == CancelByTag(SourceRequestRef("01AAA_AB", "1234", "jd-001"))
    assert plan.cancellation.note == "Request could not be fulfilled by the SCF."


def test_C2_otherwise_the_internal_identifier_on_the_mirror_names_one_request_of_the_item() -> None:
    comment = "Rush || request type: PATRON_PHYSICAL || Internal identifier: 1234567890000121"
    plan = plan_cancel_propagation(_canceled(comment), None)
    assert plan == CancelByInternalIdentifier("1234567890000121", "777", "777X")
    assert plan.cancellation is SCF_CANCELED_ITEM_REQUEST


def test_C2_an_internal_identifier_on_a_title_level_request_has_no_owner_to_ask() -> None:
    plan = plan_cancel_propagation(_canceled("Internal identifier: 1234", barcode=None), None)
    assert isinstance(plan, NoMatch)
    assert "1234" in plan.reason


def test_C2_nothing_to_go_on_cancels_nothing_never_every_request_on_the_item() -> None:
    plan = plan_cancel_propagation(_canceled(None), None)
    assert plan == NoMatch(
        "SCF request 5550000561 carries no Source Request tag or internal identifier"
    )
