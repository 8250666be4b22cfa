"""Rule R5 (and C2): the comments on SCF requests, pinned character for character."""

from __future__ import annotations

import pytest

from domain.scf.requests.comments import (
    c1_item_hold_comment,
    c2_title_comment,
    c3_digitization_comment,
    parse_internal_identifier,
    parse_source_request_tag,
    patron_text,
    source_request_tag,
)
from domain.scf.requests.routing import PatronInfo, SourceRequestRef
from domain.shared.errors import InvalidIdentifier

from .samples import AB, rush_request

PATRON = "Patron: Doe, Jane, JD001, jd@example.edu, 1 Main St"
ORIGINAL = {
    "request_id": "1234567890000121",
    "user_primary_id": "jd-001",
    "comment": "Please hurry",
    "request_sub_type": {"value": "PATRON_PHYSICAL", "desc": "Patron physical item request"},
}


# --- C1 -------------------------------------------------------------------------------------


def test_R5_C1_golden_example_of_the_research_note() -> None:
    assert c1_item_hold_comment(rush_request()) == (
        "Rush Patron: Doe, Jane, JD001, jd@example.edu, 1 Main St"
        " || request type: PATRON_PHYSICAL || Internal identifier: 1234567890000121"
    )


def test_R5_C1_without_note_or_patron_starts_with_the_separator_like_the_java_app() -> None:
    request = rush_request(request_note=None, patron=None)
    assert c1_item_hold_comment(request) == (
        " || request type: PATRON_PHYSICAL || Internal identifier: 1234567890000121"
    )


def test_R5_C1_an_empty_type_reads_patron_physical_item_request() -> None:
    request = rush_request(request_note="", request_type="", request_id="")
    assert c1_item_hold_comment(request) == (
        f"{PATRON} || request type: Patron physical item request || Internal identifier: "
    )


def test_R5_missing_patron_parts_print_null() -> None:
    assert patron_text(PatronInfo(name="Doe, Jane")) == "Patron: Doe, Jane, null, null, null"
    assert patron_text(None) == ""


# --- C2 -------------------------------------------------------------------------------------


def test_R5_C2_golden_with_original_comment_patron_and_source_request_tag() -> None:
    assert c2_title_comment(rush_request(), AB, ORIGINAL) == (
        "Please hurry The inventory for this request should come from 01AAA_AB. "
        f"{PATRON} || request type: Patron physical item request"
        " || Internal identifier: 1234567890000121"
        " {Source Request 01AAA_AB-1234567890000121-jd-001}"
    )


def test_R5_C2_a_manual_description_without_a_holding_goes_before_the_tag() -> None:
    comment = c2_title_comment(rush_request(patron=None), AB, ORIGINAL, manual_description="c.2")
    assert comment == (
        "Please hurry The inventory for this request should come from 01AAA_AB. "
        " || request type: Patron physical item request"
        " || Internal identifier: 1234567890000121 c.2"
        " {Source Request 01AAA_AB-1234567890000121-jd-001}"
    )


def test_R5_C2_without_original_comment_or_sub_type_uses_the_export_type() -> None:
    original = {"request_id": "1234567890000121", "user_primary_id": "jd-001", "comment": None}
    assert c2_title_comment(rush_request(patron=None), AB, original) == (
        "The inventory for this request should come from 01AAA_AB. "
        " || request type: PATRON_PHYSICAL || Internal identifier: 1234567890000121"
        " {Source Request 01AAA_AB-1234567890000121-jd-001}"
    )


def test_R5_C2_the_tag_falls_back_to_the_export_request_id() -> None:
    original = {"user_primary_id": "jd-001"}
    assert c2_title_comment(rush_request(request_id="77"), AB, original).endswith(
        " || Internal identifier: 77 {Source Request 01AAA_AB-77-jd-001}"
    )


def test_R5_C2_without_a_user_or_with_an_untaggable_id_the_tag_is_left_out() -> None:
    assert c2_title_comment(rush_request(), AB, {"request_id": "1"}).endswith(
        "Internal identifier: 1234567890000121"
    )
    untaggable = {"request_id": "1-2", "user_primary_id": "jd"}
    assert "{Source Request" not in c2_title_comment(rush_request(), AB, untaggable)


# --- C3 -------------------------------------------------------------------------------------

DIGITIZATION_ORIGINAL = {"volume": "2", "issue": "", "manual_description": "pp. 10-20"}


def test_R5_C3_golden_item_level_patron_digitization() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION", request_note=None)
    comment = c3_digitization_comment(request, AB, DIGITIZATION_ORIGINAL, title_level=False)
    assert comment == (
        f"The inventory for this request should come from 01AAA_AB. {PATRON}"
        " || request type: Patron digitization request || Internal identifier: 1234567890000121"
        " || volume: 2 pp. 10-20"
    )


def test_R5_C3_title_level_prints_an_empty_issue_and_json_null_as_null() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION", patron=None)
    original = {"comment": "Scan chapter 3", "volume": None, "issue": ""}
    assert c3_digitization_comment(request, AB, original, title_level=True) == (
        "Scan chapter 3 The inventory for this request should come from 01AAA_AB. "
        " || request type: Patron digitization request || Internal identifier: 1234567890000121"
        " || volume: null || issue: "
    )


def test_R5_C3_item_level_prints_json_null_volume_as_null_like_the_java_app() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION", patron=None)
    comment = c3_digitization_comment(request, AB, {"volume": None}, title_level=False)
    assert comment.endswith("Internal identifier: 1234567890000121 || volume: null")


def test_R5_C3_missing_volume_and_issue_keys_are_left_out_instead_of_crashing() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION", patron=None)
    for title_level in (False, True):
        comment = c3_digitization_comment(request, AB, {}, title_level=title_level)
        assert comment.endswith("|| Internal identifier: 1234567890000121")


@pytest.mark.parametrize(
    ("request_type", "text"),
    [
        ("STAFF_PHYSICAL_DIGITIZATION", "Staff digitization request"),
        ("RESOURCE_SHARING_P2D_SHIPMENT", "Resource sharing Ship digitally request"),
        ("PHYSICAL_TO_DIGITIZATION", "Patron digitization request"),
        ("GENERAL_DIGITIZATION", "Digitization request"),
    ],
)
def test_R5_C3_names_the_digitization_type_for_scf_staff(request_type: str, text: str) -> None:
    request = rush_request(request_type=request_type, patron=None)
    comment = c3_digitization_comment(request, AB, {}, title_level=False)
    assert f" || request type: {text} || " in comment


# --- Source Request tag and internal identifier ---------------------------------------------


def test_R5_the_source_request_tag_golden() -> None:
    assert source_request_tag("01AAA_AB", "1234567890000121", "jd-001") == (
        "{Source Request 01AAA_AB-1234567890000121-jd-001}"
    )


@pytest.mark.parametrize(
    ("institution", "request_id", "user"),
    [("01AAA-AB", "1", "u"), ("01AAA_AB", "1-2", "u"), ("01AAA_AB", "1", "u}"), (" ", "1", "u"),
     ("01AAA_AB", "", "u"), ("01AAA_AB", "1", " "), ("{AB", "1", "u")],
)  # fmt: skip
def test_R5_a_tag_that_could_not_be_parsed_back_is_refused(
    institution: str, request_id: str, user: str
) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        source_request_tag(institution, request_id, user)
    assert raised.value.request_id == request_id


def test_C2_the_tag_is_parsed_back_and_user_ids_may_contain_dashes() -> None:
    comment = "Please hurry || Internal identifier: 1 {Source Request 01AAA_AB-12345-jd-0-1}"
    assert parse_source_request_tag(comment) == SourceRequestRef("01AAA_AB", "12345", "jd-0-1")


def test_C2_the_last_tag_of_a_comment_wins() -> None:
    comment = "{Source Request 01AAA_CD-9-old} then {Source Request 01AAA_AB-1-new}"
    assert parse_source_request_tag(comment) == SourceRequestRef("01AAA_AB", "1", "new")


@pytest.mark.parametrize(
    "comment",
    [None, "", "no tag here", "{Source Request 01AAA_AB-1}", "{Source Request 01AAA_AB-1-u",
     "{Source Request -1-u}", "{Source Request 01AAA_AB--u}", "{Source Request 01AAA_AB-1- }"],
)  # fmt: skip
def test_C2_a_missing_or_incomplete_tag_names_no_request(comment: str | None) -> None:
    assert parse_source_request_tag(comment) is None


def test_C2_the_internal_identifier_is_read_from_C1_C2_and_C3_comments() -> None:
    assert parse_internal_identifier(c1_item_hold_comment(rush_request())) == "1234567890000121"
    assert (
        parse_internal_identifier(c2_title_comment(rush_request(), AB, ORIGINAL))
        == "1234567890000121"
    )
    digitization = c3_digitization_comment(
        rush_request(), AB, DIGITIZATION_ORIGINAL, title_level=False
    )
    assert parse_internal_identifier(digitization) == "1234567890000121"


def test_C2_an_empty_internal_identifier_names_no_request() -> None:
    assert parse_internal_identifier(c1_item_hold_comment(rush_request(request_id=""))) is None
    tagged = "Internal identifier:  {Source Request 01AAA_AB-1-u}"
    assert parse_internal_identifier(tagged) is None
    assert parse_internal_identifier(None) is None


def test_C2_the_last_internal_identifier_wins_over_one_quoted_in_the_original_comment() -> None:
    comment = "Internal identifier: 111 The inventory ... || Internal identifier: 222"
    assert parse_internal_identifier(comment) == "222"


def test_R5_C3_numbers_and_booleans_print_the_way_org_json_printed_them() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION", patron=None)
    original = {"volume": 2, "issue": True, "manual_description": ["c.2"]}
    comment = c3_digitization_comment(request, AB, original, title_level=False)
    assert comment.endswith(' || volume: 2 || issue: true ["c.2"]')
    original = {"issue": False}
    assert c3_digitization_comment(request, AB, original, title_level=True).endswith(
        " || issue: false"
    )
