"""Rule R3: the pickup library, and so the SCF system user, of a forwarded request."""

from __future__ import annotations

from domain.scf.requests.pickup import PickupResolution, PickupSource, resolve_pickup_library

from .samples import AB, CD, CONSORTIUM, rush_request

NAMES = {
    AB: {"AB Main Library": "ABMAIN", "Shared Name": "ABSHARED"},
    CD: {"CD Main Library": "CDMAIN", "Shared Name": "CDSHARED"},
}


def test_R3_the_pickup_name_is_resolved_in_the_pickup_institution_when_it_is_given() -> None:
    resolution = resolve_pickup_library(rush_request(), AB, CONSORTIUM, NAMES)
    assert resolution == PickupResolution(CD, "CDMAIN", PickupSource.NAME_IN_PICKUP_INSTITUTION, CD)
    assert resolution.system_user == "01AAA_CD-CDMAIN"


def test_R3_the_pickup_institution_code_is_matched_case_insensitively() -> None:
    request = rush_request(institution_code="01aaa_cd ")
    assert resolve_pickup_library(request, AB, CONSORTIUM, NAMES).library == "CDMAIN"
    lower_keys = {CD.lower(): NAMES[CD]}
    assert resolve_pickup_library(rush_request(), AB, CONSORTIUM, lower_keys).library == "CDMAIN"


def test_R3_without_a_pickup_institution_the_library_code_is_used() -> None:
    request = rush_request(institution_code=None, library_code="ABCODE")
    resolution = resolve_pickup_library(request, AB, CONSORTIUM, NAMES)
    assert resolution == PickupResolution(AB, "ABCODE", PickupSource.LIBRARY_CODE, AB)


def test_R3_else_the_name_is_resolved_among_the_file_institution_libraries() -> None:
    request = rush_request(institution_code=None, pickup_library_name="AB Main Library")
    resolution = resolve_pickup_library(request, AB, CONSORTIUM, NAMES)
    assert resolution == PickupResolution(AB, "ABMAIN", PickupSource.NAME_IN_FILE_INSTITUTION, AB)


def test_R3_names_are_exact_and_an_unknown_name_falls_back_to_the_default_library() -> None:
    request = rush_request(institution_code=None, pickup_library_name="ab main library")
    resolution = resolve_pickup_library(request, AB, CONSORTIUM, NAMES)
    assert resolution == PickupResolution(AB, "ABRS", PickupSource.DEFAULT_LIBRARY, AB)


def test_R3_an_unknown_name_in_another_pickup_institution_uses_that_institution_default() -> None:
    request = rush_request(pickup_library_name="AB Main Library")
    resolution = resolve_pickup_library(request, AB, CONSORTIUM, NAMES)
    assert resolution == PickupResolution(CD, "CDRS", PickupSource.DEFAULT_LIBRARY, CD)


def test_R3_digitizations_do_not_look_up_the_name_in_the_file_institution() -> None:
    request = rush_request(
        institution_code=None,
        pickup_library_name="AB Main Library",
        request_type="STAFF_PHYSICAL_DIGITIZATION",
    )
    resolution = resolve_pickup_library(request, AB, CONSORTIUM, NAMES)
    assert resolution == PickupResolution(AB, "ABRS", PickupSource.DEFAULT_LIBRARY, AB)


def test_R3_digitizations_are_placed_for_the_file_institution() -> None:
    request = rush_request(request_type="PHYSICAL_TO_DIGITIZATION")
    resolution = resolve_pickup_library(request, AB, CONSORTIUM, NAMES)
    assert resolution.institution == AB
    assert resolution.pickup_institution == CD
    assert resolution.library == "CDMAIN"


def test_R3_no_name_no_code_and_no_default_is_unresolved_with_no_system_user() -> None:
    request = rush_request(institution_code="01AAA_ZZ", pickup_library_name=None)
    resolution = resolve_pickup_library(request, AB, CONSORTIUM, {})
    assert resolution == PickupResolution("01AAA_ZZ", None, PickupSource.UNRESOLVED, "01AAA_ZZ")
    assert resolution.system_user is None


def test_R3_a_file_institution_missing_from_the_name_cache_resolves_nothing_by_name() -> None:
    request = rush_request(
        institution_code=None, pickup_library_name="AB Main Library", library_code=" "
    )
    resolution = resolve_pickup_library(request, AB, CONSORTIUM, {CD: NAMES[CD]})
    assert resolution.how is PickupSource.DEFAULT_LIBRARY
