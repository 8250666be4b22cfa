"""Rule L4: course rows merged into courses, and the loader row of each."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from domain.courses.loader_row import LoaderRow, Operation
from domain.courses.merge import MergedCourse, loader_row, merge_rows
from domain.courses.transform import CourseRow, MergeOn

EXAMPLE = "leganto_course_loading/synthetic_course_loader_34col_example.txt"
APPROVED = Operation.CREATE_OR_UPDATE
DELETE = Operation.DELETE


def row(
    line: int,
    section: str,
    instructor: str,
    code: str = "2024Fall-X-ENG101-12345",
    search_id: str = "ENG101",
    operation: Operation = APPROVED,
) -> CourseRow:
    return CourseRow(
        line=line,
        code=code,
        section=section,
        title="Intro to Writing",
        academic_department="LA",
        processing_department="HAYDEN",
        term="AUTUMN",
        start_date="19-08-2024",
        end_date="06-12-2024",
        year="2024",
        searchable_id=search_id,
        instructor=instructor,
        operation=operation,
        copy_sln="",
        copy_year="",
    )


def example_rows(shared_reference: Path) -> list[LoaderRow]:
    text = (shared_reference / EXAMPLE).read_bytes().decode("utf-8")
    lines = text.split("\r\n")
    assert lines[-1] == ""
    return [LoaderRow.from_cells(line.split("\t")) for line in lines[1:-1]]


def only(rows: list[CourseRow], merge_on: MergeOn) -> MergedCourse:
    (course,) = merge_rows(rows, merge_on).courses
    return course


# --- code + section (Alma's key) ---


def test_rows_of_one_code_and_section_join_instructors_and_ids() -> None:
    # rule L4: first-seen order, deduplicated, empties dropped
    rows = [
        row(2, "1", "jdoe1"),
        row(3, "1", "asmith2", search_id="ENG101H"),
        row(4, "1", "jdoe1"),
        row(5, "1", ""),
    ]
    merged = merge_rows(rows, MergeOn.CODE_AND_SECTION)
    (course,) = merged.courses
    assert course.lines == (2, 3, 4, 5)
    assert course.instructors == ("jdoe1", "asmith2")
    assert course.searchable_ids == ("ENG101", "ENG101H")
    assert course.key == "2024Fall-X-ENG101-12345 1"
    assert course.merged
    assert [(note.line, note.key) for note in merged.notes] == [
        (3, "2024Fall-X-ENG101-12345 1"),
        (4, "2024Fall-X-ENG101-12345 1"),
        (5, "2024Fall-X-ENG101-12345 1"),
    ]
    assert "merged into 2024Fall-X-ENG101-12345 1 of line 2" in merged.notes[0].reason


def test_other_sections_stay_courses_of_their_own_in_first_seen_order() -> None:
    # rule L4: Alma keys courses on code + section
    merged = merge_rows(
        [row(2, "2", "a"), row(3, "1", "b"), row(4, "2", "c")], MergeOn.CODE_AND_SECTION
    )
    assert [(course.section, course.lines) for course in merged.courses] == [
        ("2", (2, 4)),
        ("1", (3,)),
    ]


def test_an_approved_row_after_a_delete_wins() -> None:
    # rule L4: a DELETE and an approved row for one key: the approved row wins
    approved = replace(row(3, "1", "asmith2"), title="Kept")
    merged = merge_rows(
        [row(2, "1", "jdoe1", operation=DELETE), approved], MergeOn.CODE_AND_SECTION
    )
    (course,) = merged.courses
    assert course.row == approved
    assert course.operation is APPROVED
    assert course.lines == (3,)
    assert course.instructors == ("asmith2",)
    (note,) = merged.notes
    assert note.line == 2
    assert "line 3" in note.reason


def test_an_approved_row_before_a_delete_wins() -> None:
    # rule L4
    approved = row(2, "1", "jdoe1")
    merged = merge_rows([approved, row(3, "1", "x", operation=DELETE)], MergeOn.CODE_AND_SECTION)
    (course,) = merged.courses
    assert course.row == approved
    assert course.operation is APPROVED
    assert course.instructors == ("jdoe1",)
    (note,) = merged.notes
    assert note.line == 3
    assert "overruled" in note.reason
    assert "line 2" in note.reason


def test_a_second_delete_is_noted_and_the_first_kept() -> None:
    # rule L4
    first = row(2, "1", "jdoe1", operation=DELETE)
    merged = merge_rows([first, row(3, "1", "x", operation=DELETE)], MergeOn.CODE_AND_SECTION)
    (course,) = merged.courses
    assert course.row == first
    assert course.operation is DELETE
    (note,) = merged.notes
    assert note.line == 3
    assert "second DELETE" in note.reason


def test_more_than_ten_instructors_fill_ten_slots_and_all_go_in_all_instructors() -> None:
    # rule L4: Instructor 1-10 hold the first ten, ALL_INSTRUCTORS all of them
    names = [f"inst{n}" for n in range(12)]
    ids = [f"ID{n}" for n in range(3)]
    rows = [row(n + 2, "1", name, search_id=ids[n % 3]) for n, name in enumerate(names)]
    loader = loader_row(only(rows, MergeOn.CODE_AND_SECTION), MergeOn.CODE_AND_SECTION)
    assert loader.instructors == tuple(names[:10])
    assert loader.all_instructors == ",".join(names)
    assert (loader.searchable_id_1, loader.searchable_id_2) == ("ID0", "ID1")
    assert loader.all_searchable_ids == "ID0,ID1,ID2"


def test_a_single_row_course_fills_the_slots_alike() -> None:
    # rule L4: the same layout whether merged or not
    loader = loader_row(
        only([row(2, "1", "jdoe1")], MergeOn.CODE_AND_SECTION), MergeOn.CODE_AND_SECTION
    )
    assert loader.instructors == ("jdoe1",)
    assert loader.all_instructors == "jdoe1"
    assert (loader.searchable_id_1, loader.searchable_id_2) == ("ENG101", "")
    assert loader.all_searchable_ids == "ENG101"
    assert loader.terms == ("AUTUMN",)
    assert loader.operation is APPROVED


# --- code alone (ASU's own behaviour) ---


def test_asu_merges_sections_of_one_code_into_the_synthetic_example(
    shared_reference: Path,
) -> None:
    # rule L4, merge_on = "code": the first data row of the synthetic loader file
    rows = [row(2, "12345", "jdoe1"), row(3, "12346", "asmith2")]
    course = only(rows, MergeOn.CODE)
    assert loader_row(course, MergeOn.CODE) == example_rows(shared_reference)[0]


def test_an_unmerged_asu_course_is_the_second_example_row(shared_reference: Path) -> None:
    # rule L4, merge_on = "code": one row keeps INSTR1 and SEARCH_ID1
    music = replace(
        row(4, "22222", "bchan3", code="2024Fall-X-MUS200-22222", search_id="MUS200"),
        title="Music Theory",
        academic_department="HI",
        processing_department="MUSIC",
    )
    course = only([music], MergeOn.CODE)
    assert loader_row(course, MergeOn.CODE) == example_rows(shared_reference)[1]


def test_an_unmerged_asu_delete_is_the_third_example_row(shared_reference: Path) -> None:
    # rule L4: a DELETE row has the single-row layout
    torts = replace(
        row(5, "33333", "cking4", code="2024Fall-X-LAW500-33333", search_id="LAW500"),
        title="Torts",
        academic_department="LW",
        processing_department="LAW",
        operation=DELETE,
    )
    course = only([torts], MergeOn.CODE)
    assert loader_row(course, MergeOn.CODE) == example_rows(shared_reference)[2]


def test_asu_keeps_the_smaller_sln_as_section() -> None:
    # rule L4, merge_on = "code": a greater kept section gives way, both SLNs become ids
    rows = [row(2, "12346", "jdoe1"), row(3, "12345", "asmith2"), row(4, "900", "jdoe1")]
    course = only(rows, MergeOn.CODE)
    assert course.section == "900"
    assert course.row.section == "12346"
    assert course.key == "2024Fall-X-ENG101-12345 900"
    assert course.searchable_ids == ("ENG101", "12345", "12346", "900")
    assert course.instructors == ("jdoe1", "asmith2")
    assert course.lines == (2, 3, 4)


def test_asu_compares_slns_as_numbers() -> None:
    # rule L4: 900 < 1000 as numbers though not as text
    course = only([row(2, "900", "a"), row(3, "1000", "b")], MergeOn.CODE)
    assert course.section == "900"
    assert course.searchable_ids == ("ENG101", "1000")


def test_asu_keeps_every_searchable_id() -> None:
    # rule L4: upstream's cap at ten ids is not kept
    rows = [row(n + 2, str(100 + n), f"i{n}") for n in range(13)]
    course = only(rows, MergeOn.CODE)
    loader = loader_row(course, MergeOn.CODE)
    assert loader.all_searchable_ids == ",".join(["ENG101", *(str(100 + n) for n in range(1, 13))])
    assert loader.all_instructors == ",".join(f"i{n}" for n in range(13))
    assert loader.instructors == ()
    assert loader.searchable_id_1 == ""


def test_asu_drops_a_new_delete() -> None:
    # rule L4, merge_on = "code": a DELETE after a row of the code is dropped
    approved = row(2, "1", "a")
    merged = merge_rows([approved, row(3, "2", "b", operation=DELETE)], MergeOn.CODE)
    (course,) = merged.courses
    assert course.row == approved
    assert not course.merged
    assert [note.line for note in merged.notes] == [3]


def test_asu_replaces_an_old_delete_with_the_approved_row() -> None:
    # rule L4, merge_on = "code"
    approved = row(3, "2", "b")
    merged = merge_rows([row(2, "1", "a", operation=DELETE), approved], MergeOn.CODE)
    (course,) = merged.courses
    assert course.row == approved
    assert course.section == "2"
    assert course.operation is APPROVED
    assert [note.line for note in merged.notes] == [2]
    assert loader_row(course, MergeOn.CODE).instructors == ("b",)
