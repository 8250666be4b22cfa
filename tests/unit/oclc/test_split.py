"""Rule O3 of the OCLC data-sync merge: rows split by Network Id suffix into the NZ, each
institution with at least one row, and unknown suffixes; the institutions table."""

from __future__ import annotations

import pytest

from domain.oclc.report_rows import ReportRow
from domain.oclc.split import (
    MERGED_FILE,
    NZ_SUFFIX,
    UNKNOWN_SUFFIX_FILE,
    Institution,
    InstitutionRows,
    Split,
    institution_problem,
    split_rows,
    suffix_problem,
    table_problems,
)
from domain.shared.errors import DomainError

CEF = Institution("Carleton University", "5153", "CEF")
UWO = Institution("Western University", "5163", "UWO")
BRX = Institution("Brock University", "5152", "BRX")


def row(network_id: str) -> ReportRow:
    return ReportRow("CEF_1_2::bib::3", network_id, None, "1", "match")


def test_O3_file_names_are_upstreams() -> None:
    assert (MERGED_FILE, UNKNOWN_SUFFIX_FILE) == ("bibprocessmerged.csv", "unknown_suffix.csv")
    assert CEF.file_name == "CEFbibprocess.csv"
    assert NZ_SUFFIX == "5151"


def test_O3_rows_go_to_the_nz_each_institution_or_unknown_in_merged_order() -> None:
    rows = [row("9915151"), row("9915153"), row("9925151"), row("9915163"), row("9919999")]
    split = split_rows(rows, [BRX, UWO, CEF])
    assert split == Split(
        nz=(row("9915151"), row("9925151")),
        institutions=(
            InstitutionRows(UWO, (row("9915163"),)),
            InstitutionRows(CEF, (row("9915153"),)),
        ),
        unknown=(row("9919999"),),
    )


def test_O3_an_institution_with_a_single_row_gets_its_file() -> None:
    (part,) = split_rows([row("9915153")], [CEF]).institutions
    assert part == InstitutionRows(CEF, (row("9915153"),))


def test_O3_the_nz_suffix_is_configurable() -> None:
    split = split_rows([row("9915151"), row("99106421")], [CEF], nz_suffix="6421")
    assert split.nz == (row("99106421"),)
    assert split.unknown == (row("9915151"),)


def test_O3_network_ids_are_compared_exactly_so_a_trailing_space_is_unknown() -> None:
    split = split_rows([row("9915151 "), row(" 09915151"), row("51")], [])
    assert split.nz == (row(" 09915151"),)
    assert split.unknown == (row("9915151 "), row("51"))


@pytest.mark.parametrize(
    ("name", "suffix", "code", "problem"),
    [
        ("Carleton", "5153", "CEF", None),
        ("Laurentian", "5165", "LU$", None),
        (" ", "5153", "CEF", "the name is empty"),
        ("Carleton", "515", "CEF", "the suffix '515' is not four digits"),
        ("Carleton", "5153 ", "CEF", "the suffix '5153 ' is not four digits"),
        ("Carleton", "٥١٥٣", "CEF", "the suffix '٥١٥٣' is not four digits"),
        ("Carleton", "5153", "../x", "the code '../x' is not an OCLC symbol"),
        ("Carleton", "5153", "", "the code '' is not an OCLC symbol"),
    ],
)
def test_O3_an_institution_needs_a_name_four_digits_and_a_symbol(
    name: str, suffix: str, code: str, problem: str | None
) -> None:
    found = institution_problem(name, suffix, code)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(problem)


def test_O3_a_bad_institution_cannot_be_built() -> None:
    with pytest.raises(DomainError, match="institution 'Brock': the suffix"):
        Institution("Brock", "52", "BRX")


def test_O3_the_suffix_rule() -> None:
    assert suffix_problem("5151") is None
    assert suffix_problem("51512") == "the suffix '51512' is not four digits"


def test_O3_an_ambiguous_table_names_each_entry() -> None:
    twin = Institution("Brock again", "5152", "brx")
    nz = Institution("Network", "5151", "NZ")
    assert table_problems([BRX, twin, nz]) == (
        "entry 2 (brx) has suffix 5152, as entry 1 has",
        "entry 2 (brx) has the code of entry 1",
        "entry 3 (NZ) has the Network Zone's suffix 5151",
    )
    assert table_problems([CEF], nz_suffix="51") == (
        "the Network Zone: the suffix '51' is not four digits",
    )
    assert table_problems([CEF, UWO, BRX]) == ()


def test_O3_splitting_with_an_ambiguous_table_is_refused() -> None:
    with pytest.raises(DomainError, match=r"ambiguous: entry 2 \(OTH\) has suffix 5153"):
        split_rows([], [CEF, Institution("Other", "5153", "OTH")])
