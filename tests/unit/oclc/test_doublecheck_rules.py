"""Rule O5: the doublecheck's table by heading, its multi-valued cells, and the value-kind check
that refuses a misaligned table (``domain/oclc/doublecheck.py``). No fixtures: the reference
exports are read in ``tests/integration/oclc/test_workbooks.py``."""

from __future__ import annotations

import pytest

from domain.oclc.doublecheck import (
    ACCEPTED_HEADINGS,
    HEADINGS,
    Column,
    DoublecheckRow,
    DuplicateHeading,
    MisalignedColumn,
    MissingHeading,
    OclcInputRefused,
    column_for,
    doublecheck_index,
    heading_key,
    is_network_id,
    rows_from_table,
    split_values,
)
from domain.shared.errors import DomainError

EXPORT_ROW = [
    "991467656005151",
    "957241956",
    "982341751; 982398190",
    "In Repository",
    "Carleton University | Queen's University",
]


def test_O5_the_canonical_headings_are_the_exports_in_its_order() -> None:
    assert HEADINGS == (
        "Network Id",
        "OCLC Control Number (035a)",
        "OCLC Control Number (035z)",
        "Bibliographic Lifecycle",
        "Institution Name",
    )
    assert all(ACCEPTED_HEADINGS[c][0] == c.value for c in Column)


@pytest.mark.parametrize(
    ("heading", "column"),
    [
        ("Network Id", Column.NETWORK_ID),
        ("Network ID", Column.NETWORK_ID),
        (" network_id ", Column.NETWORK_ID),
        ("OCLC Control Number (035a)", Column.OCLC_035A),
        ("035a", Column.OCLC_035A),
        ("035 $a", Column.OCLC_035A),
        ("oclc control number (035z)", Column.OCLC_035Z),
        ("035z", Column.OCLC_035Z),
        ("Lifecycle", Column.LIFECYCLE),
        ("Bibliographic Lifecycle", Column.LIFECYCLE),
        ("Institution Name", Column.INSTITUTIONS),
        ("Institutions", Column.INSTITUTIONS),
        ("MMS Id", None),
        ("Column3", None),
        (None, None),
    ],
)
def test_O5_headings_are_matched_by_letters_and_digits_case_ignored(
    heading: str | None, column: Column | None
) -> None:
    assert column_for(heading) is column


def test_O5_heading_key_keeps_letters_and_digits() -> None:
    assert heading_key("OCLC Control Number (035a)") == "oclccontrolnumber035a"


def test_O5_multi_valued_cells_split_on_semicolon_and_bar_stripped_empties_dropped() -> None:
    assert split_values(None) == ()
    assert split_values("") == ()
    assert split_values(" a; b |c;; | a ") == ("a", "b", "c", "a")


def test_O5_a_network_id_is_ascii_digits_leading_zeros_kept() -> None:
    assert is_network_id("0991234")
    assert not is_network_id("99 1234")
    assert not is_network_id("٣٣")  # Arabic-Indic digits are not an MMS id
    assert not is_network_id("")


def test_O5_rows_are_read_by_heading_in_any_order() -> None:
    ordered = rows_from_table(HEADINGS, [EXPORT_ROW])
    order = [4, 2, 0, 3, 1]
    shuffled = rows_from_table([HEADINGS[i] for i in order], [[EXPORT_ROW[i] for i in order]])

    assert (
        ordered
        == shuffled
        == (
            DoublecheckRow(
                network_id="991467656005151",
                oclc_035a=("957241956",),
                oclc_035z=("982341751", "982398190"),
                lifecycle="In Repository",
                institutions=("Carleton University", "Queen's University"),
            ),
        )
    )


def test_O5_empty_cells_are_none_or_no_values_and_blank_rows_are_skipped() -> None:
    rows = rows_from_table(
        [*HEADINGS, "Other"],
        [
            [" 991000005151 ", "", None, "  ", None, "ignored"],
            [None, " ", None, None, None, "a column not read"],
            ["991000015151"],  # a short row: the missing cells are empty
        ],
    )

    assert rows == (
        DoublecheckRow("991000005151"),
        DoublecheckRow("991000015151"),
    )


def test_O5_only_network_id_and_035a_are_required() -> None:
    rows = rows_from_table(["035 $a", None, "Network ID"], [["(OCoLC)ocm123; on45", "x", "9951"]])

    assert rows == (DoublecheckRow("9951", oclc_035a=("(OCoLC)ocm123", "on45")),)


@pytest.mark.parametrize(
    ("headings", "missing"),
    [
        (["OCLC Control Number (035a)", "Institution Name"], ("Network Id",)),
        (["Network Id", "035z"], ("OCLC Control Number (035a)",)),
        ([], ("Network Id", "OCLC Control Number (035a)")),
    ],
)
def test_O5_a_missing_required_heading_is_refused_by_name(
    headings: list[str], missing: tuple[str, ...]
) -> None:
    with pytest.raises(MissingHeading) as caught:
        rows_from_table(headings, [], source="OCLC-doublecheck.xlsx")

    assert caught.value.headings == missing
    assert caught.value.heading == missing[0]
    assert caught.value.source == "OCLC-doublecheck.xlsx"
    assert str(caught.value).startswith("OCLC-doublecheck.xlsx has no 'Network Id'") == (
        missing[0] == "Network Id"
    )
    assert all(f"'{h}'" in str(caught.value) for h in missing)
    assert isinstance(caught.value, OclcInputRefused)
    assert isinstance(caught.value, DomainError)


def test_O5_two_columns_for_the_same_values_are_refused() -> None:
    with pytest.raises(DuplicateHeading) as caught:
        rows_from_table(["Network Id", "035a", "OCLC Control Number (035a)"], [])

    assert caught.value.headings == ("035a", "OCLC Control Number (035a)")
    assert str(caught.value) == (
        "the doublecheck has two columns for the same values, '035a' and "
        "'OCLC Control Number (035a)'"
    )


def test_O5_institution_names_under_035z_are_refused_naming_both_shifted_columns() -> None:
    # The misaligned export's shape: rows with an empty 035z got the institutions in it and
    # the 035z numbers under Institution Name.
    shifted = "Brock University | Carleton University"
    table = [
        ["991827114805151", "173807193", shifted, "In Repository", None],
        ["991881365705151", "809609497", "Carleton University", "In Repository", "503316285"],
        ["991881365705152", "809609498", "1234", "In Repository", "York University"],
    ]

    with pytest.raises(MisalignedColumn) as caught:
        rows_from_table(HEADINGS, table, source="OCLC-doublecheck.xlsx", first_row=2)

    error = caught.value
    assert error.column == "OCLC Control Number (035z)"
    assert error.columns == ("OCLC Control Number (035z)", "Institution Name")
    assert [(w.count, w.row, w.value) for w in error.wrong] == [
        (2, 2, "Brock University"),
        (1, 3, "503316285"),
    ]
    assert str(error) == (
        "OCLC-doublecheck.xlsx is refused because its columns do not line up:"
        " 'OCLC Control Number (035z)' holds values that are not OCLC numbers in 2 row(s)"
        " (the first in row 2: 'Brock University');"
        " 'Institution Name' holds values that are not institution names in 1 row(s)"
        " (the first in row 3: '503316285')"
    )


def test_O5_columns_are_named_as_the_table_spells_them_in_its_order() -> None:
    with pytest.raises(MisalignedColumn) as caught:
        rows_from_table(
            ["Lifecycle", "035a", "Network Id"],
            [["12345", "Western University", "99x5151"]],
        )

    assert caught.value.columns == ("Lifecycle", "035a", "Network Id")
    assert [w.kind for w in caught.value.wrong] == [
        "lifecycle words (such as In Repository)",
        "OCLC numbers",
        "Network Ids (digits)",
    ]


def test_O5_a_row_without_a_network_id_is_refused() -> None:
    with pytest.raises(MisalignedColumn) as caught:
        rows_from_table(HEADINGS, [[None, "957241956", None, "In Repository", None]])

    assert caught.value.column == "Network Id"
    assert "(the first in row 1: an empty cell)" in str(caught.value)


def test_O5_a_long_wrong_value_is_shortened_in_the_message() -> None:
    long_name = "University " * 10

    with pytest.raises(MisalignedColumn) as caught:
        rows_from_table(HEADINGS, [["9951", long_name, None, None, None]])

    assert caught.value.wrong[0].value == long_name.strip()
    assert f"'{long_name[:59]}…'" in str(caught.value)


@pytest.mark.parametrize("value", ["(OCoLC)123", "ocn123", "(ocolc)on1", "00123"])
def test_O5_oclc_numbers_may_carry_their_prefixes(value: str) -> None:
    assert rows_from_table(["Network Id", "035a"], [["9951", value]])[0].oclc_035a == (value,)


@pytest.mark.parametrize("value", ["(OCoLC)", "OCLC 123", "12-34", "1.5"])
def test_O5_other_035_values_are_not_oclc_numbers(value: str) -> None:
    with pytest.raises(MisalignedColumn):
        rows_from_table(["Network Id", "035z", "035a"], [["9951", value, None]])


@pytest.mark.parametrize("value", ["(OCoLC)123", "123", "--"])
def test_O5_names_need_a_letter_and_are_not_oclc_numbers(value: str) -> None:
    with pytest.raises(MisalignedColumn) as caught:
        rows_from_table(["Network Id", "035a", "Institution"], [["9951", None, value]])

    assert caught.value.columns == ("Institution",)


def test_O5_the_index_maps_each_network_id_to_its_035a_values() -> None:
    rows = [
        DoublecheckRow("1", oclc_035a=("a", "b")),
        DoublecheckRow("2"),
        DoublecheckRow("1", oclc_035a=("c",), oclc_035z=("z",)),
    ]

    assert doublecheck_index(rows) == {
        "1": frozenset({"a", "b", "c"}),
        "2": frozenset(),
    }
    assert doublecheck_index([]) == {}
