"""The rollover report, `almabridge run course-rollover-report` (rules L8, B1–B3, B5, B7).

Made from the same CEM file as the day's load, once Alma has loaded it (`LoaderWait`). A course
whose copy-course SLN is set becomes a ``ROLLOVER`` row (old code, old section) when exactly one
course of the copy year has that SLN as its section or among its searchable ids, and that course
has reading lists. This year's and last year's courses are read once (fix: upstream never
reached last year); another year is searched, by section and then by searchable id. Rollovers
are reported for people to review, not loaded (ASU: "we cannot rely on the rollover mechanism").

Each candidate is recorded (kind ``rollover``, key ``CODE SECTION``): ok with the course it
rolls over from, skipped with why not, failed when Alma could not be asked. The report is
``rollover_{YYYYmmddHHMMSS}.txt`` under ``--out`` (the loader's 34 columns, tab-separated, B3),
attached to the run's e-mail and named on Slack (B7).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date, tzinfo

from application.courses.cem_courses import CourseRules, courses_of_the_day
from application.courses.course_lookup import CourseLookup
from application.courses.loader_wait import LoaderWait
from application.courses.ports import CemReader, CemSource, LoaderWriter
from application.shared.alma import AlmaError, AlmaStop
from application.shared.ledger_records import JsonObject
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordOutcome
from domain.courses.delete_guard import KnownCourse
from domain.courses.loader_row import LoaderRow, Operation, rollover_file_name
from domain.courses.merge import MergedCourse, loader_row
from domain.courses.rollover import CopyYear, copy_year, rollover_row, wants_rollover

__all__ = ["COURSE_ROLLOVER_REPORT", "ROLLOVER", "RolloverReport"]

COURSE_ROLLOVER_REPORT = "course-rollover-report"
"""The workflow's name, as `almabridge run course-rollover-report` takes it."""
ROLLOVER = "rollover"
"""The run-record kind of one rollover candidate, keyed ``CODE SECTION``."""


class RolloverReport:
    """The rollover report (see the module text)."""

    name = COURSE_ROLLOVER_REPORT

    def __init__(
        self,
        source: CemSource,
        reader: CemReader,
        lookup: CourseLookup,
        writer: LoaderWriter,
        rules: CourseRules,
        wait: LoaderWait,
        *,
        day: date | None = None,
        zone: tzinfo | None = None,
        concurrency: int = 8,
    ) -> None:
        self._source = source
        self._reader = reader
        self._lookup = lookup
        self._writer = writer
        self._rules = rules
        self._wait = wait
        self._day = day
        self._zone = zone
        self._gate = asyncio.Semaphore(max(1, concurrency))

    async def run(self, context: RunContext) -> None:
        """Wait for Alma's load, find the rollovers, write and attach the report."""
        await self._wait.wait(context)
        moment = context.now().astimezone(self._zone)
        day = self._day or moment.date()
        courses = await courses_of_the_day(context, self._source, self._reader, self._rules, day)
        candidates = [
            c for c in courses if c.operation is not Operation.DELETE and wants_rollover(c.row)
        ]
        context.progress(f"{len(candidates)} courses name a copy-course SLN")
        rows = await self._rollovers(context, candidates, day)
        name = rollover_file_name(moment)
        path = await self._writer.write(context.out_dir, name, rows)
        await context.add_output(name, path)
        await context.attach(
            path,
            f"Attached is the daily potential rollover report {name} with {len(rows)} rows.",
        )
        context.progress(f"wrote {name}: {len(rows)} potential rollovers, to {context.out_dir}")

    async def _rollovers(
        self, context: RunContext, candidates: Sequence[MergedCourse], day: date
    ) -> list[LoaderRow]:
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(self._one(context, c, day)) for c in candidates]
        except* AlmaStop as stopped:
            raise RunFailed(f"Alma stopped the run: {stopped.exceptions[0]}") from None
        # In the CEM file's order, whatever order the answers came in.
        return [row for task in tasks if (row := task.result()) is not None]

    async def _one(self, context: RunContext, course: MergedCourse, day: date) -> LoaderRow | None:
        row = loader_row(course, self._rules.merge_on)
        sln = course.row.copy_sln
        earlier = context.earlier(ROLLOVER, course.key)
        if earlier is not None:  # B5: the original run asked Alma already
            detail = earlier.detail or {}
            old = detail.get("old_code")
            return rollover_row(row, _known(str(old), sln), sln) if isinstance(old, str) else None
        which = copy_year(course.row.copy_year, day)
        if which is CopyYear.NONE:
            await _skip(context, course, f"copy-course SLN {sln} has no copy year")
            return None
        year = course.row.copy_year.strip()
        async with self._gate:
            try:
                if which is not CopyYear.OTHER and not self._lookup.cached(year):
                    await self._lookup.cache_years([int(year)])
                matches = await self._lookup.rollover_candidates(sln, year)
                lists = len(matches) == 1 and await self._lookup.has_reading_lists(matches[0])
            except AlmaError as error:
                await context.record(
                    ROLLOVER,
                    course.key,
                    RecordOutcome.FAILED,
                    f"Alma could not be asked about copy-course SLN {sln} of {year}: {error}",
                )
                return None
        if len(matches) != 1:
            many = "no course" if not matches else f"{len(matches)} courses"
            await _skip(context, course, f"{many} of {year} hold SLN {sln}; exactly one is needed")
            return None
        match = matches[0]
        if not lists:
            await _skip(context, course, f"{match.code} {match.section} has no reading list")
            return None
        found: JsonObject = {"old_code": match.code, "course_id": match.course_id}
        await context.record(
            ROLLOVER,
            course.key,
            RecordOutcome.OK,
            f"ROLLOVER from {match.code} {sln} (reading lists to review)",
            found,
        )
        return rollover_row(row, match, sln)


async def _skip(context: RunContext, course: MergedCourse, reason: str) -> None:
    await context.record(ROLLOVER, course.key, RecordOutcome.SKIPPED, reason)


def _known(code: str, sln: str) -> KnownCourse:
    return KnownCourse(course_id="", code=code, section=sln, year="")
