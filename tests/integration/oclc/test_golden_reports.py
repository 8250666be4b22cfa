"""Golden tests of the OCLC data-sync merge on the real reference inputs (rules O1–O4, O6, O7),
and each kind of bad input to the report reader, the institutions table and the CSV writer.

The reference folder is `../shared/reference/joint_oclc_data_sync/` (its SOURCES.md says where
each file comes from): Carleton's and Western's reports give `expected_outputs_833d31b/`, which
upstream's scripts wrote from exactly these inputs.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from adapters.oclc.csv_outputs import one_column_text, report_rows_csv, split_files
from adapters.oclc.institutions import (
    InstitutionsFileError,
    institutions_from_json,
    read_institutions,
)
from adapters.oclc.reports import is_exception_report_name, read_bib_processing_report
from domain.oclc.classification import Sheet, classify
from domain.oclc.comparison import compare_035a
from domain.oclc.merge import Merge, merge_reports
from domain.oclc.report_rows import (
    Action,
    EmptyReport,
    ExceptionReportGiven,
    LineProblem,
    NotUtf8Report,
    ParsedReport,
    ReportRow,
)
from domain.oclc.split import Institution, Split, split_rows
from domain.oclc.text_outputs import OneColumn, set_ids, updated_numbers
from tests.conftest import SHARED_REFERENCE

REFERENCE = SHARED_REFERENCE / "joint_oclc_data_sync"
INPUTS = REFERENCE / "inputs"
EXPECTED = REFERENCE / "expected_outputs_833d31b"
PRINCETON = sorted(INPUTS.glob("pulibrary-lib_jobs__*BibProcessingReport.txt"))
EXCEPTION_REPORTS = sorted(INPUTS.glob("pulibrary-lib_jobs__*BibExceptionReport.txt"))
# openpyxl warns about the upstream workbooks' missing default style; the cells are what counts.
NO_STYLE_WARNING = pytest.mark.filterwarnings("ignore:Workbook contains no default style")

JOB = "CEF_1012688_1748084545832::bib::"


def read(path: Path) -> ParsedReport:
    return read_bib_processing_report(path.name, path.read_bytes())


def reference_run() -> tuple[list[ParsedReport], Merge, Split]:
    reports = [read(INPUTS / "CEFtestfile.txt"), read(INPUTS / "UWOtestfile.txt")]
    merged = merge_reports([report.rows for report in reports])
    return reports, merged, split_rows(merged.rows, read_institutions(INPUTS / "institutions.json"))


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(data.decode("utf-8").splitlines()))


def as_csv_values(row: ReportRow) -> list[str]:
    return ["" if value is None else value for value in row.values]


# Golden: Carleton + Western ----------------------------------------------------------------------


def test_O1_O2_O3_the_reference_reports_give_upstreams_counts() -> None:
    reports, merged, split = reference_run()
    assert [len(r.rows) for r in reports] == [1626, 798]
    assert [r.problems for r in reports] == [(), ()]
    assert [r.institutions for r in reports] == [("CEF",), ("UWO",)]
    assert Counter(row.kind for r in reports for row in r.rows) == {
        Action.MATCH: 2385,
        Action.FIELD_TRANSFER: 20,
        Action.CREATE: 8,
        Action.UNRESOLVED: 8,
        Action.REPLACE: 3,
    }
    # 2,424 rows, 140 ids in both reports: 135 agree, 5 conflict.
    assert (len(merged.rows), merged.collapsed, merged.agreeing) == (2284, 0, 135)
    assert len(split.nz) == 2238
    assert [(p.institution.code, len(p.rows)) for p in split.institutions] == [
        ("CEF", 36),
        ("UWO", 10),
    ]
    assert split.unknown == ()


def test_O4_the_reference_nz_rows_give_diff_129_and_same_2109() -> None:
    _, _, split = reference_run()
    comparison = compare_035a(split.nz)
    assert (len(comparison.diff), len(comparison.same)) == (129, 2109)


@NO_STYLE_WARNING
def test_O4_diff_and_same_hold_upstreams_rows_in_upstreams_order() -> None:
    _, _, split = reference_run()
    comparison = compare_035a(split.nz)
    workbook = openpyxl.load_workbook(EXPECTED / "comparison_file_IZ.xlsx", read_only=True)
    for sheet, rows in (("DIFF", comparison.diff), ("SAME", comparison.same)):
        cells = list(workbook[sheet].iter_rows(values_only=True))[1:]
        # Upstream wrote the 035a as numbers (its bug); the ids and the order are what we compare.
        assert [str(cell[1]) for cell in cells] == [row.network_id for row in rows]
        assert [str(cell[3]) for cell in cells] == [str(row.incoming_035a) for row in rows]
    workbook.close()


@pytest.mark.parametrize("name", ["bibprocessmerged.csv", "CEFbibprocess.csv", "UWObibprocess.csv"])
def test_O3_the_three_csv_files_equal_upstreams_row_for_row_and_byte_for_byte(name: str) -> None:
    _, _, split = reference_run()
    files = dict(split_files(split))
    assert list(files) == ["bibprocessmerged.csv", "CEFbibprocess.csv", "UWObibprocess.csv"]
    expected = (EXPECTED / name).read_bytes()
    assert csv_rows(files[name]) == csv_rows(expected)
    assert files[name] == expected


def test_O3_the_merged_rows_are_the_nz_files_rows() -> None:
    _, _, split = reference_run()
    expected = csv_rows((EXPECTED / "bibprocessmerged.csv").read_bytes())
    assert expected[0] == ["JobID", "Network Id", "Existing 035a", "Incoming 035a", "Action"]
    assert [as_csv_values(row) for row in split.nz] == expected[1:]


def test_O2_the_five_reference_conflicts_are_listed_with_both_rows() -> None:
    _, merged, _ = reference_run()
    uwo = "UWO_1012743_1748081412178::bib::"
    assert [(c.network_id, c.rows, c.disagreement) for c in merged.conflicts] == [
        (
            "991702800505151",
            (
                ReportRow(f"{JOB}1127692", "991702800505151", "435873127", "435873127", "match"),
                ReportRow(
                    f"{uwo}784782", "991702800505151", "435873127", "435873127", "field transfer"
                ),
            ),
            ("Action",),
        ),
        (
            "991993690805151",
            (
                ReportRow(f"{JOB}2180798", "991993690805151", "60551632", "60551632", "match"),
                ReportRow(
                    f"{uwo}949342", "991993690805151", "60551632", "60551632", "field transfer"
                ),
            ),
            ("Action",),
        ),
        (
            # Two new WorldCat records: CEF created one, UWO's record stayed unresolved.
            "991523164305151",
            (
                ReportRow(f"{JOB}2354328", "991523164305151", "50403538", "1520924209", "create"),
                ReportRow(
                    f"{uwo}1034837", "991523164305151", "50403538", "1520918535", "unresolved"
                ),
            ),
            ("Incoming 035a", "Action"),
        ),
        (
            "991980006605151",
            (
                ReportRow(f"{JOB}2546786", "991980006605151", "44969557", "44969557", "match"),
                ReportRow(
                    f"{uwo}7354", "991980006605151", "44969557", "44969557", "field transfer"
                ),
            ),
            ("Action",),
        ),
        (
            "991585665705151",
            (
                ReportRow(
                    f"{JOB}898663", "991585665705151", "184906112", "184906112", "field transfer"
                ),
                ReportRow(f"{uwo}1483859", "991585665705151", "184906112", "184906112", "match"),
            ),
            ("Action",),
        ),
    ]
    # Upstream kept the CEF row every time, as the first report given does here.
    assert all(conflict.kept.institution == "CEF" for conflict in merged.conflicts)


def test_O2_with_western_primary_the_conflicts_keep_western_rows() -> None:
    reports, merged, _ = reference_run()
    by_uwo = merge_reports([report.rows for report in reports], primary="UWO")
    assert [c.network_id for c in by_uwo.conflicts] != []
    assert {c.network_id for c in by_uwo.conflicts} == merged.conflicted_ids
    assert {c.kept.institution for c in by_uwo.conflicts} == {"UWO"}
    assert len(by_uwo.rows) == len(merged.rows)


def manual_doublecheck() -> dict[str, tuple[str, ...]]:
    """The manual Analytics export as O6 takes it: Network Id → its 035a values (split here on
    ``;`` and ``|``, as O5 will)."""
    path = REFERENCE / "analytics" / "OCLC-doublecheck_manual_export_642c02a.xlsx"
    workbook = openpyxl.load_workbook(path, read_only=True)
    cells = list(workbook.active.iter_rows(values_only=True))
    workbook.close()
    assert cells[0][:2] == ("Network Id", "OCLC Control Number (035a)")
    return {
        str(network_id): tuple(v.strip() for v in re.split("[;|]", str(numbers or "")) if v)
        for network_id, numbers, *_ in cells[1:]
    }


@NO_STYLE_WARNING
def test_O6_O7_the_reference_diff_against_the_manual_doublecheck() -> None:
    _, _, split = reference_run()
    diff = compare_035a(split.nz).diff
    result = classify(diff, do_not_change=frozenset(), doublecheck=manual_doublecheck())
    # 6 DIFF ids are not in the export (upstream drops them); the 2 multi-valued 035a cells that
    # hold the incoming number are updated records (upstream compares the whole cell).
    assert result.counts() == {
        Sheet.DO_NOT_CHANGE: 0,
        Sheet.UPDATE_BY_JOB: 107,
        Sheet.UPDATED_RECORDS: 2,
        Sheet.FOR_REVIEW: 14,
        Sheet.NOT_IN_ANALYTICS: 6,
    }
    assert {r.network_id for r in result.rows(Sheet.UPDATED_RECORDS)} == {
        "992864016505151",
        "991857460005151",
    }
    by_job = result.rows(Sheet.UPDATE_BY_JOB)
    set_file = one_column_text(set_ids(result)).decode("utf-8").split("\n")
    assert set_file == ["MMS Id", *(row.network_id for row in by_job), ""]
    numbers_file = one_column_text(updated_numbers(result)).decode("utf-8").split("\n")
    assert numbers_file == ["Incoming 035a", *(str(row.incoming_035a) for row in by_job), ""]
    held_out = classify(diff, do_not_change={by_job[0].network_id}, doublecheck={})
    assert held_out.counts()[Sheet.DO_NOT_CHANGE] == 1
    assert held_out.counts()[Sheet.NOT_IN_ANALYTICS] == 128


# Golden: Princeton ------------------------------------------------------------------------------


def test_O1_O2_the_princeton_reports_parse_and_merge_their_duplicate_collapsing() -> None:
    reports = [read(path) for path in PRINCETON]
    assert [len(r.rows) for r in reports] == [54, 13]
    assert [r.problems for r in reports] == [(), ()]
    assert {row.kind for r in reports for row in r.rows} == set(Action) - {Action.UNKNOWN}
    assert reports[1].rows[0] == reports[1].rows[1]  # lines 1 and 2 are the same line
    assert [sum(row.existing_035a is None for row in r.rows) for r in reports] == [8, 2]
    merged = merge_reports([r.rows for r in reports])
    assert (len(merged.rows), merged.collapsed, merged.conflicts) == (66, 1, ())
    princeton = Institution("Princeton University Library", "6421", "PUL")
    split = split_rows(merged.rows, [princeton])
    assert (len(split.nz), split.unknown) == (0, ())
    assert [(p.institution.code, len(p.rows)) for p in split.institutions] == [("PUL", 66)]
    assert [r.network_id for r in split_rows(merged.rows, []).unknown] == [
        row.network_id for row in merged.rows
    ]


@pytest.mark.parametrize("path", EXCEPTION_REPORTS, ids=lambda path: path.name[-40:])
def test_O1_exception_reports_are_refused_with_that_sentence(path: Path) -> None:
    assert is_exception_report_name(path.name)
    with pytest.raises(ExceptionReportGiven) as by_name:
        read(path)
    assert by_name.value.sentence.startswith(f"report {path.name} is an OCLC bib exception report")
    assert "not a bib processing report" in by_name.value.sentence
    # Renamed, it is still recognised, by its 7 columns and error type.
    with pytest.raises(ExceptionReportGiven, match="recognised by its first line"):
        read_bib_processing_report("renamed.txt", path.read_bytes())


def test_O1_exception_reports_are_recognised_by_name_in_any_case() -> None:
    assert is_exception_report_name("X.LbdExceptionReport.TXT")
    assert not is_exception_report_name(PRINCETON[0].name)


# Bad input ------------------------------------------------------------------------------------


def line(network_id: str = "991738308305151", *rest: str) -> bytes:
    values = rest or ("26547090", "26547090", "match")
    return "|".join((f"{JOB}1", network_id, *values)).encode("utf-8") + b"\n"


def test_O1_lines_of_4_or_6_columns_are_recorded_with_file_and_line_and_the_rest_go_on() -> None:
    data = line("1") + b"a|b|c|d\n" + line("2") + b"a|b|c|d|e|f\n" + line("3")
    report = read_bib_processing_report("CEF.txt", data)
    assert [row.network_id for row in report.rows] == ["1", "2", "3"]
    assert [str(problem) for problem in report.problems] == [
        "CEF.txt:2: 4 columns where a bib processing report has 5",
        "CEF.txt:4: 6 columns where a bib processing report has 5",
    ]


@pytest.mark.parametrize("data", [b"", b"\n", b"\n\r\n\n"], ids=["no byte", "newline", "blank"])
def test_O1_B2_an_empty_report_ends_the_run_with_one_sentence(data: bytes) -> None:
    with pytest.raises(EmptyReport) as refused:
        read_bib_processing_report("UWO.txt", data)
    assert refused.value.sentence == (
        "report UWO.txt is empty: it has no line, so there is nothing to merge"
    )


def test_O1_B2_a_report_whose_every_line_is_skipped_is_empty_too() -> None:
    with pytest.raises(EmptyReport) as refused:
        read_bib_processing_report("UWO.txt", b"a|b|c|d\n\n|991|1|1|match\n")
    assert refused.value.sentence == (
        "report UWO.txt has no usable row: all its 2 lines were skipped "
        "(the first: UWO.txt:1: 4 columns where a bib processing report has 5)"
    )
    assert [p.line for p in refused.value.problems] == [1, 3]


def test_O1_a_latin_1_report_has_each_line_that_is_not_utf8_recorded_and_skipped() -> None:
    text = f"{JOB}1|9911|1|2|match\n{JOB}2|9912|1|2|cr\u00e9\u00e9\n{JOB}3|9913|1|1|match\n"
    report = read_bib_processing_report("latin1.txt", text.encode("latin-1"))
    # The ASCII lines are the same bytes in Latin-1 and UTF-8: they are read as they are.
    assert [row.network_id for row in report.rows] == ["9911", "9913"]
    assert report.problems == (
        LineProblem(
            "latin1.txt",
            2,
            "not valid UTF-8 (byte 0xE9 at byte 46; a Latin-1 or Windows-1252 copy?)",
        ),
    )


def test_O1_B2_a_report_none_of_whose_lines_is_utf8_is_refused_naming_the_encoding() -> None:
    text = f"{JOB}1|9911|1|2|cr\u00e9\u00e9\n{JOB}2|99\u00b012|1|2|match\n"
    with pytest.raises(NotUtf8Report) as refused:
        read_bib_processing_report("latin1.txt", text.encode("latin-1"))
    assert refused.value.sentence == (
        "report latin1.txt is not UTF-8: none of its 2 lines decodes as UTF-8 (the first bad "
        "one: byte 0xE9 at byte 46 of line 1), as happens to a copy saved in Latin-1 or "
        "Windows-1252; OCLC sends UTF-8, so use the report as OCLC delivered it"
    )
    assert len(refused.value.problems) == 2


def test_O1_B2_a_utf16_report_is_refused_naming_the_encoding() -> None:
    data = line("1").decode("utf-8").encode("utf-16")
    with pytest.raises(NotUtf8Report, match=r"report u16\.txt is UTF-16, not UTF-8"):
        read_bib_processing_report("u16.txt", data)


def test_O1_a_byte_order_mark_and_windows_line_ends_are_read_like_upstream() -> None:
    data = b"\xef\xbb\xbf" + line("1").replace(b"\n", b"\r\n") + line("2").replace(b"\n", b"\r\n")
    report = read_bib_processing_report("bom.txt", data)
    assert [(r.job_id, r.network_id, r.action) for r in report.rows] == [
        (f"{JOB}1", "1", "match"),
        (f"{JOB}1", "2", "match"),
    ]


def test_O1_O3_a_network_id_with_spaces_or_a_leading_zero_is_kept_as_text_exactly() -> None:
    data = (
        line(" 991738308305151")
        + line("0991738308305151 ")
        + line("0991 7383 5151", "0", "", "match")
    )
    report = read_bib_processing_report("ids.txt", data)
    assert [row.network_id for row in report.rows] == [
        " 991738308305151",
        "0991738308305151 ",
        "0991 7383 5151",
    ]
    assert (report.rows[2].existing_035a, report.rows[2].incoming_035a) == ("0", None)
    merged = merge_reports([report.rows])
    split = split_rows(merged.rows, [])
    assert [row.network_id for row in split.nz] == [" 991738308305151", "0991 7383 5151"]
    assert [row.network_id for row in split.unknown] == ["0991738308305151 "]
    nz_file = dict(split_files(split))["bibprocessmerged.csv"].decode("utf-8")
    assert f"{JOB}1,0991 7383 5151,0,,match\n" in nz_file
    assert f"{JOB}1, 991738308305151,26547090,26547090,match\n" in nz_file


# institutions.json ---------------------------------------------------------------------------


def test_O3_the_reference_institutions_table_reads_as_text() -> None:
    table = read_institutions(INPUTS / "institutions.json")
    assert len(table) == 19
    assert Institution("Carleton University", "5153", "CEF") in table
    assert Institution("Laurentian University", "5165", "LU$") in table


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "t.json: not UTF-8 text"),
        (b"[", "t.json: not JSON \\(Expecting value at line 1, column 2\\)"),
        (b'{"name": "x"}', "t.json: expected a list of institutions .* found a JSON object"),
        (b"[1]", "t.json: entry 1 is a JSON number, not an object"),
        (b'["x"]', "t.json: entry 1 is a JSON string"),
        (b"[[]]", "t.json: entry 1 is a JSON list"),
        (b"[true]", "t.json: entry 1 is a JSON boolean"),
        (b"[null]", "t.json: entry 1 is a JSON null"),
        (b'[{"name": "B", "id": "5152"}]', 't.json: entry 1 has no "code"'),
        (
            b'[{"name": "B", "id": 5152, "code": "BRX"}]',
            't.json: entry 1 \\(BRX\\): "id" is a JSON number; write it as text, for example '
            '"id": "5152"',
        ),
        (
            b'[{"name": "B", "id": "515", "code": "BRX"}]',
            "t.json: entry 1 \\(BRX\\): the suffix '515' is not four digits",
        ),
        (
            b'[{"name": "B", "id": "5152", "code": "BRX"}, {"name": "C", "id": "5152", '
            b'"code": "CEF"}, {"name": "N", "id": "5151", "code": "NZ"}]',
            "t.json: entry 2 \\(CEF\\) has suffix 5152, as entry 1 has; entry 3 \\(NZ\\) has the "
            "Network Zone's suffix 5151",
        ),
    ],
)
def test_O3_B9_a_bad_institutions_file_names_the_file_and_the_entry(
    data: bytes, message: str
) -> None:
    with pytest.raises(InstitutionsFileError, match=message):
        institutions_from_json("t.json", data)


def test_O3_institutions_keep_their_order_extra_keys_are_ignored() -> None:
    data = b'\xef\xbb\xbf[{"name": "U", "id": "5163", "code": "UWO", "note": 1}, {"name": "C", '
    data += b'"id": "5153", "code": "CEF"}]'
    assert institutions_from_json("t.json", data) == (
        Institution("U", "5163", "UWO"),
        Institution("C", "5153", "CEF"),
    )
    with pytest.raises(InstitutionsFileError, match="entry 1 \\(UWO\\) has the Network Zone"):
        institutions_from_json("t.json", data, nz_suffix="5163")


def test_O3_a_missing_or_unreadable_institutions_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InstitutionsFileError, match=r"institutions\.json: the file does not exist"):
        read_institutions(tmp_path / "institutions.json")
    with pytest.raises(InstitutionsFileError, match=f"{re.escape(str(tmp_path))}: cannot be read"):
        read_institutions(tmp_path)


# CSV and text bytes ------------------------------------------------------------------------------


def test_O3_B3_csv_values_are_quoted_only_when_needed_and_lines_end_in_lf() -> None:
    rows = [
        ReportRow("A_1", "9915151", None, "1,2", 'say "x"'),
        ReportRow("A_2", "9925151", "0012", None, None),
    ]
    assert report_rows_csv(rows) == (
        b"JobID,Network Id,Existing 035a,Incoming 035a,Action\n"
        b'A_1,9915151,,"1,2","say ""x"""\n'
        b"A_2,9925151,0012,,\n"
    )
    assert report_rows_csv([]) == b"JobID,Network Id,Existing 035a,Incoming 035a,Action\n"


def test_O3_the_nz_file_is_always_written_unknown_suffixes_only_when_there_are_some() -> None:
    cef = Institution("Carleton University", "5153", "CEF")
    odd = ReportRow("A_1", "991234", None, None, "match")
    assert [name for name, _ in split_files(split_rows([], [cef]))] == ["bibprocessmerged.csv"]
    files = dict(split_files(split_rows([odd], [cef])))
    assert list(files) == ["bibprocessmerged.csv", "unknown_suffix.csv"]
    assert files["unknown_suffix.csv"].endswith(b"\nA_1,991234,,,match\n")


def test_O7_the_text_files_are_a_heading_and_one_value_a_line() -> None:
    column = OneColumn("MMS Id", ("991", "0992"))
    assert one_column_text(column) == b"MMS Id\n991\n0992\n"
    assert one_column_text(OneColumn("Incoming 035a", ())) == b"Incoming 035a\n"
