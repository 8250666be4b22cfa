"""Rule O2 of the OCLC data-sync merge: rows merged on Network Id, identical rows collapsed,
conflicts kept with every row, the primary institution's row kept."""

from __future__ import annotations

from domain.oclc.merge import Conflict, Merge, merge_reports
from domain.oclc.report_rows import ReportRow


def cef(network_id: str, incoming: str | None = "1", action: str | None = "match") -> ReportRow:
    return ReportRow(f"CEF_1012688_1::bib::{network_id}", network_id, "1", incoming, action)


def uwo(network_id: str, incoming: str | None = "1", action: str | None = "match") -> ReportRow:
    return ReportRow(f"UWO_1012743_2::bib::{network_id}", network_id, "1", incoming, action)


def test_O2_one_row_per_network_id_in_upstreams_text_order() -> None:
    merged = merge_reports([[cef("3"), cef("10")], [uwo("2")]])
    # Upstream's outer merge sorts on the five values as text: JobID first.
    assert merged.rows == (cef("10"), cef("3"), uwo("2"))
    assert merged == Merge(merged.rows, (), 0, 0)
    assert merged.conflicted_ids == frozenset()


def test_O2_rows_sharing_a_jobid_are_ordered_on_the_other_values_as_text() -> None:
    job = "CEF_1012688_1::bib::7"
    rows = [
        ReportRow(job, "9925151", "2", "3", "match"),
        ReportRow(job, "9915151", None, "3", "match"),
        ReportRow("CEF_1012688_1::bib::6", "9935151", "1", "1", "match"),
        ReportRow(job, "9915152", "1", "1", "create"),
    ]
    merged = merge_reports([rows])
    assert merged.rows == tuple(sorted(rows, key=lambda row: row.sort_key))
    assert [row.network_id for row in merged.rows] == ["9935151", "9915151", "9915152", "9925151"]


def test_O2_identical_rows_collapse_silently_within_and_across_reports() -> None:
    merged = merge_reports([[cef("5"), cef("5")], [cef("5")]])
    assert merged.rows == (cef("5"),)
    assert (merged.collapsed, merged.agreeing, merged.conflicts) == (2, 0, ())


def test_O2_rows_that_agree_keep_the_first_reports_row_no_conflict() -> None:
    agreeing = ReportRow("UWO_1012743_2::bib::7", "7", "other existing", "1", "match")
    merged = merge_reports([[uwo("7")], [cef("7")], [agreeing]])
    assert merged.rows == (uwo("7"),)
    assert (merged.collapsed, merged.agreeing, merged.conflicts) == (0, 2, ())


def test_O2_a_disagreement_on_action_is_a_conflict_with_every_row() -> None:
    merged = merge_reports([[cef("8")], [uwo("8", action="field transfer")]])
    assert merged.rows == (cef("8"),)
    (conflict,) = merged.conflicts
    assert conflict == Conflict("8", (cef("8"), uwo("8", action="field transfer")))
    assert conflict.kept == cef("8")
    assert conflict.set_aside == (uwo("8", action="field transfer"),)
    assert conflict.disagreement == ("Action",)
    assert conflict.institutions == ("CEF", "UWO")
    assert merged.conflicted_ids == frozenset({"8"})


def test_O2_a_disagreement_on_the_incoming_number_is_a_conflict() -> None:
    create, unresolved = cef("9", "1520924209", "create"), uwo("9", "1520918535", "unresolved")
    (conflict,) = merge_reports([[create], [unresolved]]).conflicts
    assert conflict.disagreement == ("Incoming 035a", "Action")
    (conflict,) = merge_reports([[cef("9", "2")], [uwo("9", None)]]).conflicts
    assert conflict.disagreement == ("Incoming 035a",)


def test_O2_the_primary_institutions_row_wins_whatever_the_report_order() -> None:
    merged = merge_reports([[cef("8")], [uwo("8", action="create")]], primary="UWO")
    assert merged.rows == (uwo("8", action="create"),)
    (conflict,) = merged.conflicts
    assert conflict.rows == (uwo("8", action="create"), cef("8"))


def test_O2_without_a_primary_row_the_first_report_given_wins() -> None:
    merged = merge_reports([[cef("8")], [uwo("8", action="create")]], primary="BRX")
    assert merged.rows == (cef("8"),)
    assert merged.conflicts[0].rows == (cef("8"), uwo("8", action="create"))


def test_O2_two_disagreeing_rows_within_one_report_are_a_conflict_first_line_kept() -> None:
    first, second = cef("4", "100"), cef("4", "200")
    merged = merge_reports([[first, second]])
    assert merged.rows == (first,)
    assert merged.conflicts == (Conflict("4", (first, second)),)


def test_O2_a_conflict_lists_rows_that_agree_with_the_kept_one_too() -> None:
    other_report = ReportRow("UWO_1012743_2::bib::x", "6", "1", "1", "match")
    merged = merge_reports([[cef("6")], [other_report, uwo("6", "2")]], primary="CEF")
    (conflict,) = merged.conflicts
    assert conflict.rows == (cef("6"), other_report, uwo("6", "2"))
    assert merged.agreeing == 0


def test_O2_conflicts_come_in_the_order_of_their_kept_rows() -> None:
    merged = merge_reports(
        [[cef("b"), cef("a")], [uwo("a", action="create"), uwo("b", action="create")]]
    )
    assert [c.network_id for c in merged.conflicts] == ["a", "b"]
    assert [c.kept for c in merged.conflicts] == [cef("a"), cef("b")]


def test_O2_no_report_merges_to_nothing() -> None:
    assert merge_reports([]) == Merge((), (), 0, 0)
