"""The day's courses from the CEM file, as both course-loading runs start (rules L1–L4, B1, B2).

Fetch the file (L1; none is a failed run, B2), record it as the run's input (B1), read it (L2),
transform each row (L3) and merge them into courses (L4). Every line is recorded (kind
``cem_line``, key ``line N``): ok with the course it went to and any fallback a table gave it,
skipped when a rule leaves it out (``REQUESTED``, a DELETE an approved row overrules), failed
when it cannot be read. One ledger write for the lot: a feed holds tens of thousands of lines,
and none of them costs an Alma call to redo.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date

from application.courses.ports import CemMissing, CemReader, CemSource
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordEntry, RecordOutcome
from domain.courses.cem import CemUnusable
from domain.courses.merge import MergedCourse, merge_rows
from domain.courses.transform import CourseRow, MergeOn, RowRejected, RowVerdict, transform_row
from domain.shared.course_tables import CourseTables

__all__ = ["CEM_LINE", "CourseRules", "courses_of_the_day", "line_key"]

CEM_LINE = "cem_line"
"""The run-record kind of one line of the CEM file, keyed ``line N`` (B1)."""


@dataclass(frozen=True)
class CourseRules:
    """``[course_loading]`` as one run uses it (L2–L4); stored with the run's options."""

    tables: CourseTables
    date_format: str = "%d-%m-%Y"
    merge_on: MergeOn = MergeOn.CODE_AND_SECTION
    cem_encoding: str = "iso-8859-1"


def line_key(line: int) -> str:
    """The record key of a CEM line."""
    return f"line {line}"


async def courses_of_the_day(
    context: RunContext, source: CemSource, reader: CemReader, rules: CourseRules, day: date
) -> tuple[MergedCourse, ...]:
    """The merged courses of the day's CEM file, every line recorded (see the module text)."""
    context.progress(f"fetching the CEM file of {day:%Y-%m-%d} from {source.description}")
    # B5: a resumed run reads its original's file, not a newer one the campus dropped since.
    earlier = context.earlier_input_names()
    try:
        cem = await source.fetch(day, earlier[0] if earlier else None)
    except CemMissing as missing:
        raise RunFailed(missing.sentence) from None
    await context.add_input(cem.name, cem.content)
    try:
        # A feed of 100,000 rows takes most of a second to read: off the event loop.
        read = await asyncio.to_thread(reader.read, cem.content, rules.cem_encoding, cem.name)
    except CemUnusable as unusable:
        raise RunFailed(unusable.sentence) from None
    if not read.rows:
        # B2: an empty feed is a campus export gone wrong, not a day without courses.
        problems = f" ({len(read.problems)} unreadable lines)" if read.problems else ""
        raise RunFailed(f"the CEM file {cem.name} holds no course row{problems}: nothing loaded")
    entries: dict[int, RecordEntry] = {
        p.line: RecordEntry(line_key(p.line), RecordOutcome.FAILED, p.reason) for p in read.problems
    }
    rows: list[CourseRow] = []
    for cem_row in read.rows:
        result = transform_row(cem_row, rules.tables, rules.date_format)
        if isinstance(result, RowRejected):
            entries[result.line] = _rejected(result)
        else:
            rows.append(result)
    merged = merge_rows(rows, rules.merge_on)
    fallbacks = {row.line: row.notes for row in rows}
    merge_notes = {note.line: note.reason for note in merged.notes}
    for course in merged.courses:
        for line in course.lines:
            said = (merge_notes.pop(line),) if line in merge_notes else ()
            reason = "; ".join((f"course {course.key}", *said, *fallbacks.get(line, ())))
            entries[line] = RecordEntry(line_key(line), RecordOutcome.OK, reason)
    for line, reason in merge_notes.items():
        # A line that went into no course: a DELETE an approved row overruled, a second DELETE.
        entries[line] = RecordEntry(line_key(line), RecordOutcome.SKIPPED, reason)
    await context.record_many(CEM_LINE, [entries[line] for line in sorted(entries)])
    context.progress(
        f"{len(read.rows) + len(read.problems)} CEM lines: {len(merged.courses)} courses, "
        f"{sum(1 for e in entries.values() if e.outcome is RecordOutcome.FAILED)} lines failed"
    )
    return merged.courses


def _rejected(rejected: RowRejected) -> RecordEntry:
    outcome = (
        RecordOutcome.SKIPPED if rejected.verdict is RowVerdict.SKIPPED else RecordOutcome.FAILED
    )
    return RecordEntry(line_key(rejected.line), outcome, rejected.reason)
