"""Course rows to courses (rule L4): rows of one course join their instructors and searchable
ids; a DELETE gives way to an approved row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from domain.courses.loader_row import INSTRUCTOR_SLOTS, LoaderRow, Operation
from domain.courses.transform import CourseRow, MergeOn, course_key


@dataclass(frozen=True)
class MergedCourse:
    """One course of the loader file. ``row`` is the row whose values are kept; ``section`` may
    differ from its section when merging on code (L4, ASU keeps the smaller SLN)."""

    row: CourseRow
    section: str
    lines: tuple[int, ...]  # the CSV lines whose values joined it, first-seen order
    instructors: tuple[str, ...]  # first-seen, deduplicated, no empties
    searchable_ids: tuple[str, ...]
    operation: Operation

    @property
    def key(self) -> str:
        return course_key(self.row.code, self.section)

    @property
    def merged(self) -> bool:
        return len(self.lines) > 1


@dataclass(frozen=True)
class MergeNote:
    """A CEM row that did not become a course of its own: merged into another, a DELETE
    overruled by an approved row, or a repeated DELETE (L4). ``key`` is the row's own key."""

    line: int
    key: str
    reason: str


@dataclass(frozen=True)
class Merged:
    """The courses in first-seen order, and a note for every row folded into one of them."""

    courses: tuple[MergedCourse, ...]
    notes: tuple[MergeNote, ...]


def merge_rows(rows: Iterable[CourseRow], merge_on: MergeOn) -> Merged:
    """Rule L4. Rows sharing a key (code + section, or code alone for ASU's ``merge_on =
    "code"``) become one course: two approved rows join instructors and searchable ids; a DELETE
    and an approved row give the approved row whatever the order; a second DELETE is dropped."""
    courses: dict[str, MergedCourse] = {}
    notes: list[MergeNote] = []
    for row in rows:
        key = row.code if merge_on is MergeOn.CODE else course_key(row.code, row.section)
        kept = courses.get(key)
        if kept is None:
            courses[key] = _single(row)
            continue
        own_key = course_key(row.code, row.section)
        first = kept.lines[0]
        if row.operation is Operation.DELETE:
            reason = (
                f"second DELETE of {kept.key} dropped: line {first} already deletes it"
                if kept.operation is Operation.DELETE
                else f"DELETE overruled by the approved row of line {first} for {kept.key}"
            )
            notes.append(MergeNote(row.line, own_key, f"line {row.line}: {reason}"))
        elif kept.operation is Operation.DELETE:
            courses[key] = _single(row)
            notes.extend(
                MergeNote(
                    line,
                    kept.key,
                    f"line {line}: DELETE overruled by the approved row of line {row.line} "
                    f"for {course_key(row.code, row.section)}",
                )
                for line in kept.lines
            )
        else:
            courses[key] = (
                _joined_on_code(kept, row)
                if merge_on is MergeOn.CODE
                else _joined_on_section(kept, row)
            )
            notes.append(
                MergeNote(
                    row.line,
                    own_key,
                    f"line {row.line}: merged into {kept.key} of line {first}",
                )
            )
    return Merged(tuple(courses.values()), tuple(notes))


def loader_row(course: MergedCourse, merge_on: MergeOn) -> LoaderRow:
    """The loader row of a course (L4, L6). On code + section, Instructor 1–10 hold the first
    ten instructors and Searchable ID 1–2 the first two ids, the ALL_ columns all of them. On
    code, ASU's layout: one row's instructor and id in the first slots, a merged course's all in
    the ALL_ columns only."""
    row = course.row
    if merge_on is MergeOn.CODE_AND_SECTION:
        instructors = course.instructors[:INSTRUCTOR_SLOTS]
        search_ids = (*course.searchable_ids[:2], "", "")[:2]
        all_instructors = ",".join(course.instructors)
        all_search_ids = ",".join(course.searchable_ids)
    elif course.merged:
        instructors = ()
        search_ids = ("", "")
        all_instructors = ",".join(course.instructors)
        all_search_ids = ",".join(course.searchable_ids)
    else:
        instructors = course.instructors[:1]
        search_ids = (course.searchable_ids[0] if course.searchable_ids else "", "")
        all_instructors = ""
        all_search_ids = ""
    return LoaderRow(
        course_code=row.code,
        title=row.title,
        section_id=course.section,
        academic_department=row.academic_department,
        processing_department=row.processing_department,
        terms=(row.term,) if row.term else (),
        start_date=row.start_date,
        end_date=row.end_date,
        year=row.year,
        searchable_id_1=search_ids[0],
        searchable_id_2=search_ids[1],
        all_searchable_ids=all_search_ids,
        instructors=instructors,
        all_instructors=all_instructors,
        operation=course.operation,
    )


def _single(row: CourseRow) -> MergedCourse:
    return MergedCourse(
        row=row,
        section=row.section,
        lines=(row.line,),
        instructors=_with((), row.instructor),
        searchable_ids=_with((), row.searchable_id),
        operation=row.operation,
    )


def _joined_on_section(kept: MergedCourse, row: CourseRow) -> MergedCourse:
    return replace(
        kept,
        lines=(*kept.lines, row.line),
        instructors=_with(kept.instructors, row.instructor),
        searchable_ids=_with(kept.searchable_ids, row.searchable_id),
    )


def _joined_on_code(kept: MergedCourse, row: CourseRow) -> MergedCourse:
    """ASU's merge_inst_and_search_ids: the new row's SLN becomes a searchable id, and when the
    kept section is the greater SLN both are, the course taking the smaller. Upstream's cap at
    ten ids, applied before the SLNs were added, is not kept: Alma takes them all."""
    search_ids = _with(kept.searchable_ids, row.searchable_id, row.section)
    section = kept.section
    if _greater(kept.section, row.section):
        search_ids = _with(search_ids, row.section, kept.section)
        section = row.section
    return replace(
        kept,
        section=section,
        lines=(*kept.lines, row.line),
        instructors=_with(kept.instructors, row.instructor),
        searchable_ids=search_ids,
    )


def _greater(left: str, right: str) -> bool:
    # Upstream compares int(SLN); text comparison only keeps a non-numeric SLN from crashing.
    if left.isdecimal() and right.isdecimal():
        return int(left) > int(right)
    return left > right


def _with(values: tuple[str, ...], *more: str) -> tuple[str, ...]:
    """``values`` and then each of ``more`` not yet there, empties dropped (first-seen order)."""
    result = list(values)
    for value in more:
        if value and value not in result:
            result.append(value)
    return tuple(result)
