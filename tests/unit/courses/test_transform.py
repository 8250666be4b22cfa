"""Rule L3: one CEM row to one course row, or a skipped or failed row with its reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.courses.cem import CemRow
from domain.courses.loader_row import Operation
from domain.courses.transform import (
    CourseRow,
    RowRejected,
    RowVerdict,
    course_key,
    transform_row,
)
from domain.shared.asu_course_tables import ASU_TABLES

ASU_DATES = "%d-%m-%Y"
ROW = CemRow(
    line=7,
    course_code="2018Fall-X-SDO598-92898",
    status="APPROVED",
    title="Trial Advocacy",
    sln="92-898",
    instructor="jdoe1",
    college="LW",
    campus="TEMPE",
    course_id="SDO598",
    term="7",
    year="2018",
    start="2018-08-13 00:00:00.000000000",
    end="2018-12-07",
)


def course(row: CemRow) -> CourseRow:
    result = transform_row(row, ASU_TABLES, ASU_DATES)
    assert isinstance(result, CourseRow)
    return result


def rejected(row: CemRow) -> RowRejected:
    result = transform_row(row, ASU_TABLES, ASU_DATES)
    assert isinstance(result, RowRejected)
    return result


def test_an_approved_row_becomes_a_create_or_update() -> None:
    # rule L3
    assert course(ROW) == CourseRow(
        line=7,
        code="2018Fall-X-SDO598-92898",
        section="92898",
        title="Trial Advocacy",
        academic_department="LW",
        processing_department="LAW",
        term="AUTUMN",
        start_date="13-08-2018",
        end_date="07-12-2018",
        year="2018",
        searchable_id="SDO598",
        instructor="jdoe1",
        operation=Operation.CREATE_OR_UPDATE,
        copy_sln="",
        copy_year="",
    )


def test_a_requested_row_is_skipped() -> None:
    # rule L3: REQUESTED -> skipped
    result = rejected(replace(ROW, status="REQUESTED"))
    assert result.verdict is RowVerdict.SKIPPED
    assert result.key == "2018Fall-X-SDO598-92898 92898"
    assert "REQUESTED" in result.reason
    assert "line 7" in result.reason


@pytest.mark.parametrize("status", ["DENIED", "SUSPENDED"])
def test_denied_and_suspended_rows_delete(status: str) -> None:
    # rule L3: DENIED/SUSPENDED -> DELETE
    assert course(replace(ROW, status=status)).operation is Operation.DELETE


@pytest.mark.parametrize("status", ["", "APPROVED", "ANYTHING"])
def test_any_other_status_creates_or_updates(status: str) -> None:
    # rule L3
    assert course(replace(ROW, status=status)).operation is Operation.CREATE_OR_UPDATE


def test_an_empty_course_code_fails_naming_the_column() -> None:
    # rule L3
    result = rejected(replace(ROW, course_code=""))
    assert result.verdict is RowVerdict.FAILED
    assert result.key == "line 7"
    assert "MYASU_COURSE_IDSTRING" in result.reason


def test_an_empty_sln_fails_naming_the_column() -> None:
    # rule L3
    result = rejected(replace(ROW, sln="-"))
    assert result.verdict is RowVerdict.FAILED
    assert result.key == "line 7"
    assert "SLN is empty" in result.reason


def test_an_empty_term_fails() -> None:
    # rule L3
    result = rejected(replace(ROW, term=""))
    assert result.verdict is RowVerdict.FAILED
    assert result.key == "2018Fall-X-SDO598-92898 92898"
    assert "TERM is empty" in result.reason


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (replace(ROW, start="13/08/2018"), "START_SYNC_DATE"),
        (replace(ROW, end="13/08/2018"), "END_SYNC_DATE"),
    ],
)
def test_an_unreadable_date_fails_naming_column_and_value(row: CemRow, column: str) -> None:
    # rule L3
    result = rejected(row)
    assert result.verdict is RowVerdict.FAILED
    assert column in result.reason
    assert "13/08/2018" in result.reason
    assert "line 7" in result.reason
    assert "\n" not in result.reason


def test_empty_dates_stay_empty() -> None:
    # rule L3
    row = course(replace(ROW, start="", end=""))
    assert (row.start_date, row.end_date) == ("", "")


def test_dates_take_the_profiles_format() -> None:
    # rule L3: dates in the profile's format
    row = transform_row(ROW, ASU_TABLES, "%Y/%m/%d")
    assert isinstance(row, CourseRow)
    assert (row.start_date, row.end_date) == ("2018/08/13", "2018/12/07")


def test_an_empty_course_id_gives_a_dash_as_asu() -> None:
    # rule L3: Searchable ID 1 = COURSE_ID
    assert course(replace(ROW, course_id="")).searchable_id == "-"


def test_the_copy_sln_loses_its_dash_and_zero_means_none() -> None:
    # rule L3, L8
    assert course(replace(ROW, copy_sln="40-404", copy_year="2023")).copy_sln == "40404"
    assert course(replace(ROW, copy_sln="0")).copy_sln == ""


def test_fallbacks_are_noted_for_the_caller() -> None:
    # rule L3: an unknown campus or term is recorded and gets its fallback
    row = course(replace(ROW, campus="MARS", course_id="ENG101", term="9"))
    assert row.processing_department == "HAYDEN"
    assert row.term == ""
    assert len(row.notes) == 2
    assert row.notes[0].startswith("unknown campus MARS")
    assert row.notes[1].startswith("unknown TERM 9")


def test_course_key_is_code_and_section() -> None:
    # rule L4: the run record's key
    assert course_key("2018Fall-X-SDO598-92898", "92898") == "2018Fall-X-SDO598-92898 92898"
