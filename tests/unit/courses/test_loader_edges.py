"""Edge cases of rules L4 and L6: a non-numeric SLN when merging on code, a loader row with
more terms or instructors than Alma's columns hold, and a row lacking its key columns."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.courses.loader_checks import loader_row_problem
from domain.courses.loader_row import LoaderRow, Operation
from domain.courses.merge import merge_rows
from domain.courses.transform import CourseRow, MergeOn


def course_row(line: int, section: str, instructor: str) -> CourseRow:
    return CourseRow(
        line=line,
        code="2024Fall-X-ENG101",
        section=section,
        title="Intro to Writing",
        academic_department="LA",
        processing_department="HAYDEN",
        term="AUTUMN",
        start_date="19-08-2024",
        end_date="06-12-2024",
        year="2024",
        searchable_id="ENG101",
        instructor=instructor,
        operation=Operation.CREATE_OR_UPDATE,
        copy_sln="",
        copy_year="",
    )


COMPLETE = LoaderRow("2024Fall-X-ENG101-12345", "Intro to Writing", "12345", "LA", "HAYDEN")


# --- L4 ---


def test_merging_on_code_compares_non_numeric_slns_as_text() -> None:
    # rule L4, merge_on = "code": ASU keeps the smaller SLN as the section; upstream's int(SLN)
    # would crash on "B200", so such SLNs compare as text ("A100" < "B200") and both become ids
    merged = merge_rows(
        [course_row(2, "B200", "jdoe1"), course_row(3, "A100", "asmith2")], MergeOn.CODE
    )
    (course,) = merged.courses
    assert course.section == "A100"
    assert course.key == "2024Fall-X-ENG101 A100"
    assert course.searchable_ids == ("ENG101", "A100", "B200")
    assert course.instructors == ("jdoe1", "asmith2")


def test_merging_on_code_keeps_a_smaller_non_numeric_section() -> None:
    # rule L4, merge_on = "code": the kept section is already the smaller as text, so it stays
    # and only the new SLN becomes a searchable id
    merged = merge_rows(
        [course_row(2, "A100", "jdoe1"), course_row(3, "B200", "asmith2")], MergeOn.CODE
    )
    (course,) = merged.courses
    assert course.section == "A100"
    assert course.searchable_ids == ("ENG101", "B200")


# --- L6: the loader row's columns ---


def test_a_loader_row_refuses_a_fifth_term() -> None:
    # rule L6: the 34 columns have four term slots, TERM1–TERM4
    with pytest.raises(ValueError, match="at most 4 terms and 10 instructors"):
        LoaderRow("ENG101", "Intro", "12345", "LA", "HAYDEN", terms=("A", "B", "C", "D", "E"))


def test_a_loader_row_refuses_an_eleventh_instructor() -> None:
    # rule L6: the 34 columns have ten instructor slots, INSTR1–INSTR10 (the rest go to
    # ALL_INSTRUCTORS, rule L4)
    eleven = tuple(f"i{n}" for n in range(11))
    with pytest.raises(ValueError, match="ENG101 12345: at most"):
        LoaderRow("ENG101", "Intro", "12345", "LA", "HAYDEN", instructors=eleven)
    full = LoaderRow("ENG101", "Intro", "12345", "LA", "HAYDEN", instructors=eleven[:10])
    assert full.cells()[17:27] == eleven[:10]


# --- L6: rows Alma's course loader would refuse ---


def test_a_row_lacking_code_and_processing_department_names_both() -> None:
    # rule L6: a row without code, section or processing department is recorded and left out;
    # the reason names each missing column (a blank value counts as missing)
    problem = loader_row_problem(replace(COMPLETE, course_code="", processing_department="  "))
    assert problem == "no COURSE_CODE and no PROC_DEPT: Alma's course loader needs it"


def test_a_row_lacking_its_section_is_refused() -> None:
    # rule L6: Alma keys a course on code + section
    assert loader_row_problem(replace(COMPLETE, section_id=" ")) == (
        "no SECTION_ID: Alma's course loader needs it"
    )


def test_a_non_integer_where_alma_wants_one_is_refused() -> None:
    # rule L6: NUM_OF_PARTICIPANTS, WEEKLY_HOURS and YEAR are whole numbers when given
    assert loader_row_problem(replace(COMPLETE, weekly_hours="2.5")) == (
        "WEEKLY_HOURS '2.5' is not a whole number, as Alma's course loader needs"
    )


def test_a_complete_row_passes_the_check() -> None:
    # rule L6: empty optional integers are fine; given ones are whole numbers
    assert (
        loader_row_problem(replace(COMPLETE, participants="", weekly_hours="3", year="2024"))
        is None
    )
