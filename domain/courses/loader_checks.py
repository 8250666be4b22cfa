"""Rule L6's check of a loader row before it is written: Alma refuses a row without its key or
processing department, or with a non-integer where it wants one, so such a row is recorded and
left out rather than sent (upstream wrote it and let Alma's job fail the line)."""

from __future__ import annotations

from domain.courses.loader_row import LoaderRow

__all__ = ["loader_row_problem"]


def loader_row_problem(row: LoaderRow) -> str | None:
    """Why Alma's course loader would refuse the row, naming the column; None when it would not.

    Alma keys a course on code + section and needs a processing department; the number of
    participants, the weekly hours and the year are integers when given.
    """
    missing = [
        column
        for column, value in (
            ("COURSE_CODE", row.course_code),
            ("SECTION_ID", row.section_id),
            ("PROC_DEPT", row.processing_department),
        )
        if not value.strip()
    ]
    if missing:
        return f"no {' and no '.join(missing)}: Alma's course loader needs it"
    for column, value in (
        ("NUM_OF_PARTICIPANTS", row.participants),
        ("WEEKLY_HOURS", row.weekly_hours),
        ("YEAR", row.year),
    ):
        if value.strip() and not value.strip().isdigit():
            return f"{column} {value!r} is not a whole number, as Alma's course loader needs"
    return None
