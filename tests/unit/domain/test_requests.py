"""Rules R2 and R4: a member's remote-storage request and the SCF handler it goes to."""

from __future__ import annotations

import pytest

from domain.scf.requests.routing import (
    DIGITIZATION_TYPES,
    PatronInfo,
    RemoteStorageRequest,
    Route,
    is_title_level_barcode,
    route_request,
)

from .samples import rush_request

P2D = "PHYSICAL_TO_DIGITIZATION"
STAFF = "STAFF_PHYSICAL_DIGITIZATION"
RS_P2D = "RESOURCE_SHARING_P2D_SHIPMENT"


def test_R2_a_request_defaults_to_empty_type_and_id_like_the_export_parser() -> None:
    request = RemoteStorageRequest()
    assert (request.request_id, request.request_type, request.barcode) == ("", "", None)
    assert request.patron is None
    assert request.patron_user_id is None


def test_R2_a_request_holds_every_field_of_the_export() -> None:
    request = rush_request()
    assert request.institution_code == "01AAA_CD"
    assert request.pickup_library_name == "CD Main Library"
    assert request.library_code is None
    assert request.patron == PatronInfo("Doe, Jane", "JD001", "jd@example.edu", "1 Main St")
    assert request.request_note == "Rush"
    assert request.description == "v.2"


def test_R2_the_three_digitization_types() -> None:
    assert frozenset({P2D, STAFF, RS_P2D}) == DIGITIZATION_TYPES
    assert rush_request(request_type=STAFF).is_digitization
    assert not rush_request().is_digitization


def test_R2_the_patron_id_identifies_the_user_only_without_mms_id_or_for_patron_digitization() -> (
    None
):
    assert rush_request().patron_user_id is None
    assert rush_request(mms_id=None).patron_user_id == "JD001"
    assert rush_request(request_type=P2D).patron_user_id == "JD001"


def test_R2_a_blank_patron_identifier_is_no_user() -> None:
    assert rush_request(mms_id=None, patron=PatronInfo(identifier=" ")).patron_user_id is None
    assert rush_request(mms_id=None, patron=None).patron_user_id is None


def test_R4_a_barcode_with_a_space_or_colon_is_title_level_text() -> None:
    assert is_title_level_barcode("v.2 c.1")
    assert is_title_level_barcode("Title:Sub")
    assert not is_title_level_barcode("31234000123456")


@pytest.mark.parametrize(
    ("barcode", "request_type", "route"),
    [
        ("31234000123456", "PATRON_PHYSICAL", Route.ITEM_HOLD),
        ("31234000123456", "", Route.ITEM_HOLD),
        ("31234000123456", P2D, Route.PATRON_ITEM_DIGITIZATION),
        ("31234000123456", STAFF, Route.STAFF_ITEM_DIGITIZATION),
        ("31234000123456", RS_P2D, Route.STAFF_ITEM_DIGITIZATION),
        ("v.2 c.1", "PATRON_PHYSICAL", Route.TITLE_HOLD),
        ("v.2 c.1", P2D, Route.PATRON_TITLE_DIGITIZATION),
        ("vol:2", STAFF, Route.STAFF_TITLE_DIGITIZATION),
        ("vol:2", RS_P2D, Route.STAFF_TITLE_DIGITIZATION),
        ("", P2D, Route.TITLE_HOLD),
    ],
)
def test_R4_routing_table(barcode: str, request_type: str, route: Route) -> None:
    assert route_request(rush_request(barcode=barcode, request_type=request_type)) is route


def test_R4_a_request_without_any_barcode_is_a_title_hold_not_a_crash() -> None:
    assert route_request(rush_request(barcode=None)) is Route.TITLE_HOLD


def test_R4_a_title_level_patron_digitization_without_a_patron_id_is_a_title_hold() -> None:
    request = rush_request(barcode="v.2 c.1", request_type=P2D, patron=None)
    assert route_request(request) is Route.TITLE_HOLD


def test_R4_routes_know_their_level_and_kind() -> None:
    assert Route.TITLE_HOLD.is_title_level
    assert not Route.TITLE_HOLD.is_digitization
    assert not Route.ITEM_HOLD.is_title_level
    assert Route.STAFF_TITLE_DIGITIZATION.is_digitization
    assert not Route.STAFF_TITLE_DIGITIZATION.is_patron_digitization
    assert Route.PATRON_ITEM_DIGITIZATION.is_patron_digitization
