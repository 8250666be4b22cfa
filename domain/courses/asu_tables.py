"""Moved to `domain.shared.asu_course_tables`."""

from domain.shared.asu_course_tables import ASU_TABLES

__all__ = ["ASU_TABLES"]
