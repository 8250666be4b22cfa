"""ASU's rule tables for L3, exactly as research §d reads them out of scottythered/leganto.

A deployment without its own ``[course_loading]`` tables takes these (rule B9), so the example
configuration reproduces ASU's loader.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from domain.shared.course_tables import (
    CampusRule,
    CourseTables,
    PrefixField,
    PrefixOverride,
    TermRule,
)

_TEMPE_COLLEGES: Final = {
    **dict.fromkeys(
        ("AS", "BA", "CS", "FI", "GC", "HO", "LA", "LS", "PP", "PR", "SU", "TB", "TE", "UC", "GF"),
        "HAYDEN",
    ),
    **dict.fromkeys(("ES", "NH", "NU"), "NOBLE"),
    "HI": "DESIGN",
    "LW": "LAW",
}

_CAMPUS_RULES: Final = (
    CampusRule(
        campuses=frozenset(
            {
                "CALHC",
                "CHANDGI",
                "EAC",
                "HAINAN",
                "MESATEM",
                "OTHERAZ",
                "OTHERUS",
                "OUTSIDE",
                "SCOTTSD",
                "TUCSON",
            }
        ),
        department="HAYDEN",
    ),
    CampusRule(campuses=frozenset({"ASUONLI", "ICOURSE"}), department="ASU_ONLINE"),
    # No department: upstream logs an unknown Tempe college and gives it COURSE_UNIT.
    CampusRule(campuses=frozenset({"TEMPE"}), colleges=MappingProxyType(_TEMPE_COLLEGES)),
    CampusRule(
        campuses=frozenset({"DTPHX", "PHOENIX"}),
        department="DOWNTOWN",
        colleges=MappingProxyType({"LW": "LAW"}),
    ),
    CampusRule(campuses=frozenset({"GLENDALE", "WEST"}), department="FLETCHER"),
    CampusRule(campuses=frozenset({"POLY"}), department="POLYTECHNIC"),
    CampusRule(campuses=frozenset({"TBIRD"}), department="THUNDERBIRD"),
)

_OVERRIDES: Final = (
    PrefixOverride(
        field=PrefixField.COURSE_ID,
        prefixes=("MDC", "MHL", "MSC", "MSI", "MTC", "MUE", "MUP", "MUS"),
        department="MUSIC",
    ),
    PrefixOverride(field=PrefixField.COURSE_ID, prefixes=("SDO",), department="LAW"),
    PrefixOverride(field=PrefixField.COURSE_CODE, prefixes=("DEV",), department="COURSE_UNIT"),
)


def _term(term: str, letter: str, plain: str, a: str, b: str, dyn: str) -> TermRule:
    """A TERM's endings: the season's last letter alone or with C, A, B and DYN (research §d)."""
    endings = {
        letter: plain,
        f"{letter}C": plain,
        f"{letter}A": a,
        f"{letter}B": b,
        f"{letter}DYN": dyn,
    }
    return TermRule(term=term, endings=MappingProxyType(endings))


_TERMS: Final = (
    _term("1", "g", "SPRING", "TERM4", "TERM5", "TERM6"),
    _term("4", "r", "SUMMER", "TERM7", "TERM8", "SEMESTER1"),
    _term("7", "l", "AUTUMN", "TERM1", "TERM2", "TERM3"),
)

ASU_TABLES: Final[CourseTables] = CourseTables(
    campus_rules=_CAMPUS_RULES,
    campus_fallback="HAYDEN",
    college_fallback="COURSE_UNIT",
    overrides=_OVERRIDES,
    terms=_TERMS,
    term_fallback="",
)
"""ASU's campus, college, prefix and term tables (L3, research §d)."""
