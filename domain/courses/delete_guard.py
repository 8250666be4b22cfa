"""Whether a DELETE may go to Alma (rule L5): only for a course that exists with exactly that
code and section and has no reading list."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class KnownCourse:
    """A course Alma holds, as a courses search or the course cache gives it (L5, L8)."""

    course_id: str
    code: str
    section: str
    year: str
    searchable_ids: tuple[str, ...] = ()


def exact_course(code: str, section: str, candidates: Iterable[KnownCourse]) -> KnownCourse | None:
    """Rule L5: the first candidate with exactly ``code`` and ``section``, None when there is
    none. Alma's ``code~`` search is a partial match (``HIST101`` finds ``HIST1010``), so what it
    returns is only a list of candidates."""
    return next(
        (course for course in candidates if course.code == code and course.section == section),
        None,
    )


class DeleteVerdict(Enum):
    """What becomes of a DELETE row (L5)."""

    SEND = "send"
    NOT_IN_ALMA = "not in alma"
    HAS_READING_LISTS = "has reading lists"

    def reason(self, code: str, section: str) -> str:
        """The sentence recorded for the row of ``code`` ``section``."""
        if self is DeleteVerdict.SEND:
            return f"DELETE sent: course {code} {section} is in Alma without reading lists"
        if self is DeleteVerdict.NOT_IN_ALMA:
            return (
                f"DELETE dropped: no course {code} {section} in Alma "
                "(only partial matches are not enough)"
            )
        return f"DELETE dropped: course {code} {section} has reading lists, never deleted"


def delete_verdict(found: KnownCourse | None, has_reading_lists: bool) -> DeleteVerdict:
    """Rule L5: SEND only for a course found exactly and without reading lists (upstream sent
    DELETEs for partial matches and for a count of 0)."""
    if found is None:
        return DeleteVerdict.NOT_IN_ALMA
    if has_reading_lists:
        return DeleteVerdict.HAS_READING_LISTS
    return DeleteVerdict.SEND
