"""Rule R5: the SCF request bodies, pinned byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest

from domain.scf.requests.bodies import digitization_body, item_hold_body, title_hold_body
from domain.scf.requests.routing import Route
from domain.shared.errors import WrongRoute

from .samples import AB, rush_request


def _compact(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def test_R5_item_hold_body_golden() -> None:
    body = item_hold_body(rush_request(), "01AAA_CD-CDMAIN")
    assert _compact(body) == (
        '{"request_type":"HOLD",'
        '"request_sub_type":{"value":"PATRON_PHYSICAL","desc":"Patron physical item request"},'
        '"pickup_location_type":"USER_HOME_ADDRESS","task_name":"Pickup From Shelf",'
        '"user_primary_id":"01AAA_CD-CDMAIN",'
        '"comment":"Rush Patron: Doe, Jane, JD001, jd@example.edu, 1 Main St || request type: '
        'PATRON_PHYSICAL || Internal identifier: 1234567890000121"}'
    )


ORIGINAL_TITLE = {
    "request_id": "1234567890000121",
    "user_primary_id": "jd-001",
    "request_sub_type": {"value": "PATRON_PHYSICAL", "desc": "Patron physical item request"},
    "description": "v.2 (original)",
    "manual_description": "c.2",
    "volume": "2",
    "issue": None,
    "title": "not copied",
}


def test_R5_title_hold_body_golden_with_an_scf_holding_for_the_manual_description() -> None:
    body = title_hold_body(rush_request(patron=None), AB, ORIGINAL_TITLE, "01AAA_CD-CDMAIN",
                           scf_holding_id="2222220000561")  # fmt: skip
    assert _compact(body) == (
        '{"request_type":"HOLD",'
        '"request_sub_type":{"value":"PATRON_PHYSICAL","desc":"Patron physical item request"},'
        '"pickup_location_type":"USER_HOME_ADDRESS","task_name":"Pickup From Shelf",'
        '"user_primary_id":"01AAA_CD-CDMAIN","description":"v.2",'
        '"manual_description":"c.2","holding_id":"2222220000561","volume":"2","issue":null,'
        '"comment":"The inventory for this request should come from 01AAA_AB.  || request type: '
        "Patron physical item request || Internal identifier: 1234567890000121 "
        '{Source Request 01AAA_AB-1234567890000121-jd-001}"}'
    )


def test_R5_title_hold_without_an_scf_holding_puts_the_manual_description_in_the_comment() -> None:
    body = title_hold_body(rush_request(patron=None, description=None), AB, ORIGINAL_TITLE, "u")
    assert body["description"] == "v.2 (original)"
    assert "manual_description" not in body
    assert "holding_id" not in body
    assert body["comment"].endswith(
        "Internal identifier: 1234567890000121 c.2 "
        "{Source Request 01AAA_AB-1234567890000121-jd-001}"
    )


def test_R5_title_hold_copies_optional_fields_only_when_the_original_has_them() -> None:
    original = {"user_primary_id": "jd", "part": "3", "date_of_publication": None}
    body = title_hold_body(rush_request(description=""), AB, original, "u")
    assert list(body) == [
        "request_type", "request_sub_type", "pickup_location_type", "task_name",
        "user_primary_id", "part", "date_of_publication", "comment",
    ]  # fmt: skip
    assert body["date_of_publication"] is None


ORIGINAL_DIGITIZATION = {
    "request_id": "1234567890000121",
    "user_primary_id": "jd-001",
    "copyrights_declaration_signed_by_patron": True,
    "description": "v.2",
    "partial_digitization": True,
    "required_pages_range": [{"from_page": "10", "to_page": "20"}],
    "full_chapter": False,
    "chapter_or_article_title": "Chapter 3",
    "chapter_or_article_author": "Doe",
    "manual_description": "",
    "last_interest_date": "2026-05-01Z",
    "volume": "2",
    "issue": "",
    "comment": None,
}


def test_R5_item_level_patron_digitization_body_golden() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION", request_note=None)
    body = digitization_body(
        request,
        Route.PATRON_ITEM_DIGITIZATION,
        AB,
        ORIGINAL_DIGITIZATION,
        "jd-scf",
        "DIGI_DEPT_INST",
    )
    assert _compact(body) == (
        '{"request_type":"DIGITIZATION",'
        '"request_sub_type":{"value":"PHYSICAL_TO_DIGITIZATION",'
        '"desc":"Patron digitization request"},'
        '"target_destination":{"value":"DIGI_DEPT_INST",'
        '"desc":"Digitization Department For Institution"},'
        '"user_primary_id":"jd-scf","copyrights_declaration_signed_by_patron":true,'
        '"description":"v.2","partial_digitization":true,'
        '"required_pages_range":[{"from_page":"10","to_page":"20"}],"full_chapter":false,'
        '"chapter_or_article_title":"Chapter 3","chapter_or_article_author":"Doe",'
        '"last_interest_date":"2026-05-01Z","volume":"2","issue":"",'
        '"comment":"The inventory for this request should come from 01AAA_AB. '
        "Patron: Doe, Jane, JD001, jd@example.edu, 1 Main St || request type: Patron digitization "
        'request || Internal identifier: 1234567890000121 || volume: 2"}'
    )


def test_R5_staff_title_digitization_keeps_the_patron_sub_type_like_the_java_app() -> None:
    request = rush_request(
        request_type="STAFF_PHYSICAL_DIGITIZATION", patron=None, barcode="v.2 c.1"
    )
    original = {"manual_description": "c.2", "issue": ""}
    body = digitization_body(
        request, Route.STAFF_TITLE_DIGITIZATION, AB, original, "01AAA_AB-ABRS", None
    )
    assert body == {
        "request_type": "DIGITIZATION",
        "request_sub_type": {
            "value": "PHYSICAL_TO_DIGITIZATION",
            "desc": "Patron digitization request",
        },
        "user_primary_id": "01AAA_AB-ABRS",
        "manual_description": "c.2",
        "issue": "",
        "comment": "The inventory for this request should come from 01AAA_AB.  || request type: "
        "Staff digitization request || Internal identifier: 1234567890000121 || issue:  c.2",
    }


def test_R5_a_digitization_without_partial_digitization_or_description_does_not_crash() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION")
    body = digitization_body(request, Route.PATRON_TITLE_DIGITIZATION, AB, {}, "jd-scf", "D")
    assert "partial_digitization" not in body
    assert "description" not in body


def test_R5_bodies_do_not_share_state_with_the_original_request() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION")
    body = digitization_body(
        request, Route.PATRON_ITEM_DIGITIZATION, AB, ORIGINAL_DIGITIZATION, "u", "D"
    )
    body["required_pages_range"][0]["from_page"] = "1"
    body["request_sub_type"]["desc"] = "changed"
    assert ORIGINAL_DIGITIZATION["required_pages_range"] == [{"from_page": "10", "to_page": "20"}]
    again = digitization_body(
        request, Route.PATRON_ITEM_DIGITIZATION, AB, ORIGINAL_DIGITIZATION, "u", "D"
    )
    assert again["request_sub_type"]["desc"] == "Patron digitization request"


def test_R5_asking_for_a_digitization_body_for_a_hold_is_a_caller_error() -> None:
    with pytest.raises(WrongRoute) as raised:
        digitization_body(rush_request(), Route.ITEM_HOLD, AB, {}, "u", "D")
    assert raised.value.request_id == "1234567890000121"
    assert raised.value.barcode == "31234000123456"
