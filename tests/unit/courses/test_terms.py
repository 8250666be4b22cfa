"""Rule L3: the Alma term from TERM and the first segment of the course code."""

from __future__ import annotations

import pytest

from domain.courses.terms import AlmaTerm, alma_term
from domain.shared.asu_course_tables import ASU_TABLES
from domain.shared.course_tables import CourseTables, TermRule


@pytest.mark.parametrize(
    ("segment", "term", "expected"),
    [
        ("2019Spring", "1", "SPRING"),
        ("2019SpringC", "1", "SPRING"),
        ("2019SpringA", "1", "TERM4"),
        ("2019SpringB", "1", "TERM5"),
        ("2019SpringDYN", "1", "TERM6"),
        ("2019Summer", "4", "SUMMER"),
        ("2019SummerC", "4", "SUMMER"),
        ("2019SummerA", "4", "TERM7"),
        ("2019SummerB", "4", "TERM8"),
        ("2019SummerDYN", "4", "SEMESTER1"),
        ("2019Fall", "7", "AUTUMN"),
        ("2019FallC", "7", "AUTUMN"),
        ("2019FallA", "7", "TERM1"),
        ("2019FallB", "7", "TERM2"),
        ("2019FallDYN", "7", "TERM3"),
    ],
)
def test_every_asu_ending(segment: str, term: str, expected: str) -> None:
    # rule L3: TERM picks the table, the first segment's ending the term
    assert alma_term(f"{segment}-X-ENG101-12345", term, ASU_TABLES) == AlmaTerm(expected)


def test_only_the_first_segment_counts() -> None:
    # rule L3
    assert alma_term("2019Fall-XA-ENG101-1234l", "1", ASU_TABLES).code == ""
    assert alma_term("2019Fall", "7", ASU_TABLES).code == "AUTUMN"


def test_an_unknown_term_value_takes_the_fallback_and_is_recorded() -> None:
    # rule L3: unknown TERM -> term fallback, recorded
    result = alma_term("2019Fall-X-ENG101-12345", "9", ASU_TABLES)
    assert result == AlmaTerm(
        "",
        "unknown TERM 9 for 2019Fall-X-ENG101-12345: Alma term left empty (term fallback)",
    )


def test_an_ending_the_term_does_not_know_takes_the_fallback_and_is_recorded() -> None:
    # rule L3: a fall course coded as spring
    result = alma_term("2019Spring-X-ENG101-12345", "7", ASU_TABLES)
    assert result.code == ""
    assert result.fallback is not None
    assert "2019Spring" in result.fallback
    assert result.fallback.endswith("(term fallback)")


def test_the_longest_ending_wins_and_a_named_fallback_is_given() -> None:
    # rule L3
    tables = CourseTables(
        campus_rules=(),
        campus_fallback="HAYDEN",
        college_fallback="COURSE_UNIT",
        terms=(TermRule("7", {"A": "SHORT", "lA": "LONG"}),),
        term_fallback="UNKNOWN",
    )
    assert alma_term("2019FallA-X", "7", tables) == AlmaTerm("LONG")
    assert alma_term("2019XA-X", "7", tables) == AlmaTerm("SHORT")
    fallback = alma_term("2019Fall-X", "7", tables)
    assert fallback.code == "UNKNOWN"
    assert fallback.fallback is not None
    assert "Alma term UNKNOWN" in fallback.fallback
