"""Moved to `domain.shared.course_tables` (the configuration, a shared adapter, builds them)."""

from domain.shared.course_tables import (
    CampusRule,
    CourseTables,
    PrefixField,
    PrefixOverride,
    TermRule,
)

__all__ = ["CampusRule", "CourseTables", "PrefixField", "PrefixOverride", "TermRule"]
