"""Rule O1 of the OCLC data-sync merge (WORKFLOWS.md §O): the report row, its institution and
action, and the lines that are skipped."""

from __future__ import annotations

import pytest

from domain.oclc.report_rows import (
    COLUMNS,
    Action,
    EmptyReport,
    ExceptionReportGiven,
    LineProblem,
    NotUtf8Report,
    ParsedReport,
    ReportRow,
    UnusableReport,
    report_institutions,
    row_from_fields,
)
from domain.shared.errors import DomainError

JOB = "CEF_1012688_1748084545832::bib::1989804"


def row(network_id: str = "992851109505151", job_id: str = JOB) -> ReportRow:
    return ReportRow(job_id, network_id, "60383335", "60383335", "match")


def test_O1_the_five_columns_are_named_as_upstream_names_them() -> None:
    assert COLUMNS == ("JobID", "Network Id", "Existing 035a", "Incoming 035a", "Action")


def test_O1_five_values_make_a_row_of_text_and_empty_ones_are_none() -> None:
    parsed = row_from_fields([JOB, "991738308305151", "", "26547090", "match"], file="f", line=3)
    assert parsed == ReportRow(JOB, "991738308305151", None, "26547090", "match")
    assert isinstance(parsed, ReportRow)
    assert parsed.values == (JOB, "991738308305151", None, "26547090", "match")
    bare = row_from_fields([JOB, "991", "", "", ""], file="f", line=4)
    assert bare == ReportRow(JOB, "991", None, None, None)


def test_O1_identifiers_stay_text_exactly_spaces_and_leading_zeros_kept() -> None:
    parsed = row_from_fields([JOB, " 0991 5151", "0012", "12 ", "match"], file="f", line=1)
    assert isinstance(parsed, ReportRow)
    assert parsed.network_id == " 0991 5151"
    assert (parsed.existing_035a, parsed.incoming_035a) == ("0012", "12 ")


@pytest.mark.parametrize("count", [1, 4, 6, 7])
def test_O1_another_column_count_is_a_line_problem_with_file_and_line(count: int) -> None:
    problem = row_from_fields(["x"] * count, file="CEF.txt", line=7)
    assert problem == LineProblem(
        "CEF.txt", 7, f"{count} columns where a bib processing report has 5"
    )
    assert str(problem).startswith("CEF.txt:7: ")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (["", "991", "1", "1", "match"], "no JobID"),
        ([JOB, "", "1", "1", "match"], "no Network Id"),
    ],
)
def test_O1_a_line_without_jobid_or_network_id_is_skipped(fields: list[str], reason: str) -> None:
    assert row_from_fields(fields, file="f", line=2) == LineProblem("f", 2, reason)


def test_O1_the_institution_is_the_symbol_before_the_first_underscore() -> None:
    assert row().institution == "CEF"
    assert row(job_id="LU$_1_2::bib::3").institution == "LU$"
    assert row(job_id="nounderscore::bib::1").institution is None
    assert row(job_id="_1012688_1::bib::1").institution is None


def test_O1_a_report_names_its_institutions_once_in_order() -> None:
    rows = [row(job_id="UWO_1_2::bib::1"), row(job_id="x"), row(), row(job_id="UWO_9")]
    assert report_institutions(rows) == ("UWO", "CEF")
    report = ParsedReport("f", (row(),))
    assert report.institutions == ("CEF",)
    assert report.problems == ()


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("match", Action.MATCH),
        ("create", Action.CREATE),
        ("replace", Action.REPLACE),
        ("field transfer", Action.FIELD_TRANSFER),
        ("unresolved", Action.UNRESOLVED),
        ("Match", Action.UNKNOWN),
        ("merge", Action.UNKNOWN),
        (None, Action.UNKNOWN),
    ],
)
def test_O1_known_actions_and_any_other_word_is_unknown(text: str | None, action: Action) -> None:
    assert Action.of(text) is action
    assert ReportRow(JOB, "1", None, None, text).kind is action


def test_O1_an_unknown_action_keeps_its_own_text() -> None:
    parsed = row_from_fields([JOB, "991", "1", "2", "merged"], file="f", line=1)
    assert isinstance(parsed, ReportRow)
    assert (parsed.action, parsed.kind) == ("merged", Action.UNKNOWN)


def test_O1_sort_key_compares_text_with_empty_values_first() -> None:
    assert ReportRow(JOB, "9", None, "1", None).sort_key == (JOB, "9", "", "1", "")
    earlier = ReportRow("CEF_1::bib::10", "9", None, None, None)
    later = ReportRow("CEF_1::bib::9", "1", None, None, None)
    assert earlier.sort_key < later.sort_key  # text, not numbers: "10" < "9"


def test_O1_a_row_refuses_what_the_parser_never_makes() -> None:
    with pytest.raises(DomainError, match="needs a JobID and a Network Id"):
        ReportRow(JOB, "", None, None, None)
    with pytest.raises(DomainError, match="needs a JobID"):
        ReportRow("", "991", None, None, None)
    with pytest.raises(DomainError, match="is None, not ''"):
        ReportRow(JOB, "991", "", None, None)


def test_O1_B2_unusable_reports_say_one_sentence_naming_the_file() -> None:
    problem = LineProblem("a.txt", 1, "4 columns where a bib processing report has 5")
    empty = EmptyReport("a.txt", "is empty", (problem,))
    assert str(empty) == empty.sentence == "report a.txt is empty"
    assert empty.args == ("report a.txt is empty",)
    assert empty.problems == (problem,)
    for error in (ExceptionReportGiven("b", "is an exception report"), NotUtf8Report("c", "x")):
        assert isinstance(error, UnusableReport)
        assert error.problems == ()
        assert str(error).startswith(f"report {error.file} ")
