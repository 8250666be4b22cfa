"""The doublecheck: what the Network Zone's Alma Analytics knows of the DIFF ids (rule O5).

A doublecheck row is a Network Id with its OCLC control numbers (035 $a and $z), its
bibliographic lifecycle and the institutions that hold it. It comes from an xlsx export or from
the Analytics API (``adapters/oclc/workbooks_read.py``, ``adapters/oclc/analytics_doublecheck.py``);
both hand `rows_from_table` the same thing, a table of optional strings under its headings.

* Columns are found by heading, never by position (O5; fix: upstream mapped ``Column1…5`` by
  position and got ``analytics/OCLC-doublecheck_api_misaligned_833d31b.xlsx``). Headings are
  compared by their letters and digits only, case ignored (``Network ID``, ``network_id`` and
  ``035 $a`` are ``Network Id``, ``network id`` and ``035a``). `ACCEPTED_HEADINGS` lists the
  spellings: the manual export's and Alma's report headings, and the fake Alma's short ones.
  Other columns are ignored; ``Network Id`` and the 035 $a column are required, a missing one is
  `MissingHeading`, a column named twice `DuplicateHeading`.
* Multi-valued cells (035 $a, 035 $z, institutions; Analytics joins them with ``"; "`` and
  ``" | "``) are split on ``;`` and ``|``; values are stripped and empty ones dropped, repeats
  and order kept. An empty cell is None or no values, never ``""``.
* Every value must be of its column's kind (`MisalignedColumn` names each column that holds
  others): a Network Id is ASCII digits; an OCLC number is digits, optionally behind
  ``(OCoLC)`` and ``ocm``/``ocn``/``on``; a lifecycle or an institution name has a letter and is
  not an OCLC number. A table whose cells were shifted into the wrong columns (institution
  names under 035 $z, as the misaligned export) is thereby refused rather than read wrong.

Values are kept as text exactly as the table gives them (stripped): OCLC numbers are not
normalised, so ``(OCoLC)123`` and ``123`` are different values to `doublecheck_index`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from domain.shared.errors import DomainError

__all__ = [
    "ACCEPTED_HEADINGS",
    "HEADINGS",
    "REQUIRED_COLUMNS",
    "Column",
    "DoublecheckRow",
    "DuplicateHeading",
    "MisalignedColumn",
    "MissingHeading",
    "OclcInputRefused",
    "WrongValues",
    "column_for",
    "doublecheck_index",
    "heading_key",
    "is_network_id",
    "rows_from_table",
    "split_values",
]


class Column(Enum):
    """The doublecheck's columns; the value is the canonical heading (the manual export's)."""

    NETWORK_ID = "Network Id"
    OCLC_035A = "OCLC Control Number (035a)"
    OCLC_035Z = "OCLC Control Number (035z)"
    LIFECYCLE = "Bibliographic Lifecycle"
    INSTITUTIONS = "Institution Name"


HEADINGS: tuple[str, ...] = tuple(column.value for column in Column)
"""The canonical headings, in the order of Alma's export."""

ACCEPTED_HEADINGS: Mapping[Column, tuple[str, ...]] = {
    Column.NETWORK_ID: ("Network Id",),
    Column.OCLC_035A: ("OCLC Control Number (035a)", "035a", "035 $a"),
    Column.OCLC_035Z: ("OCLC Control Number (035z)", "035z", "035 $z"),
    Column.LIFECYCLE: ("Bibliographic Lifecycle", "Lifecycle"),
    Column.INSTITUTIONS: ("Institution Name", "Institution", "Institutions"),
}
"""Every spelling of each heading that is accepted, compared by `heading_key`."""

REQUIRED_COLUMNS: tuple[Column, ...] = (Column.NETWORK_ID, Column.OCLC_035A)
"""What classification needs (O6); the other three are None or empty when absent."""

_MULTI_VALUED = frozenset({Column.OCLC_035A, Column.OCLC_035Z, Column.INSTITUTIONS})
_SEPARATORS = re.compile(r"[;|]")
_NON_KEY = re.compile(r"[^0-9a-z]+")
_DIGITS = re.compile(r"[0-9]+")
_OCLC_NUMBER = re.compile(r"(?:\(ocolc\))?(?:ocm|ocn|on)?[0-9]+", re.IGNORECASE)
_KINDS: Mapping[Column, str] = {
    Column.NETWORK_ID: "Network Ids (digits)",
    Column.OCLC_035A: "OCLC numbers",
    Column.OCLC_035Z: "OCLC numbers",
    Column.LIFECYCLE: "lifecycle words (such as In Repository)",
    Column.INSTITUTIONS: "institution names",
}
_SHOWN = 60
"""At most this many characters of a wrong value are quoted in a message."""


def heading_key(heading: str) -> str:
    """A heading as it is compared: case folded, letters and digits only."""
    return _NON_KEY.sub("", heading.casefold())


_BY_KEY: Mapping[str, Column] = {
    heading_key(spelling): column
    for column, spellings in ACCEPTED_HEADINGS.items()
    for spelling in spellings
}


def column_for(heading: str | None) -> Column | None:
    """The doublecheck column a heading names, None for any other heading (or none)."""
    if heading is None:
        return None
    return _BY_KEY.get(heading_key(heading))


def is_network_id(value: str) -> bool:
    """Whether ``value`` is a Network Id: ASCII digits only, leading zeros allowed."""
    return _DIGITS.fullmatch(value) is not None


def split_values(cell: str | None) -> tuple[str, ...]:
    """A multi-valued cell's values: split on ``;`` and ``|``, stripped, empty ones dropped."""
    if cell is None:
        return ()
    return tuple(part for part in (p.strip() for p in _SEPARATORS.split(cell)) if part)


@dataclass(frozen=True)
class DoublecheckRow:
    """What Analytics knows of one Network Id (O5)."""

    network_id: str
    oclc_035a: tuple[str, ...] = ()
    oclc_035z: tuple[str, ...] = ()
    lifecycle: str | None = None
    institutions: tuple[str, ...] = ()


class OclcInputRefused(DomainError):
    """An input of the OCLC data-sync merge cannot be used (rule B2): the message is one
    sentence naming the file or report (``source``). The adapters' workbook errors are of this
    kind too, so a use case catches one type."""

    def __init__(self, sentence: str, *, source: str) -> None:
        super().__init__(sentence)
        self.source = source


class MissingHeading(OclcInputRefused):
    """The table lacks a required column: ``headings`` are the canonical headings missing."""

    def __init__(self, headings: Sequence[str], *, source: str) -> None:
        named = " and ".join(f"'{h}'" for h in headings)
        super().__init__(
            f"{source} has no {named} column (headings are matched by name, in any order)",
            source=source,
        )
        self.headings = tuple(headings)

    @property
    def heading(self) -> str:
        """The first heading missing."""
        return self.headings[0]


class DuplicateHeading(OclcInputRefused):
    """Two columns of the table name the same doublecheck column."""

    def __init__(self, first: str, second: str, *, source: str) -> None:
        super().__init__(
            f"{source} has two columns for the same values, '{first}' and '{second}'",
            source=source,
        )
        self.headings = (first, second)


@dataclass(frozen=True)
class WrongValues:
    """A column's values that are not of its kind: in how many rows, and the first one."""

    column: str
    kind: str
    count: int
    row: int
    value: str


class MisalignedColumn(OclcInputRefused):
    """Values not of their column's kind (institution names under 035 $z, …): the table's
    columns are shifted or mislabelled. ``columns`` are the headings as the table spells them,
    in the table's order; ``column`` is the first."""

    def __init__(self, wrong: Sequence[WrongValues], *, source: str) -> None:
        parts = [
            f"'{w.column}' holds values that are not {w.kind} in {w.count} row(s)"
            f" (the first in row {w.row}: {_shown(w.value)})"
            for w in wrong
        ]
        super().__init__(
            f"{source} is refused because its columns do not line up: {'; '.join(parts)}",
            source=source,
        )
        self.wrong = tuple(wrong)
        self.columns = tuple(w.column for w in wrong)

    @property
    def column(self) -> str:
        """The first column whose values are of the wrong kind."""
        return self.columns[0]


def _shown(value: str) -> str:
    if not value:
        return "an empty cell"
    return f"'{value}'" if len(value) <= _SHOWN else f"'{value[: _SHOWN - 1]}…'"


def _fits(column: Column, value: str) -> bool:
    if column is Column.NETWORK_ID:
        return is_network_id(value)
    if column in (Column.OCLC_035A, Column.OCLC_035Z):
        return _OCLC_NUMBER.fullmatch(value) is not None
    return any(ch.isalpha() for ch in value) and _OCLC_NUMBER.fullmatch(value) is None


def _locate(headings: Sequence[str | None], source: str) -> dict[Column, int]:
    found: dict[Column, int] = {}
    for index, heading in enumerate(headings):
        column = column_for(heading)
        if column is None:
            continue
        if column in found:
            raise DuplicateHeading(str(headings[found[column]]), str(heading), source=source)
        found[column] = index
    missing = [c.value for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise MissingHeading(missing, source=source)
    return found


class _Tally:
    """The rows of one column holding a wrong value, as they are met."""

    def __init__(self, heading: str, column: Column) -> None:
        self.heading = heading
        self.column = column
        self.count = 0
        self.first: tuple[int, str] | None = None

    def note(self, row: int, value: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = (row, value)


def rows_from_table(
    headings: Sequence[str | None],
    rows: Iterable[Sequence[str | None]],
    *,
    source: str = "the doublecheck",
    first_row: int = 1,
) -> tuple[DoublecheckRow, ...]:
    """The doublecheck rows of a table (rule O5), in the table's order.

    ``headings`` name the columns (None: a column without a heading); each row holds a cell per
    heading (a short row's missing cells are empty, extra cells are ignored). A row whose
    doublecheck cells are all empty is skipped. ``source`` names the table in errors (a file
    name, a report path) and ``first_row`` is the number of the first row there (2 in a sheet
    under its heading row).

    `MissingHeading` or `DuplicateHeading` for the headings; `MisalignedColumn` when a value is
    not of its column's kind, naming every such column.
    """
    located = _locate(headings, source)
    tallies = {column: _Tally(str(headings[index]), column) for column, index in located.items()}
    made: list[DoublecheckRow] = []
    for number, row in enumerate(rows, start=first_row):
        cells: dict[Column, str | None] = {}
        for column, index in located.items():
            raw = row[index] if index < len(row) else None
            text = raw.strip() if raw is not None else ""
            cells[column] = text or None
        if all(value is None for value in cells.values()):
            continue
        values = {
            column: split_values(cell) if column in _MULTI_VALUED else (cell,) if cell else ()
            for column, cell in cells.items()
        }
        for column, found in values.items():
            misfit = next((value for value in found if not _fits(column, value)), None)
            if misfit is not None:
                tallies[column].note(number, misfit)
        network_id = cells[Column.NETWORK_ID]
        if network_id is None:
            tallies[Column.NETWORK_ID].note(number, "")
            continue
        made.append(
            DoublecheckRow(
                network_id=network_id,
                oclc_035a=values[Column.OCLC_035A],
                oclc_035z=values.get(Column.OCLC_035Z, ()),
                lifecycle=cells.get(Column.LIFECYCLE),
                institutions=values.get(Column.INSTITUTIONS, ()),
            )
        )
    wrong = [
        WrongValues(t.heading, _KINDS[t.column], t.count, *t.first)
        for _, t in sorted(tallies.items(), key=lambda item: located[item[0]])
        if t.first is not None
    ]
    if wrong:
        raise MisalignedColumn(wrong, source=source)
    return tuple(made)


def doublecheck_index(rows: Iterable[DoublecheckRow]) -> Mapping[str, frozenset[str]]:
    """Network Id → the 035 $a values Analytics holds for it (O6 asks whether the incoming
    number is among them). A Network Id on several rows gets the values of all of them; one
    with no 035 $a maps to the empty set, so "known to Analytics" and "has that number" stay
    two questions."""
    index: dict[str, set[str]] = {}
    for row in rows:
        index.setdefault(row.network_id, set()).update(row.oclc_035a)
    return {network_id: frozenset(values) for network_id, values in index.items()}
