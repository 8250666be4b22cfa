"""Rule L3: the processing department from ASU's campus, college and prefix tables."""

from __future__ import annotations

import pytest

from domain.courses.departments import Department, processing_department
from domain.shared.asu_course_tables import ASU_TABLES
from domain.shared.course_tables import CampusRule, CourseTables, PrefixField, PrefixOverride


def department(campus: str, college: str = "LA", course_id: str = "ENG101", code: str = "") -> str:
    return processing_department(campus, college, course_id, code, ASU_TABLES).name


HAYDEN_CAMPUSES = (
    "CALHC",
    "CHANDGI",
    "EAC",
    "HAINAN",
    "MESATEM",
    "OTHERAZ",
    "OTHERUS",
    "OUTSIDE",
    "SCOTTSD",
    "TUCSON",
)
TEMPE_COLLEGES = {
    **dict.fromkeys(
        ("AS", "BA", "CS", "FI", "GC", "HO", "LA", "LS", "PP", "PR", "SU", "TB", "TE", "UC", "GF"),
        "HAYDEN",
    ),
    "ES": "NOBLE",
    "NH": "NOBLE",
    "NU": "NOBLE",
    "HI": "DESIGN",
    "LW": "LAW",
}


@pytest.mark.parametrize("campus", HAYDEN_CAMPUSES)
def test_these_campuses_go_to_hayden_whatever_the_college(campus: str) -> None:
    # rule L3
    assert processing_department(campus, "LW", "ENG101", "", ASU_TABLES) == Department("HAYDEN")


@pytest.mark.parametrize(
    ("campus", "expected"),
    [
        ("ASUONLI", "ASU_ONLINE"),
        ("ICOURSE", "ASU_ONLINE"),
        ("GLENDALE", "FLETCHER"),
        ("WEST", "FLETCHER"),
        ("POLY", "POLYTECHNIC"),
        ("TBIRD", "THUNDERBIRD"),
    ],
)
def test_each_other_campus_has_its_department(campus: str, expected: str) -> None:
    # rule L3
    assert department(campus, "LW") == expected


@pytest.mark.parametrize(("college", "expected"), sorted(TEMPE_COLLEGES.items()))
def test_on_tempe_the_college_decides(college: str, expected: str) -> None:
    # rule L3
    assert processing_department("TEMPE", college, "ENG101", "", ASU_TABLES) == Department(expected)


@pytest.mark.parametrize("campus", ["DTPHX", "PHOENIX"])
def test_downtown_phoenix_is_law_for_lw_and_downtown_otherwise(campus: str) -> None:
    # rule L3
    assert department(campus, "LW") == "LAW"
    assert department(campus, "LA") == "DOWNTOWN"
    assert department(campus, "") == "DOWNTOWN"


def test_an_unknown_campus_gets_hayden_and_is_recorded() -> None:
    # rule L3: unknown campus -> campus fallback, recorded
    result = processing_department("MARS", "LA", "ENG101", "", ASU_TABLES)
    assert result == Department(
        "HAYDEN", "unknown campus MARS: processing department HAYDEN (campus fallback)"
    )


def test_an_empty_campus_gets_hayden_and_is_recorded() -> None:
    # rule L3
    result = processing_department("", "LA", "ENG101", "", ASU_TABLES)
    assert result.name == "HAYDEN"
    assert result.fallback == "empty campus: processing department HAYDEN (campus fallback)"


def test_an_unknown_tempe_college_gets_course_unit_and_is_recorded() -> None:
    # rule L3: unknown college -> college fallback, recorded
    result = processing_department("TEMPE", "ZZ", "ENG101", "", ASU_TABLES)
    assert result == Department(
        "COURSE_UNIT",
        "unknown college ZZ on campus TEMPE: processing department COURSE_UNIT (college fallback)",
    )


def test_an_empty_tempe_college_gets_course_unit_and_is_recorded() -> None:
    # rule L3
    result = processing_department("TEMPE", "", "ENG101", "", ASU_TABLES)
    assert result.name == "COURSE_UNIT"
    assert result.fallback is not None
    assert result.fallback.startswith("empty college on campus TEMPE")


def test_comparisons_are_exact() -> None:
    # rule L3: values are compared as given, case included
    assert department("tempe", "LA") == "HAYDEN"
    assert processing_department("tempe", "LA", "", "", ASU_TABLES).fallback is not None
    assert department("TEMPE", "la") == "COURSE_UNIT"


@pytest.mark.parametrize("prefix", ["MDC", "MHL", "MSC", "MSI", "MTC", "MUE", "MUP", "MUS"])
def test_music_course_ids_go_to_music(prefix: str) -> None:
    # rule L3: COURSE_ID prefix override
    assert department("POLY", course_id=f"{prefix}200") == "MUSIC"


def test_sdo_course_ids_go_to_law() -> None:
    # rule L3
    assert department("TEMPE", "LA", course_id="SDO598") == "LAW"


def test_dev_course_codes_go_to_course_unit() -> None:
    # rule L3: the DEV override looks at the course code, not the COURSE_ID
    assert department("TEMPE", "LA", course_id="ENG101", code="DEV-X-1") == "COURSE_UNIT"
    assert department("TEMPE", "LA", course_id="DEV101", code="2024Fall-X-1") == "HAYDEN"


def test_the_last_matching_override_wins() -> None:
    # rule L3: overrides apply in order, the last match wins
    assert department("TEMPE", "LA", course_id="MUS200", code="DEV-X-1") == "COURSE_UNIT"
    tables = CourseTables(
        campus_rules=(),
        campus_fallback="HAYDEN",
        college_fallback="COURSE_UNIT",
        overrides=(
            PrefixOverride(PrefixField.COURSE_ID, ("MUS",), "MUSIC"),
            PrefixOverride(PrefixField.COURSE_ID, ("MUS2",), "LAW"),
        ),
    )
    assert processing_department("X", "", "MUS200", "", tables).name == "LAW"
    assert processing_department("X", "", "MUS100", "", tables).name == "MUSIC"


def test_an_override_replacing_a_fallback_leaves_nothing_to_record() -> None:
    # rule L3: the override decides, not the fallback
    assert processing_department("MARS", "", "MUS200", "", ASU_TABLES) == Department("MUSIC")
    assert processing_department("TEMPE", "ZZ", "SDO598", "", ASU_TABLES) == Department("LAW")


def test_the_first_rule_naming_the_campus_applies() -> None:
    # rule L3
    tables = CourseTables(
        campus_rules=(
            CampusRule(frozenset({"A"}), department="FIRST"),
            CampusRule(frozenset({"A"}), department="SECOND"),
        ),
        campus_fallback="HAYDEN",
        college_fallback="COURSE_UNIT",
    )
    assert processing_department("A", "", "", "", tables) == Department("FIRST")
