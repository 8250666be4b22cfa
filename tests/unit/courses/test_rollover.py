"""Rule L8: the rollover report's year, match and ROLLOVER row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from domain.courses.delete_guard import KnownCourse
from domain.courses.loader_row import LoaderRow, Operation
from domain.courses.merge import loader_row, merge_rows
from domain.courses.rollover import (
    CopyYear,
    copy_year,
    rollover_matches,
    rollover_row,
    wants_rollover,
)
from domain.courses.transform import CourseRow, MergeOn

TODAY = date(2024, 9, 2)
EXAMPLE = "leganto_course_loading/synthetic_course_loader_34col_example.txt"


def course_row(copy_sln: str) -> CourseRow:
    return CourseRow(
        line=2,
        code="2024Fall-X-BIO100-44444",
        section="44444",
        title="Biology I",
        academic_department="LS",
        processing_department="HAYDEN",
        term="AUTUMN",
        start_date="19-08-2024",
        end_date="06-12-2024",
        year="2024",
        searchable_id="BIO100",
        instructor="dlee5",
        operation=Operation.CREATE_OR_UPDATE,
        copy_sln=copy_sln,
        copy_year="2023",
    )


def test_last_year_is_reached() -> None:
    # rule L8: upstream compared the text to an int and never got here
    assert copy_year("2023", TODAY) is CopyYear.LAST_YEAR


def test_this_year() -> None:
    # rule L8
    assert copy_year("2024", TODAY) is CopyYear.THIS_YEAR


@pytest.mark.parametrize("value", ["2019", "2025", "twenty", "2023.0", "-2023"])
def test_any_other_year_or_text_is_other(value: str) -> None:
    # rule L8: searched through the courses API, not the caches
    assert copy_year(value, TODAY) is CopyYear.OTHER


def test_no_year_is_none() -> None:
    # rule L8
    assert copy_year("", TODAY) is CopyYear.NONE


def test_a_row_with_a_copy_sln_wants_a_rollover() -> None:
    # rule L8
    assert wants_rollover(course_row("40404"))


@pytest.mark.parametrize("copy_sln", ["", "0"])
def test_an_empty_or_zero_copy_sln_wants_none(copy_sln: str) -> None:
    # rule L8: upstream's copy_course_sln != 0
    assert not wants_rollover(course_row(copy_sln))


def test_matches_on_section_and_on_a_searchable_id_with_dashes() -> None:
    # rule L8: section == SLN or SLN among the searchable ids, '-' removed
    by_section = KnownCourse("1", "2023Fall-X-BIO100-40404", "40404", "2023")
    by_search_id = KnownCourse("2", "2023Fall-X-BIO100-1", "1", "2023", ("BIO100", "40-404"))
    other = KnownCourse("3", "2023Fall-X-BIO100-2", "40405", "2023", ("404040",))
    courses = [by_section, other, by_search_id]
    assert rollover_matches("40404", courses) == (by_section, by_search_id)
    assert rollover_matches("99999", courses) == ()


def test_the_rollover_row_names_the_old_course_and_copy_sln() -> None:
    # rule L8
    row = LoaderRow("2024Fall-X-BIO100-44444", "Biology I", "44444", "LS", "HAYDEN")
    match = KnownCourse("1", "2023Fall-X-BIO100-40404", "40404", "2023")
    result = rollover_row(row, match, "40404")
    assert result.operation is Operation.ROLLOVER
    assert result.old_course_code == "2023Fall-X-BIO100-40404"
    assert result.old_section_id == "40404"
    assert result.course_code == row.course_code


def test_the_rollover_row_is_the_fourth_example_row(shared_reference: Path) -> None:
    # rule L8: the loader row of a CEM row with a copy SLN, made a ROLLOVER
    row = course_row("40404")
    assert wants_rollover(row)
    (course,) = merge_rows([row], MergeOn.CODE).courses
    match = KnownCourse("1", "2023Fall-X-BIO100-40404", "40404", "2023")
    lines = (shared_reference / EXAMPLE).read_bytes().decode("utf-8").split("\r\n")
    expected = LoaderRow.from_cells(lines[4].split("\t"))
    assert rollover_row(loader_row(course, MergeOn.CODE), match, row.copy_sln) == expected
