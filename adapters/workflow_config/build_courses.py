"""``[course_loading]``'s rule tables (rules L3, B9): campus rules, prefix overrides, terms.

```toml
[[course_loading.campus]]            # one table per rule; a campus belongs to one rule
campuses = ["DTPHX", "PHOENIX"]
department = "DOWNTOWN"              # any college not listed below; optional
colleges = { LW = "LAW" }            # college code = department; optional

[[course_loading.overrides]]         # in order, after the campus rules; the last match wins
course_id_prefixes = ["SDO"]         # or course_code_prefixes, exactly one of the two
department = "LAW"

[course_loading.terms]               # TERM value = { ending of the code's first segment = term }
"1" = { g = "SPRING", gC = "SPRING", gA = "TERM4", gB = "TERM5", gDYN = "TERM6" }
```

A table written replaces ASU's table of that kind whole (``overrides = []`` means none); one
left out keeps ASU's. The fallbacks (``campus_fallback``, ``college_fallback``,
``term_fallback``) are plain keys of ``[course_loading]``, in its model. Every problem names its
key path, ``course_loading.campus[2].colleges.LW``, counting rules from 0 as every array does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field

from adapters.workflow_config.errors import Loc, key_path, kind_of, shown
from adapters.workflow_config.reading import Reading
from adapters.workflow_config.schema import CourseLoadingConf, validate
from adapters.workflow_config.schema_values import Table, Text, problem, text
from application.shared.workflow_settings import CourseLoadingSettings
from domain.shared.course_tables import (
    CampusRule,
    CourseTables,
    PrefixField,
    PrefixOverride,
    TermRule,
)

__all__ = ["course_tables"]

_SECTION: Final = "course_loading"
# ASU's, through the settings' default: the defaults live there once.
_ASU: Final = CourseLoadingSettings().tables
_PREFIX_KEYS: Final = {
    "course_id_prefixes": PrefixField.COURSE_ID,
    "course_code_prefixes": PrefixField.COURSE_CODE,
}


def _listing(what: str, example: str) -> Callable[[object], list[object]]:
    # The array itself; each item is checked by its own validator, so a problem names its index.
    def check(value: object) -> list[object]:
        if not isinstance(value, list):
            raise problem(f"must be an array of {what} in quotes, such as {example}")
        if not value:
            raise problem(f"must list at least one of the {what}")
        return value

    return check


def _colleges(value: object) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise problem('must be a table of college code = department, such as { LW = "LAW" }')
    return value


class _CampusRuleConf(Table):
    """One ``[[course_loading.campus]]``."""

    campuses: Annotated[list[Text], BeforeValidator(_listing("campus codes", '["TEMPE"]'))]
    department: Annotated[str | None, BeforeValidator(text)] = None
    colleges: Annotated[dict[str, Text], BeforeValidator(_colleges)] = Field(default_factory=dict)


_Prefixes = Annotated[list[Text] | None, BeforeValidator(_listing("prefixes", '["MUS"]'))]


class _OverrideConf(Table):
    """One ``[[course_loading.overrides]]``."""

    course_id_prefixes: _Prefixes = None
    course_code_prefixes: _Prefixes = None
    department: Text


def course_tables(reading: Reading, conf: CourseLoadingConf | None) -> CourseTables | None:
    """The tables the file gives, ASU's for those it leaves out; None with the problems.

    ``conf`` is the section read (its fallbacks); None when it has problems of its own, which
    are already said: the tables are still checked, so every problem is listed at once.
    """
    campus = _campus_rules(reading)
    overrides = _overrides(reading)
    terms = _terms(reading)
    if conf is None or campus is None or overrides is None or terms is None:
        return None
    return CourseTables(
        campus_rules=campus,
        campus_fallback=conf.campus_fallback,
        college_fallback=conf.college_fallback,
        overrides=overrides,
        terms=terms,
        term_fallback=conf.term_fallback or "",
    )


def _array(reading: Reading, key: str, example: str) -> list[Any] | None:
    """The array of tables ``key``; None, said, when it is something else."""
    value = reading.raw(_SECTION, key)
    if isinstance(value, list):
        return value
    reading.problems.append(
        f"{key_path((_SECTION, key))}: must be an array of tables [[{_SECTION}.{key}]] "
        f"such as {example}, got {kind_of(value)}"
    )
    return None


def _campus_rules(reading: Reading) -> tuple[CampusRule, ...] | None:
    if reading.raw(_SECTION, "campus") is None:
        return _ASU.campus_rules
    items = _array(reading, "campus", '{ campuses = ["POLY"], department = "POLYTECHNIC" }')
    if items is None:
        return None
    problems: list[str] = []
    rules: list[CampusRule] = []
    owner: dict[str, int] = {}  # campus -> the rule that has it
    for index, item in enumerate(items):
        loc = (_SECTION, "campus", index)
        colleges = item.get("colleges") if isinstance(item, dict) else None
        if isinstance(colleges, dict):
            problems.extend(_key_problems((*loc, "colleges"), colleges, "a college code"))
        conf = validate(_CampusRuleConf, item, loc, problems)
        if conf is None:
            continue
        if conf.department is None and not conf.colleges:
            problems.append(
                f"{key_path(loc)}: gives neither department nor colleges; give the department "
                "of its colleges, a table colleges = { CODE = department }, or both"
            )
        for at, campus in enumerate(conf.campuses):
            first = owner.setdefault(campus, index)
            if first != index:
                problems.append(
                    f"{key_path((*loc, 'campuses', at))}: {shown(campus)} is already in "
                    f"{key_path((_SECTION, 'campus', first))}; a campus belongs to one rule"
                )
            elif campus in conf.campuses[:at]:
                problems.append(
                    f"{key_path((*loc, 'campuses', at))}: {shown(campus)} is listed twice"
                )
        rules.append(
            CampusRule(
                campuses=frozenset(conf.campuses),
                department=conf.department,
                colleges=MappingProxyType(dict(conf.colleges)),
            )
        )
    reading.problems.extend(problems)
    return None if problems else tuple(rules)


def _overrides(reading: Reading) -> tuple[PrefixOverride, ...] | None:
    if reading.raw(_SECTION, "overrides") is None:
        return _ASU.overrides
    items = _array(reading, "overrides", '{ course_id_prefixes = ["SDO"], department = "LAW" }')
    if items is None:
        return None
    problems: list[str] = []
    overrides: list[PrefixOverride] = []
    for index, item in enumerate(items):
        loc = (_SECTION, "overrides", index)
        given = [key for key in _PREFIX_KEYS if isinstance(item, dict) and key in item]
        if isinstance(item, dict) and len(given) != 1:
            problems.append(
                f"{key_path(loc)}: give course_id_prefixes or course_code_prefixes"
                + (", not both" if given else "")
            )
        conf = validate(_OverrideConf, item, loc, problems)
        if conf is None or len(given) != 1:
            continue
        prefixes = conf.course_id_prefixes or conf.course_code_prefixes or []
        overrides.append(PrefixOverride(_PREFIX_KEYS[given[0]], tuple(prefixes), conf.department))
    reading.problems.extend(problems)
    return None if problems else tuple(overrides)


def _terms(reading: Reading) -> tuple[TermRule, ...] | None:
    value = reading.raw(_SECTION, "terms")
    if value is None:
        return _ASU.terms
    loc = (_SECTION, "terms")
    if not isinstance(value, dict):
        reading.problems.append(
            f"{key_path(loc)}: must be a table of TERM value = {{ ending = Alma term }}, such "
            f'as "1" = {{ g = "SPRING", gA = "TERM4" }}, got {kind_of(value)}'
        )
        return None
    problems = _key_problems(loc, value, "a TERM value")
    rules: list[TermRule] = []
    for term, endings in value.items():
        here = (*loc, term)
        if not isinstance(endings, dict):
            problems.append(
                f"{key_path(here)}: must be a table of ending = Alma term, such as "
                f'{{ g = "SPRING", gA = "TERM4" }}, got {kind_of(endings)}'
            )
            continue
        if not endings:
            problems.append(f"{key_path(here)}: must map at least one ending to an Alma term")
        problems.extend(_key_problems(here, endings, "an ending"))
        for ending, alma_term in endings.items():
            wrong = _not_text(alma_term)
            if wrong:
                problems.append(f"{key_path((*here, ending))}: {wrong}, got {shown(alma_term)}")
        if not problems:
            clean = {ending: str(alma_term).strip() for ending, alma_term in endings.items()}
            rules.append(TermRule(term=term, endings=MappingProxyType(clean)))
    reading.problems.extend(problems)
    return None if problems else tuple(rules)


def _key_problems(loc: Loc, table: Mapping[str, object], what: str) -> list[str]:
    """A key is compared exactly with a CEM value, which is stripped: blanks around it or an
    empty key could never match, so they are refused rather than silently never used."""
    return [
        f"{key_path((*loc, key))}: {what} must not be empty or begin or end with blanks"
        for key in table
        if not key.strip() or key != key.strip()
    ]


def _not_text(value: object) -> str | None:
    """What is wrong with a value that must be text, as the models' own checks say it."""
    if not isinstance(value, str):
        return "must be text in quotes"
    return None if value.strip() else "must not be empty"
