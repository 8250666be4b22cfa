"""The OCLC merge's workbooks and its doublecheck from both sources (rules O4–O7, B2, B3):
``adapters/oclc/workbooks*.py`` and ``adapters/oclc/analytics_doublecheck.py``.

* The manual Analytics export (``analytics/OCLC-doublecheck_manual_export_642c02a.xlsx``) reads
  into its 123 rows; the same rows served by the fake Alma's Analytics (memory twin and HTTP
  adapter over the fake app, as ``tests/integration/alma_roles/support.py`` builds them) in pages
  of 25, columns in another order, empty cells left out, give the same doublecheck.
* The misaligned export is refused naming the column; headings in another order are accepted;
  the do-not-change workbook needs its ``Network Id`` column; a CSV renamed ``.xlsx`` is refused
  in one sentence; an unknown report path is the port's `ReportNotFound`.
* A page still loading is asked again with the same token: the contract suite proves it on both
  backends (``tests/integration/alma_roles/test_analytics.py``,
  ``test_still_loading_after_the_first_page_asks_again_with_the_token``); here it only has to
  give the same doublecheck.
* The writer gives ``expected_outputs_833d31b/comparison_file_IZ.xlsx``'s cells, every one text.
"""

from __future__ import annotations

import csv
import warnings
import zipfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adapters.oclc import workbooks_write
from adapters.oclc.analytics_doublecheck import (
    DIFF_CHUNK,
    network_id_filter,
    read_analytics_doublecheck,
)
from adapters.oclc.workbooks import (
    COMPARISON_FILE,
    DOUBLECHECK_HEADERS,
    FOR_IMPORT_FILE,
    REPORT_ROW_HEADERS,
    REPORT_SHEETS,
    BadIdCell,
    MissingColumn,
    NotAnXlsx,
    Row,
    SheetRows,
    SheetTooLong,
    WorkbookMissing,
    cell_text,
    read_do_not_change,
    read_doublecheck,
    write_comparison,
    write_for_import,
    write_identifier_report,
)
from application.ports.alma.analytics import ReportNotFound
from domain.oclc.doublecheck import (
    HEADINGS,
    DoublecheckRow,
    MisalignedColumn,
    MissingHeading,
    OclcInputRefused,
    doublecheck_index,
)
from tests.conftest import SHARED_REFERENCE
from tests.integration.alma_roles.support import AB, BACKENDS, BackendName, open_roles

REFERENCE = SHARED_REFERENCE / "joint_oclc_data_sync"
MANUAL = REFERENCE / "analytics" / "OCLC-doublecheck_manual_export_642c02a.xlsx"
MISALIGNED = REFERENCE / "analytics" / "OCLC-doublecheck_api_misaligned_833d31b.xlsx"
DO_NOT_CHANGE = REFERENCE / "inputs" / "Do_not_change.xlsx"
DO_NOT_CHANGE_ERNIEEJO = REFERENCE / "inputs" / "Do_not_change_ernieejo.xlsx"
EXPECTED = REFERENCE / "expected_outputs_833d31b"
PATH = "/shared/UTON Network 01OCUL_NETWORK/Reports/OCLC Identifiers/OCLC-doublecheck"
COLUMN_ORDER = [HEADINGS[i] for i in (3, 4, 2, 0, 1)]


def sheet_values(path: Path) -> list[list[Any]]:
    """The first sheet's cell values, row by row (for tests that rebuild a workbook)."""
    with warnings.catch_warnings():
        # openpyxl warns about the manual export's missing default style; cells are what count.
        warnings.filterwarnings("ignore", "Workbook contains no default style", UserWarning)
        workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def write_sheet(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    """A workbook of one sheet written by openpyxl (not by the adapter under test)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def export_rows() -> list[dict[str, str]]:
    """The manual export's rows as the fake's report rows: heading → text, empty as ``""``."""
    headings, *rows = sheet_values(MANUAL)
    assert tuple(headings) == HEADINGS
    return [{h: v or "" for h, v in zip(HEADINGS, row, strict=True)} for row in rows]


# ---- the doublecheck export ------------------------------------------------------------------


def test_O5_the_manual_export_reads_into_its_123_rows() -> None:
    rows = read_doublecheck(MANUAL)

    assert len(rows) == 123
    assert rows[0] == DoublecheckRow(
        network_id="991417914705151",
        oclc_035a=("1124289370", "150608888"),
        lifecycle="In Repository",
        institutions=("Carleton University",),
    )
    assert rows[2].oclc_035z == (
        "982341751",
        "982398190",
        "982600160",
        "982818491",
        "982987666",
        "983239140",
        "983485838",
    )
    assert max(len(r.institutions) for r in rows) == 9
    assert sum(1 for r in rows if not r.oclc_035a) == 9
    assert sum(1 for r in rows if len(r.oclc_035a) > 1) == 5
    assert sum(1 for r in rows if r.oclc_035z) == 13
    index = doublecheck_index(rows)
    assert len(index) == 123
    assert index["994538420605151"] == frozenset()  # known to Analytics, no 035a


def test_O5_the_misaligned_export_is_refused_naming_the_column() -> None:
    with pytest.raises(MisalignedColumn) as caught:
        read_doublecheck(MISALIGNED)

    error = caught.value
    assert error.column == "OCLC Control Number (035z)"
    assert error.columns == ("OCLC Control Number (035z)", "Institution Name")
    assert str(error).startswith(f"{MISALIGNED} is refused because its columns do not line up:")
    assert [(w.count, w.row, w.value) for w in error.wrong] == [
        (38, 2, "Brock University"),
        (27, 3, "503316285"),
    ]
    assert "'OCLC Control Number (035z)' holds values that are not OCLC numbers in 38 row(s)" in (
        str(error)
    )
    assert error.wrong[0].row == 2  # the sheet's row, under the heading row
    assert isinstance(error, OclcInputRefused)


def test_O5_a_doublecheck_with_its_headings_in_another_order_is_accepted(tmp_path: Path) -> None:
    headings, *rows = sheet_values(MANUAL)
    order = [4, 2, 0, 3, 1]
    respelled = {"Network Id": "Network ID", "OCLC Control Number (035a)": "035 $a"}
    new_headings = ["Notes"] + [respelled.get(headings[i], headings[i]) for i in order]
    new_rows = [["anything"] + [row[i] for i in order] for row in rows]

    moved = write_sheet(tmp_path / "OCLC-doublecheck.xlsx", [new_headings, *new_rows])

    assert read_doublecheck(moved) == read_doublecheck(MANUAL)


def test_O5_a_doublecheck_without_its_035a_column_is_refused_naming_it(tmp_path: Path) -> None:
    headings, *rows = sheet_values(MANUAL)
    cut = write_sheet(tmp_path / "cut.xlsx", [r[:1] + r[2:] for r in [headings, *rows]])

    with pytest.raises(MissingHeading) as caught:
        read_doublecheck(cut)

    assert caught.value.heading == "OCLC Control Number (035a)"
    assert str(caught.value).startswith(f"{cut} has no 'OCLC Control Number (035a)' column")


# ---- the same rows from the fake Alma's Analytics --------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("asked", "chunk_size", "loading"),
    [("all ids", DIFF_CHUNK, 0), ("all ids", None, 0), ("no ids", DIFF_CHUNK, 2)],
    ids=["chunks of DIFF ids", "one unfiltered read", "whole report, still loading twice"],
)
async def test_O5_the_fake_analytics_serving_the_export_gives_the_same_doublecheck(
    backend: BackendName, asked: str, chunk_size: int | None, loading: int
) -> None:
    expected = read_doublecheck(MANUAL)
    ids = [row.network_id for row in expected] if asked == "all ids" else None
    async with open_roles(backend) as roles:
        roles.state.add_report(
            AB,
            PATH,
            HEADINGS,
            export_rows(),
            page_size=25,
            column_order=COLUMN_ORDER,
            omit_empty=True,
            still_loading_polls=loading,
            still_loading_after_page=1,
        )

        got = await read_analytics_doublecheck(
            roles.analytics(), PATH, ids, chunk_size=chunk_size, page_size=25
        )
        calls = roles.calls("/analytics/reports")

    assert got == expected
    assert doublecheck_index(got) == doublecheck_index(expected)
    if backend == "http":
        reads = 3 if ids is not None and chunk_size else 1  # 123 ids in chunks of 50
        assert len(calls) == reads * (5 + loading)  # 123 rows in pages of 25
        firsts = [c for c in calls if c.param("path") == PATH]
        assert [c.param("limit") for c in firsts] == ["25"] * reads
        if reads == 3:
            assert ids is not None
            assert [c.param("filter") for c in firsts] == [
                network_id_filter(ids[i : i + DIFF_CHUNK]) for i in (0, 50, 100)
            ]
        else:
            assert all(c.param("filter") is None for c in calls)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_O5_only_the_diff_ids_asked_are_kept(backend: BackendName) -> None:
    # The fake, as Alma without an "is prompted" Network Id, does not apply the filter.
    expected = read_doublecheck(MANUAL)
    asked = [expected[7].network_id, "991000000005151", expected[3].network_id]
    async with open_roles(backend) as roles:
        roles.state.add_report(AB, PATH, HEADINGS, export_rows(), page_size=25)
        reader = roles.analytics()

        got = await read_analytics_doublecheck(reader, PATH, asked, chunk_size=2)
        nothing = [
            await read_analytics_doublecheck(reader, PATH, [], chunk_size=size)
            for size in (DIFF_CHUNK, None)
        ]
        calls = roles.calls("/analytics/reports")

    assert got == (expected[7], expected[3])  # chunk by chunk, as asked
    assert nothing == [(), ()]  # and no call for no ids
    if backend == "http":
        assert len(calls) == 2 * 5  # two chunks, each the whole report in pages of 25


def test_O5_the_filter_is_an_obi_in_list_on_the_network_id() -> None:
    assert network_id_filter(["1", "2&3"], '"T"."Network Id"') == (
        '<sawx:expr xsi:type="sawx:list" op="in"'
        ' xmlns:saw="com.siebel.analytics.web/report/v1.1"'
        ' xmlns:sawx="com.siebel.analytics.web/expression/v1.1"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
        '<sawx:expr xsi:type="sawx:sqlExpression">"T"."Network Id"</sawx:expr>'
        '<sawx:expr xsi:type="xsd:string">1</sawx:expr>'
        '<sawx:expr xsi:type="xsd:string">2&amp;3</sawx:expr></sawx:expr>'
    )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_O5_the_misaligned_rows_from_analytics_are_refused_too(
    backend: BackendName,
) -> None:
    headings, *rows = sheet_values(MISALIGNED)
    served = [{h: v or "" for h, v in zip(headings, row, strict=True)} for row in rows]
    async with open_roles(backend) as roles:
        roles.state.add_report(AB, PATH, headings, served, page_size=25)

        with pytest.raises(MisalignedColumn) as caught:
            await read_analytics_doublecheck(roles.analytics(), PATH, chunk_size=None)

    assert caught.value.column == "OCLC Control Number (035z)"
    assert str(caught.value).startswith(f"Analytics report {PATH} is refused")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_O5_an_analytics_report_without_a_network_id_column_is_refused(
    backend: BackendName,
) -> None:
    async with open_roles(backend) as roles:
        roles.state.add_report(AB, PATH, ["MMS Id", "035a"], [{"MMS Id": "1", "035a": "2"}])

        with pytest.raises(MissingHeading) as caught:
            await read_analytics_doublecheck(roles.analytics(), PATH, ["1"])

    assert caught.value.heading == "Network Id"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_O5_an_analytics_path_that_does_not_exist_is_report_not_found(
    backend: BackendName,
) -> None:
    # Alma's "Path not found (…)"; its shape and the error's facts are the contract suite's.
    async with open_roles(backend) as roles:
        with pytest.raises(ReportNotFound) as caught:
            await read_analytics_doublecheck(roles.analytics(), "/shared/nothing", ["1"])

    assert caught.value.error_message == "Path not found (/shared/nothing)"


async def test_O5_a_chunk_size_below_one_is_refused() -> None:
    async with open_roles("memory") as roles:
        with pytest.raises(ValueError, match="chunk_size"):
            await read_analytics_doublecheck(roles.analytics(), PATH, ["1"], chunk_size=0)


# ---- the do-not-change workbook --------------------------------------------------------------


def test_O6_the_do_not_change_template_holds_no_ids() -> None:
    assert read_do_not_change(DO_NOT_CHANGE) == frozenset()


def test_O6_a_do_not_change_workbook_without_network_id_is_refused_naming_it() -> None:
    # ernieejo's template heads its one column MMS_IZ.
    with pytest.raises(MissingColumn) as caught:
        read_do_not_change(DO_NOT_CHANGE_ERNIEEJO)

    assert caught.value.column == "Network Id"
    assert str(caught.value) == (
        f"{DO_NOT_CHANGE_ERNIEEJO} has no 'Network Id' column in its first row"
        " (headings found: 'MMS_IZ')"
    )
    assert isinstance(caught.value, OclcInputRefused)


def test_O6_an_empty_do_not_change_sheet_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MissingColumn, match=r"\(headings found: none\)"):
        read_do_not_change(write_sheet(tmp_path / "empty.xlsx", []))


def test_O6_O7_do_not_change_ids_are_text_exactly(tmp_path: Path) -> None:
    path = write_sheet(
        tmp_path / "Do_not_change.xlsx",
        [
            ["Note", "Network ID"],
            ["", "Add your MMS ID here"],
            ["kept as typed", "0991234"],
            ["spaces around", " 991417914705151 "],
            ["a number", 991417914705153],
            ["a whole float", 991417914705152.0],
            ["empty", None],
            ["short row"],
        ],
    )

    assert read_do_not_change(path) == frozenset(
        {"0991234", "991417914705151", "991417914705153", "991417914705152"}
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (9912345678905151, "the number 9912345678905152 has more than 15 digits"),
        (9912345678905150, "the number 9912345678905150 has more than 15 digits"),
        (9.912345678905151e16, "so its last digits may have been lost"),
        (1.5, "has a fraction"),
        ("99-12", "'99-12' is not a Network Id (digits only)"),
        (True, "'True' is not a Network Id"),
    ],
)
def test_O7_a_do_not_change_id_that_is_not_exact_text_is_refused(
    tmp_path: Path, value: object, reason: str
) -> None:
    path = write_sheet(tmp_path / "dnc.xlsx", [["Network Id"], ["991"], [value]])

    with pytest.raises(BadIdCell) as caught:
        read_do_not_change(path)

    assert caught.value.cell == "A3"
    assert str(caught.value).startswith(f"{path} cell A3 is refused: ")
    assert reason in str(caught.value)


def test_O7_a_doublecheck_number_that_lost_digits_is_refused(tmp_path: Path) -> None:
    path = write_sheet(tmp_path / "dc.xlsx", [["Network Id", "035a"], [9912345678905100, "1"]])

    with pytest.raises(BadIdCell, match="cell A2 is refused"):
        read_doublecheck(path)


def test_O7_numbers_become_their_digits_only_when_exact() -> None:
    # openpyxl gives an int for a cell stored without '.' or 'E', a float otherwise.
    assert cell_text(None) is None
    assert cell_text(" 0991 ") == " 0991 "
    assert cell_text(991417914705151) == "991417914705151"
    assert cell_text(9.91417914705151e14) == "991417914705151"
    assert cell_text(999_999_999_999_999) == "999999999999999"  # 15 digits: exact
    assert cell_text(date(2025, 6, 5)) == "2025-06-05"  # for the caller's checks to refuse


# ---- files that are not xlsx workbooks -------------------------------------------------------


@pytest.mark.parametrize("reader", [read_do_not_change, read_doublecheck])
def test_B2_a_csv_renamed_xlsx_is_refused_in_one_sentence(tmp_path: Path, reader: Any) -> None:
    renamed = tmp_path / "OCLC-doublecheck.xlsx"
    renamed.write_text("Network Id,OCLC Control Number (035a)\n991417914705151,1\n")

    with pytest.raises(NotAnXlsx) as caught:
        reader(renamed)

    sentence = str(caught.value)
    assert sentence == (
        f"{renamed} is not an xlsx workbook (not a zip archive; a CSV or text file renamed"
        " .xlsx?): save it from Excel as an .xlsx workbook"
    )
    assert "\n" not in sentence
    assert ". " not in sentence.replace(".xlsx", "")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "an Excel 97-2003 .xls file"),
        (b"", "not a zip archive"),
        (None, "a zip archive without an Excel workbook in it"),
    ],
    ids=["xls", "empty file", "zip without a workbook"],
)
def test_B2_other_files_that_are_not_xlsx_are_refused(
    tmp_path: Path, content: bytes | None, says: str
) -> None:
    path = tmp_path / "Do_not_change.xlsx"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("hello.txt", "not a workbook")
    else:
        path.write_bytes(content)

    with pytest.raises(NotAnXlsx, match=says):
        read_do_not_change(path)


def test_B2_a_workbook_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkbookMissing, match="does not exist"):
        read_doublecheck(tmp_path / "absent.xlsx")
    with pytest.raises(WorkbookMissing, match="cannot be read"):
        read_doublecheck(tmp_path)


# ---- writing ---------------------------------------------------------------------------------


def nz_rows() -> tuple[list[Row], list[Row]]:
    """The expected CSV's NZ rows split as O4 (Existing vs Incoming 035a, as text)."""
    with (EXPECTED / "bibprocessmerged.csv").open(newline="", encoding="utf-8") as handle:
        header, *rows = csv.reader(handle)
    assert tuple(header) == REPORT_ROW_HEADERS
    cells: list[Row] = [[value or None for value in row] for row in rows]
    diff = [row for row in cells if row[2] != row[3]]
    same = [row for row in cells if row[2] == row[3]]
    return diff, same


def as_text(value: object) -> str | None:
    """A cell as text: upstream wrote its OCLC numbers as numbers (the fix O7 makes)."""
    return None if value is None else str(value)


def test_O4_O7_the_comparison_file_has_the_expected_cells_every_one_text(tmp_path: Path) -> None:
    diff, same = nz_rows()

    written = write_comparison(tmp_path, diff, same)

    assert written == tmp_path / COMPARISON_FILE
    ours = openpyxl.load_workbook(written)
    theirs = openpyxl.load_workbook(EXPECTED / COMPARISON_FILE)
    assert ours.sheetnames == theirs.sheetnames == ["DIFF", "SAME"]
    for name in ours.sheetnames:
        mine = [[c.value for c in row] for row in ours[name].iter_rows()]
        expected = [[as_text(v) for v in row] for row in theirs[name].iter_rows(values_only=True)]
        assert mine == expected, name
        assert all(
            cell.data_type == "s" for row in ours[name].iter_rows() for cell in row if cell.value
        )
    assert (ours["DIFF"].max_row, ours["SAME"].max_row) == (1 + 129, 1 + 2109)
    assert [p.name for p in tmp_path.iterdir()] == [COMPARISON_FILE]


def test_B3_the_same_rows_give_the_same_bytes(tmp_path: Path) -> None:
    diff, same = nz_rows()
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()

    first = write_comparison(tmp_path / "one", diff, same)
    second = write_comparison(tmp_path / "two", diff, same)

    assert first.read_bytes() == second.read_bytes()
    workbook = openpyxl.load_workbook(first)
    assert workbook.properties.created == workbooks_write.CREATED


ODD_VALUES = (
    "a&b",
    "<r>x</r>",
    " leading",
    "trailing ",
    "tab\tinside",
    "line\nbreak",
    "_x0041_",
    "control\x01",
    'quote"d',
    "Ünïcödé",
    "\ufffe",
    "x" * 20_000,
    "",
    None,
    "0123",
)


def test_B3_plain_rows_give_the_bytes_xlsxwriter_gives_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The short cut for rows of plain text (`workbooks_write._PlainRows`) writes what
    xlsxwriter writes through ``write_string``: plain rows, rows of odd values (escaped,
    spaced, too long for the short cut), empty and short rows, mixed in any order."""
    rows: list[Row] = []
    for number in range(400):
        if number % 9 == 0:
            rows.append(tuple(ODD_VALUES[(number + k) % len(ODD_VALUES)] for k in range(5)))
        elif number % 13 == 0:
            rows.append((None,) * 5)
        elif number % 17 == 0:
            rows.append(("short", None, "row"))
        else:
            rows.append(
                (f"CEF_1::bib::{number}", f"99{number:07d}5151", str(number), None, "match")
            )
    sheets = [SheetRows(name, (*REPORT_ROW_HEADERS, "x", "y"), rows) for name in REPORT_SHEETS]

    def write(folder: Path) -> tuple[bytes, bytes]:
        folder.mkdir()
        comparison = write_comparison(folder, rows, rows[::-1])
        report = write_identifier_report(folder, date(2025, 5, 24), sheets)
        return comparison.read_bytes(), report.read_bytes()

    fast = write(tmp_path / "fast")
    monkeypatch.setattr(workbooks_write._PlainRows, "of", classmethod(lambda *_: None))
    assert write(tmp_path / "cell_by_cell") == fast


def test_O6_O7_the_identifier_report_has_its_sheets_in_order(tmp_path: Path) -> None:
    update = ["UWO_1::bib::1", "991000005151", "1", "22", "match", "23", None, "In Repository", "X"]
    joined = (*REPORT_ROW_HEADERS, *DOUBLECHECK_HEADERS)
    conflicts = ("Institution", *REPORT_ROW_HEADERS)
    given = [
        SheetRows(
            "conflicts",
            conflicts,
            [["CEF", "CEF_1::bib::2", "991523164305151", "1", "1520924209", "create"]],
        ),
        SheetRows("update by job", joined, [update]),
        SheetRows("not in analytics", REPORT_ROW_HEADERS, []),
        SheetRows("do_not_change", REPORT_ROW_HEADERS, []),
        SheetRows("updated records", joined, []),
        SheetRows("records for review", joined, []),
    ]

    written = write_identifier_report(tmp_path, date(2025, 6, 5), given)

    assert written.name == "NZ-OCLC-Identifier-report_2025-06-05.xlsx"
    workbook = openpyxl.load_workbook(written)
    assert tuple(workbook.sheetnames) == REPORT_SHEETS
    assert [[c.value for c in r] for r in workbook["update by job"].iter_rows()] == [
        list(joined),
        update,
    ]
    assert [c.value for c in workbook["not in analytics"][1]] == list(REPORT_ROW_HEADERS)
    assert workbook["conflicts"]["C2"].value == "991523164305151"
    assert workbook["conflicts"]["C2"].data_type == "s"


def test_O7_the_identifier_report_refuses_sheets_it_does_not_know(tmp_path: Path) -> None:
    sheets = [SheetRows(name, ["a"], []) for name in REPORT_SHEETS]

    with pytest.raises(ValueError, match="the report's sheets are"):
        write_identifier_report(tmp_path, date(2025, 6, 5), sheets[:-1])
    with pytest.raises(ValueError, match="the report's sheets are"):
        write_identifier_report(tmp_path, date(2025, 6, 5), [*sheets, sheets[0]])
    assert list(tmp_path.iterdir()) == []


def test_O7_for_import_to_nz_has_001_and_035a_as_text(tmp_path: Path) -> None:
    written = write_for_import(tmp_path, [("991000005151", "1520929291"), ("0991", None)])

    assert written == tmp_path / FOR_IMPORT_FILE
    workbook = openpyxl.load_workbook(written)
    assert workbook.sheetnames == ["for_import_to_NZ"]
    rows = list(workbook["for_import_to_NZ"].iter_rows())
    assert [[c.value for c in r] for r in rows] == [
        ["001", "035 $a"],
        ["991000005151", "1520929291"],
        ["0991", None],
    ]
    assert {c.data_type for r in rows for c in r if c.value} == {"s"}


def test_B3_a_failed_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="at most 32,767 characters"):
        write_for_import(tmp_path, [("1", "x" * 40_000)])
    monkeypatch.setattr(workbooks_write, "MAX_SHEET_ROWS", 3)
    with pytest.raises(SheetTooLong, match="sheet DIFF has more than 2 rows"):
        write_comparison(tmp_path, [["a"]] * 3, [])

    assert list(tmp_path.iterdir()) == []
