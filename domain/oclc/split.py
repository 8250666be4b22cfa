"""Rule O3: the merged rows split by the last four digits of their Network Id.

An Alma MMS id ends in the four digits of the institution that created it. Rows of the Network
Zone (``5151`` by default, configurable) go to ``bibprocessmerged.csv``; rows of an institution of
the institutions table go to ``{code}bibprocess.csv`` for every institution with at least one
row (fix: upstream writes them only for more than one); rows with any other ending go to
``unknown_suffix.csv`` (fix: upstream drops them). The Network Id is compared exactly as
written, so an id with a trailing space ends in no suffix and is unknown.

The institutions table is upstream's ``institutions.json``: a name, the 4-digit suffix
(``id``) and the OCLC symbol (``code``), which also names the institution's file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from domain.oclc.report_rows import ReportRow
from domain.shared.errors import DomainError

__all__ = [
    "MERGED_FILE",
    "NZ_SUFFIX",
    "UNKNOWN_SUFFIX_FILE",
    "Institution",
    "InstitutionRows",
    "Split",
    "institution_problem",
    "split_rows",
    "suffix_problem",
    "table_problems",
]

NZ_SUFFIX: Final = "5151"
"""The Network Zone's MMS id suffix at Collaborative Futures / OCUL (O3's default)."""
MERGED_FILE: Final = "bibprocessmerged.csv"
UNKNOWN_SUFFIX_FILE: Final = "unknown_suffix.csv"

_SUFFIX: Final = re.compile(r"[0-9]{4}")
# An OCLC symbol names a file: letters, digits and the few signs symbols use (``LU$``).
_CODE: Final = re.compile(r"[A-Za-z0-9$#@&+-]+")


def suffix_problem(suffix: str) -> str | None:
    """Rule O3: why ``suffix`` is not an MMS id suffix (four ASCII digits), or ``None``."""
    if _SUFFIX.fullmatch(suffix) is None:
        return f"the suffix {suffix!r} is not four digits"
    return None


def institution_problem(name: str, suffix: str, code: str) -> str | None:
    """Rule O3: why these cannot be an institution of the table, or ``None``: an empty name, a
    suffix that is not four digits, a code that cannot name a file (``{code}bibprocess.csv``)."""
    if not name.strip():
        return "the name is empty"
    problem = suffix_problem(suffix)
    if problem is not None:
        return problem
    if _CODE.fullmatch(code) is None:
        return (
            f"the code {code!r} is not an OCLC symbol (letters, digits and $ # @ & + - only, "
            f"as it names the file {code}bibprocess.csv)"
        )
    return None


@dataclass(frozen=True)
class Institution:
    """Rule O3: one row of the institutions table."""

    name: str
    suffix: str
    code: str

    def __post_init__(self) -> None:
        problem = institution_problem(self.name, self.suffix, self.code)
        if problem is not None:
            raise DomainError(f"institution {self.name!r}: {problem}")

    @property
    def file_name(self) -> str:
        """Rule O3: ``{code}bibprocess.csv``."""
        return f"{self.code}bibprocess.csv"


def table_problems(
    institutions: Sequence[Institution], *, nz_suffix: str = NZ_SUFFIX
) -> tuple[str, ...]:
    """Rule O3: what makes the table ambiguous, one sentence each: a suffix or a code given twice
    (case-insensitively for codes, as file names may be), or an institution with the Network
    Zone's suffix. Entries are named by their position, counted from 1."""
    problems: list[str] = []
    nz_problem = suffix_problem(nz_suffix)
    if nz_problem is not None:
        problems.append(f"the Network Zone: {nz_problem}")
    suffixes: dict[str, int] = {}
    codes: dict[str, int] = {}
    for number, institution in enumerate(institutions, start=1):
        label = f"entry {number} ({institution.code})"
        if institution.suffix == nz_suffix:
            problems.append(f"{label} has the Network Zone's suffix {nz_suffix}")
        earlier = suffixes.setdefault(institution.suffix, number)
        if earlier != number:
            problems.append(f"{label} has suffix {institution.suffix}, as entry {earlier} has")
        earlier = codes.setdefault(institution.code.casefold(), number)
        if earlier != number:
            problems.append(f"{label} has the code of entry {earlier}")
    return tuple(problems)


@dataclass(frozen=True)
class InstitutionRows:
    """Rule O3: one institution's rows, for ``{code}bibprocess.csv``."""

    institution: Institution
    rows: tuple[ReportRow, ...]


@dataclass(frozen=True)
class Split:
    """Rule O3: the Network Zone's rows, each institution's that has any (in the table's order),
    and the rows whose suffix is neither; every part keeps the merged order."""

    nz: tuple[ReportRow, ...]
    institutions: tuple[InstitutionRows, ...]
    unknown: tuple[ReportRow, ...]


def split_rows(
    rows: Iterable[ReportRow],
    institutions: Sequence[Institution],
    *,
    nz_suffix: str = NZ_SUFFIX,
) -> Split:
    """Rule O3: split ``rows`` (merged, O2) by Network Id suffix. The table must be free of
    `table_problems`; a `DomainError` names the first otherwise."""
    problems = table_problems(institutions, nz_suffix=nz_suffix)
    if problems:
        raise DomainError(f"the institutions table is ambiguous: {problems[0]}")
    by_suffix: dict[str, list[ReportRow]] = {i.suffix: [] for i in institutions}
    nz: list[ReportRow] = []
    unknown: list[ReportRow] = []
    for row in rows:
        suffix = row.network_id[-4:]
        if suffix == nz_suffix:
            nz.append(row)
        elif suffix in by_suffix:
            by_suffix[suffix].append(row)
        else:
            unknown.append(row)
    per_institution = tuple(
        InstitutionRows(institution, tuple(by_suffix[institution.suffix]))
        for institution in institutions
        if by_suffix[institution.suffix]
    )
    return Split(tuple(nz), per_institution, tuple(unknown))
