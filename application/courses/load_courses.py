"""The daily course load, `almabridge run course-loading` (rules L1–L7, B1–B5, B8).

1. L1–L4: the day's courses from the CEM file (`courses_of_the_day`), every line recorded.
2. L5: each DELETE is checked against Alma before it is sent: the course must exist with
   exactly that code and section and have no reading list. The courses of the course's year
   are read once when it is this year or last year, so a candidate then costs one call (its
   lists); a course of another year costs a search as well. A check Alma cannot answer holds
   the DELETE back (recorded failed): a DELETE is never sent blind. Each verdict is recorded as
   soon as it is known, with its detail, so a resumed run does not ask again (B5).
3. L6: every course becomes a loader row; a row Alma would refuse is recorded failed and left
   out; the file ``{YYYYmmddHHMMSS}.txt`` appears under ``--out`` only when complete (B3).
4. L7: pushed to the configured remote unless ``--no-push`` or ``--dry-run`` (B8), never over a
   file of that name. A run that pushed, then was killed, is not pushed again when resumed.

Courses are recorded (kind ``course``, key ``CODE SECTION``): ok when written, skipped for a
DELETE the guard dropped, failed for a row left out or a DELETE held back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

from application.courses.cem_courses import CourseRules, courses_of_the_day
from application.courses.course_lookup import CourseLookup
from application.courses.ports import CemReader, CemSource, LoaderPush, LoaderWriter, PushRefused
from application.shared.alma import AlmaError, AlmaStop
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordEntry, RecordOutcome
from domain.courses.delete_guard import DeleteVerdict, delete_verdict
from domain.courses.loader_checks import loader_row_problem
from domain.courses.loader_row import LoaderRow, Operation, loader_file_name
from domain.courses.merge import MergedCourse, loader_row

__all__ = ["COURSE", "COURSE_LOADING", "PUSH", "LoadCourses"]

COURSE_LOADING = "course-loading"
"""The workflow's name, as `almabridge run course-loading` takes it."""
COURSE = "course"
"""The run-record kind of one course, keyed ``CODE SECTION``."""
PUSH = "push"
"""The run-record kind of the loader file's delivery, keyed by its name."""

_VERDICT = "delete_verdict"
_PROGRESS_EVERY = 100


@dataclass(frozen=True)
class _Checked:
    """A DELETE candidate's verdict, or None when Alma could not be asked."""

    course: MergedCourse
    verdict: DeleteVerdict | None


class LoadCourses:
    """The daily course load (see the module text)."""

    name = COURSE_LOADING

    def __init__(
        self,
        source: CemSource,
        reader: CemReader,
        lookup: CourseLookup,
        writer: LoaderWriter,
        rules: CourseRules,
        *,
        push: LoaderPush | None = None,
        day: date | None = None,
        zone: tzinfo | None = None,
        concurrency: int = 8,
    ) -> None:
        self._source = source
        self._reader = reader
        self._lookup = lookup
        self._writer = writer
        self._rules = rules
        self._push = push
        self._day = day
        self._zone = zone
        self._gate = asyncio.Semaphore(max(1, concurrency))

    async def run(self, context: RunContext) -> None:
        """Fetch, transform, guard the DELETEs, write and push the loader file."""
        moment = context.now().astimezone(self._zone)  # B3: the machine's local time
        day = self._day or moment.date()
        courses = await courses_of_the_day(context, self._source, self._reader, self._rules, day)
        held = await self._guard_deletes(context, courses, day)
        rows, entries = self._rows(courses, held)
        name = loader_file_name(moment)
        path = await self._writer.write(context.out_dir, name, rows)
        await context.add_output(name, path)
        await context.record_many(COURSE, entries)
        context.progress(f"wrote {name}: {len(rows)} courses, to {context.out_dir}")
        if self._push is None or context.dry_run:
            return
        if context.earlier_records(PUSH):
            context.progress("the run this one resumes pushed its loader file already")
            return
        context.progress(f"pushing {name} to {self._push.target}")
        try:
            await self._push.push(path)
        except PushRefused as refused:
            raise RunFailed(refused.sentence) from None
        await context.record(PUSH, name, RecordOutcome.OK, f"pushed to {self._push.target}")

    async def _guard_deletes(
        self, context: RunContext, courses: Sequence[MergedCourse], day: date
    ) -> dict[str, DeleteVerdict | None]:
        """Rule L5 for every DELETE; returns each candidate's verdict by course key."""
        deletes = [c for c in courses if c.operation is Operation.DELETE]
        if not deletes:
            return {}
        context.progress(f"checking {len(deletes)} DELETE candidates against Alma's courses")
        verdicts: dict[str, DeleteVerdict | None] = {}
        todo: list[MergedCourse] = []
        for course in deletes:
            earlier = context.earlier(COURSE, course.key)
            stored = None if earlier is None else (earlier.detail or {}).get(_VERDICT)
            if isinstance(stored, str):
                verdicts[course.key] = DeleteVerdict(stored)  # B5: not asked twice
            else:
                todo.append(course)
        recent = {str(day.year), str(day.year - 1)}
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._check(c, recent)) for c in todo]
                for done, task in enumerate(asyncio.as_completed(tasks), start=1):
                    checked = await task
                    verdicts[checked.course.key] = checked.verdict
                    await _record_check(context, checked)
                    if done % _PROGRESS_EVERY == 0:
                        context.progress(f"checked {done} of {len(todo)} DELETE candidates")
        except* AlmaStop as stopped:
            raise RunFailed(f"Alma stopped the run: {stopped.exceptions[0]}") from None
        return verdicts

    async def _check(self, course: MergedCourse, recent: set[str]) -> _Checked:
        code, section, year = course.row.code, course.section, course.row.year
        async with self._gate:
            try:
                if year in recent and not self._lookup.cached(year):
                    await self._lookup.cache_years([int(year)])
                found = await self._lookup.exact(code, section, year)
                lists = found is not None and await self._lookup.has_reading_lists(found)
            except AlmaError:
                return _Checked(course, None)
        return _Checked(course, delete_verdict(found, lists))

    def _rows(
        self, courses: Sequence[MergedCourse], held: dict[str, DeleteVerdict | None]
    ) -> tuple[list[LoaderRow], list[RecordEntry]]:
        """Rule L6: the rows to write, and the records of the courses not recorded yet."""
        rows: list[LoaderRow] = []
        entries: list[RecordEntry] = []
        for course in courses:
            if course.key in held and held[course.key] is not DeleteVerdict.SEND:
                continue  # recorded when checked
            row = loader_row(course, self._rules.merge_on)
            problem = loader_row_problem(row)
            if problem is not None:
                entries.append(RecordEntry(course.key, RecordOutcome.FAILED, problem))
                continue
            rows.append(row)
            if course.key not in held:
                what = "DELETE" if row.operation is Operation.DELETE else "create or update"
                entries.append(
                    RecordEntry(course.key, RecordOutcome.OK, f"{what}, {_lines(course)}")
                )
        return rows, entries


async def _record_check(context: RunContext, checked: _Checked) -> None:
    course, verdict = checked.course, checked.verdict
    if verdict is None:
        await context.record(
            COURSE,
            course.key,
            RecordOutcome.FAILED,
            "DELETE held back: Alma could not be asked whether the course exists or has reading "
            "lists, and a DELETE is never sent blind",
        )
        return
    code, section = course.row.code, course.section
    outcome = RecordOutcome.OK if verdict is DeleteVerdict.SEND else RecordOutcome.SKIPPED
    reason = (
        f"DELETE kept: {code} {section} exists in Alma without a reading list"
        if verdict is DeleteVerdict.SEND
        else verdict.reason(code, section)
    )
    await context.record(COURSE, course.key, outcome, reason, {_VERDICT: verdict.value})


def _lines(course: MergedCourse) -> str:
    lines = ", ".join(str(line) for line in course.lines)
    return f"CEM line{'s' if len(course.lines) > 1 else ''} {lines}"
