"""Rules N1–N5: how SCF items, users and bibs are named after their member originals."""

from __future__ import annotations

import pytest

from domain.scf.naming import (
    member_barcode_of,
    nz_mms_id,
    other_system_id,
    provenance_of,
    provenance_value,
    scf_barcode,
    system_user_id,
)
from domain.shared.errors import InvalidIdentifier


def test_N1_the_scf_barcode_is_the_member_barcode_with_an_X_suffix() -> None:
    assert scf_barcode("31234000123456") == "31234000123456X"


def test_N1_a_blank_member_barcode_has_no_scf_barcode_and_the_error_names_it() -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        scf_barcode(" ")
    assert raised.value.barcode == " "
    assert "barcode" in str(raised.value)


def test_N1_exactly_one_trailing_X_is_stripped_to_find_the_member_barcode() -> None:
    assert member_barcode_of("31234000123456X") == "31234000123456"
    assert member_barcode_of("ABCXX") == "ABCX"


def test_N1_a_barcode_without_the_X_suffix_is_not_ours() -> None:
    assert member_barcode_of("31234000123456") is None
    assert member_barcode_of("31234000123456x") is None
    assert member_barcode_of("X123") is None


def test_N1_a_lone_X_is_not_the_mirror_of_any_member_barcode() -> None:
    assert member_barcode_of("X") is None


def test_N2_the_provenance_of_a_mirror_is_the_owning_institution_code() -> None:
    assert provenance_value("01AAA_AB") == {"value": "01AAA_AB"}
    item = {"item_data": {"provenance": {"value": " 01AAA_AB ", "desc": "AB"}}}
    assert provenance_of(item) == "01AAA_AB"


def test_N2_an_scf_item_without_a_provenance_has_no_known_owner() -> None:
    assert provenance_of({"item_data": {"provenance": {"value": "", "desc": None}}}) is None
    assert provenance_of({"item_data": {}}) is None
    assert provenance_of({}) is None


def test_N3_the_system_user_of_a_member_library_is_institution_dash_library() -> None:
    assert system_user_id("01AAA_AB", "ABRS") == "01AAA_AB-ABRS"


def test_N3_a_system_user_without_a_library_is_a_caller_error_not_INST_dash_null() -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        system_user_id("01AAA_AB", "")
    assert raised.value.institution == "01AAA_AB"
    with pytest.raises(InvalidIdentifier):
        system_user_id("", "ABRS")


def test_N4_a_local_scf_bib_is_found_by_institution_in_parentheses_then_member_mms_id() -> None:
    assert other_system_id("01AAA_AB", "991234560000121") == "(01AAA_AB)991234560000121"


def test_N5_the_nz_id_is_the_first_EXLNZ_value_without_its_prefix() -> None:
    values = ["(OCoLC)1084333011", "(EXLNZ-01WRLC_NETWORK)991234", "(EXLNZ-OTHER)995678"]
    assert nz_mms_id(values) == "991234"


def test_N5_without_an_EXLNZ_value_there_is_no_nz_id() -> None:
    assert nz_mms_id(["(OCoLC)1084333011", "11711076"]) is None
    assert nz_mms_id([]) is None


def test_N5_values_that_are_not_text_are_passed_over() -> None:
    assert nz_mms_id([None, 42, "(EXLNZ-01WRLC_NETWORK)991234"]) == "991234"


def test_N5_the_prefix_ends_at_the_first_closing_parenthesis() -> None:
    # rule N5 strips ^\(EXLNZ[^)]*\); Java's greedy (.*) would have eaten up to the last ')'
    assert nz_mms_id(["(EXLNZ-01WRLC_NETWORK)99(1)"]) == "99(1)"


def test_N5_an_EXLNZ_value_with_nothing_after_the_prefix_gives_no_nz_id() -> None:
    assert nz_mms_id(["(EXLNZ-01WRLC_NETWORK) ", "(EXLNZ-X)995678"]) is None
