"""The processing department of a CEM row (rule L3): campus and college tables, then overrides."""

from __future__ import annotations

from dataclasses import dataclass

from domain.shared.course_tables import CampusRule, CourseTables, PrefixField, PrefixOverride


@dataclass(frozen=True)
class Department:
    """A processing department; ``fallback`` is the sentence to record when a table did not know
    the campus or college and its fallback decided (L3), None when the tables knew everything."""

    name: str
    fallback: str | None = None


def processing_department(
    campus: str, college: str, course_id: str, course_code: str, tables: CourseTables
) -> Department:
    """Rule L3: the first campus rule naming ``campus``; a college it lists takes that college's
    department, any other its ``department``, or the college fallback when it has none. An
    unknown campus takes the campus fallback. Then the prefix overrides, the last match winning.
    Values are compared exactly as given."""
    department = _by_campus(campus, college, tables)
    for override in tables.overrides:
        if _applies(override, course_id, course_code):
            # The override, not the fallback, decides now: nothing unknown is left to record.
            department = Department(override.department)
    return department


def _by_campus(campus: str, college: str, tables: CourseTables) -> Department:
    rule = _campus_rule(campus, tables)
    if rule is None:
        what = f"unknown campus {campus}" if campus else "empty campus"
        fallback = tables.campus_fallback
        return Department(fallback, f"{what}: processing department {fallback} (campus fallback)")
    if college in rule.colleges:
        return Department(rule.colleges[college])
    if rule.department is not None:
        return Department(rule.department)
    what = f"unknown college {college}" if college else "empty college"
    fallback = tables.college_fallback
    return Department(
        fallback,
        f"{what} on campus {campus}: processing department {fallback} (college fallback)",
    )


def _campus_rule(campus: str, tables: CourseTables) -> CampusRule | None:
    return next((rule for rule in tables.campus_rules if campus in rule.campuses), None)


def _applies(override: PrefixOverride, course_id: str, course_code: str) -> bool:
    value = course_id if override.field is PrefixField.COURSE_ID else course_code
    # An empty prefix would match every row: a table typo must not move every course.
    return any(prefix and value.startswith(prefix) for prefix in override.prefixes)
