"""Rule L5: a DELETE only for an exact course without reading lists."""

from __future__ import annotations

from domain.courses.delete_guard import DeleteVerdict, KnownCourse, delete_verdict, exact_course

HIST1010 = KnownCourse("1", "HIST1010", "01", "2024")
HIST101_02 = KnownCourse("2", "HIST101", "02", "2024")
HIST101_01 = KnownCourse("3", "HIST101", "01", "2024")


def test_a_partial_code_match_never_deletes() -> None:
    # rule L5: Alma's code~ finds HIST1010 for HIST101
    found = exact_course("HIST101", "01", [HIST1010, HIST101_02])
    assert found is None
    assert delete_verdict(found, has_reading_lists=False) is DeleteVerdict.NOT_IN_ALMA


def test_the_exact_course_is_found_among_partial_matches() -> None:
    # rule L5
    assert exact_course("HIST101", "01", [HIST1010, HIST101_02, HIST101_01]) == HIST101_01


def test_the_first_of_several_exact_matches_is_taken() -> None:
    # rule L5
    twin = KnownCourse("4", "HIST101", "01", "2023")
    assert exact_course("HIST101", "01", [twin, HIST101_01]) == twin


def test_a_course_with_reading_lists_is_never_deleted() -> None:
    # rule L5
    assert delete_verdict(HIST101_01, has_reading_lists=True) is DeleteVerdict.HAS_READING_LISTS


def test_an_exact_course_without_lists_is_deleted() -> None:
    # rule L5
    assert delete_verdict(HIST101_01, has_reading_lists=False) is DeleteVerdict.SEND


def test_each_verdict_has_its_sentence() -> None:
    # rule L5: the reason recorded
    assert DeleteVerdict.NOT_IN_ALMA.reason("HIST101", "01") == (
        "DELETE dropped: no course HIST101 01 in Alma (only partial matches are not enough)"
    )
    assert "reading lists" in DeleteVerdict.HAS_READING_LISTS.reason("HIST101", "01")
    assert DeleteVerdict.SEND.reason("HIST101", "01").startswith("DELETE sent")
