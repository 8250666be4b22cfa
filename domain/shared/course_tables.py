"""The rule tables of L3 as data: campus and college to processing department, course-id and
course-code prefix overrides, and the term table (research §d). ASU's values are in
`domain.shared.asu_course_tables`; a deployment's own come from ``[course_loading]`` (rule B9).

In the shared domain, not in ``domain.courses``, because the workflows configuration (a shared
adapter, which imports no context) builds and validates them, as it builds OCLC's institutions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType


def _frozen(mapping: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class CampusRule:
    """The processing department of a course on one of ``campuses`` (L3).

    A college in ``colleges`` takes that department. Any other college takes ``department``;
    when ``department`` is None, the college is unknown for this campus: it takes the tables'
    ``college_fallback`` and is recorded (ASU's TEMPE: ``COURSE_UNIT``, logged upstream).
    """

    campuses: frozenset[str]
    department: str | None = None
    colleges: Mapping[str, str] = field(default_factory=_frozen)


class PrefixField(Enum):
    """Which CEM value a prefix override looks at."""

    COURSE_ID = "course_id"  # COURSE_ID: ASU's MUS… and SDO… overrides
    COURSE_CODE = "course_code"  # MYASU_COURSE_IDSTRING: ASU's DEV… override


@dataclass(frozen=True)
class PrefixOverride:
    """A processing department forced on every row whose ``field`` starts with one of
    ``prefixes``. Overrides apply in order after the campus rules; the last matching one wins."""

    field: PrefixField
    prefixes: tuple[str, ...]
    department: str


@dataclass(frozen=True)
class TermRule:
    """Alma terms for one CEM ``TERM`` value (1 spring, 4 summer, 7 fall at ASU).

    ``endings`` maps how the first ``-`` segment of the course code ends (``g``, ``gA``…) to an
    Alma term code; the longest matching ending wins.
    """

    term: str
    endings: Mapping[str, str] = field(default_factory=_frozen)


@dataclass(frozen=True)
class CourseTables:
    """Every table of L3, with the fallback each gives an unknown value (recorded)."""

    campus_rules: tuple[CampusRule, ...]
    campus_fallback: str
    """The department of a campus no rule names (ASU: ``HAYDEN``)."""
    college_fallback: str
    """The department of an unknown college on a campus whose rule has no ``department``."""
    overrides: tuple[PrefixOverride, ...] = ()
    terms: tuple[TermRule, ...] = ()
    term_fallback: str = ""
    """The Alma term of a TERM or course code the term table does not know (ASU: empty)."""
