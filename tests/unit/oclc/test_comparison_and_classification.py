"""Rules O4 (DIFF/SAME), O6 (the identifier report's sheets) and O7 (the two text outputs) of
the OCLC data-sync merge."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from domain.oclc.classification import Classification, Placement, Sheet, classify
from domain.oclc.comparison import COMPARISON_FILE, DIFF, SAME, Comparison, compare_035a, is_same
from domain.oclc.report_rows import ReportRow
from domain.oclc.text_outputs import (
    SET_IDS_FILE,
    UPDATED_NUMBERS_FILE,
    OneColumn,
    set_ids,
    updated_numbers,
)


def row(
    network_id: str,
    existing: str | None = "1",
    incoming: str | None = "2",
    action: str | None = "match",
) -> ReportRow:
    return ReportRow(f"CEF_1_2::bib::{network_id}", network_id, existing, incoming, action)


# O4 ------------------------------------------------------------------------------------------


def test_O4_names_are_upstreams() -> None:
    assert (COMPARISON_FILE, DIFF, SAME) == ("comparison_file_IZ.xlsx", "DIFF", "SAME")


def test_O4_equal_numbers_are_same_different_ones_diff_in_order() -> None:
    rows = [row("a", "1", "1"), row("b", "1", "2"), row("c", "3", "3"), row("d", "5", "4")]
    assert compare_035a(rows) == Comparison(diff=(rows[1], rows[3]), same=(rows[0], rows[2]))


def test_O4_two_empty_values_are_same_one_empty_value_is_diff() -> None:
    assert is_same(row("a", None, None))
    assert not is_same(row("b", None, "1520914156"))
    assert not is_same(row("c", "1", None))


def test_O4_numbers_are_compared_as_text_never_as_numbers() -> None:
    assert not is_same(row("a", "0123", "123"))
    assert not is_same(row("b", "123", "123 "))
    assert not is_same(row("c", "1e3", "1000"))


def test_O4_no_rows_no_sheets() -> None:
    assert compare_035a([]) == Comparison((), ())


# O6 ------------------------------------------------------------------------------------------


def placements(
    rows: list[ReportRow],
    *,
    do_not_change: frozenset[str] = frozenset(),
    doublecheck: Mapping[str, Collection[str]] | None = None,
) -> list[tuple[str, Sheet, str]]:
    known = {"known": ("2",)} if doublecheck is None else doublecheck
    result = classify(rows, do_not_change=do_not_change, doublecheck=known)
    return [(p.row.network_id, p.sheet, p.reason) for p in result.placements]


def test_O6_sheets_are_named_as_upstream_names_them_with_not_in_analytics_last() -> None:
    assert [s.value for s in Sheet] == [
        "do_not_change",
        "update by job",
        "updated records",
        "records for review",
        "not in analytics",
    ]


def test_O6_do_not_change_comes_first_and_goes_no_further() -> None:
    rows = [row("known"), row("unknown", action="create")]
    assert placements(rows, do_not_change=frozenset({"known", "unknown"})) == [
        ("known", Sheet.DO_NOT_CHANGE, "on the do-not-change list"),
        ("unknown", Sheet.DO_NOT_CHANGE, "on the do-not-change list"),
    ]


def test_O6_ids_unknown_to_the_doublecheck_are_not_in_analytics_whatever_the_action() -> None:
    rows = [row("a"), row("b", action="create"), row("c", action=None)]
    assert {sheet for _, sheet, _ in placements(rows)} == {Sheet.NOT_IN_ANALYTICS}
    assert placements([row("a")])[0][2] == "the doublecheck does not know this id"


def test_O6_a_match_not_among_the_nz_035a_values_is_update_by_job() -> None:
    doublecheck = {"a": ("150608888", "1124289370"), "b": ()}
    assert placements([row("a", incoming="1"), row("b")], doublecheck=doublecheck) == [
        (
            "a",
            Sheet.UPDATE_BY_JOB,
            "match: incoming 035a 1 is not among the NZ's 035a (1124289370; 150608888)",
        ),
        ("b", Sheet.UPDATE_BY_JOB, "match: incoming 035a 2 is not among the NZ's 035a (none)"),
    ]


def test_O6_a_match_among_the_nz_035a_values_is_an_updated_record() -> None:
    doublecheck = {"a": ("1124289370", "150608888")}
    assert placements([row("a", incoming="150608888")], doublecheck=doublecheck) == [
        ("a", Sheet.UPDATED_RECORDS, "match: the NZ's 035a already holds 150608888"),
    ]


def test_O6_the_nz_values_are_compared_as_text_one_by_one() -> None:
    doublecheck = {"a": ("0150608888",), "b": ("1124289370; 150608888",)}
    rows = [row("a", incoming="150608888"), row("b", incoming="150608888")]
    assert [s for _, s, _ in placements(rows, doublecheck=doublecheck)] == [
        Sheet.UPDATE_BY_JOB,
        Sheet.UPDATE_BY_JOB,
    ]


def test_O6_every_other_action_is_for_review_an_unknown_one_too() -> None:
    doublecheck = {k: ("2",) for k in "abcdefg"}
    rows = [
        row("a", action="create"),
        row("b", action="replace"),
        row("c", action="field transfer"),
        row("d", action="unresolved"),
        row("e", action="merged"),
        row("f", action=None),
        row("g", incoming=None),
    ]
    assert placements(rows, doublecheck=doublecheck) == [
        ("a", Sheet.FOR_REVIEW, "action create"),
        ("b", Sheet.FOR_REVIEW, "action replace"),
        ("c", Sheet.FOR_REVIEW, "action field transfer"),
        ("d", Sheet.FOR_REVIEW, "action unresolved"),
        ("e", Sheet.FOR_REVIEW, "unknown action 'merged'"),
        ("f", Sheet.FOR_REVIEW, "no action"),
        ("g", Sheet.FOR_REVIEW, "match without an incoming 035a"),
    ]


def test_O6_rows_of_a_sheet_keep_the_diff_order_and_every_sheet_is_counted() -> None:
    rows = [row("c"), row("a", action="create"), row("b"), row("z")]
    doublecheck = {"a": ("2",), "b": ("9",), "c": ("9",)}
    result = classify(rows, do_not_change=set(), doublecheck=doublecheck)
    assert result.rows(Sheet.UPDATE_BY_JOB) == (row("c"), row("b"))
    assert result.rows(Sheet.DO_NOT_CHANGE) == ()
    assert result.counts() == {
        Sheet.DO_NOT_CHANGE: 0,
        Sheet.UPDATE_BY_JOB: 2,
        Sheet.UPDATED_RECORDS: 0,
        Sheet.FOR_REVIEW: 1,
        Sheet.NOT_IN_ANALYTICS: 1,
    }


# O7 ------------------------------------------------------------------------------------------


def test_O7_text_file_names_are_upstreams() -> None:
    assert SET_IDS_FILE == "a_to_z_MMSid_for_set.txt"
    assert UPDATED_NUMBERS_FILE == "oclc_numbers_updated.txt"


def test_O7_the_set_file_holds_the_update_by_job_ids_and_the_numbers_file_their_numbers() -> None:
    rows = [row("991", incoming="7"), row("992", incoming="8"), row("993", incoming="9")]
    doublecheck = {"991": ("1",), "992": ("8",), "993": ("1",)}
    result = classify(rows, do_not_change=(), doublecheck=doublecheck)
    assert set_ids(result) == OneColumn("MMS Id", ("991", "993"))
    # Fix: upstream writes the Network Ids under this heading.
    assert updated_numbers(result) == OneColumn("Incoming 035a", ("7", "9"))


def test_O7_a_row_without_an_incoming_number_adds_no_line_to_the_numbers_file() -> None:
    odd = Classification((Placement(row("991", incoming=None), Sheet.UPDATE_BY_JOB, "by hand"),))
    assert updated_numbers(odd) == OneColumn("Incoming 035a", ())
    assert set_ids(odd) == OneColumn("MMS Id", ("991",))
