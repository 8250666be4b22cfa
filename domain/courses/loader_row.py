"""One row of Alma's course loader file: the 34 columns in Alma's order (rule L6).

The column order is research §d's table (Academic Department 4th, Processing Department 5th);
the header names are those of the synthetic reference file, which Alma ignores but operators
read. The file itself (tab-separated, CRLF, UTF-8, atomic) is the adapter's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Final

LOADER_HEADER: Final = (
    "COURSE_CODE",
    "COURSE_TITLE",
    "SECTION_ID",
    "ACAD_DEPT",
    "PROC_DEPT",
    "TERM1",
    "TERM2",
    "TERM3",
    "TERM4",
    "START_DATE",
    "END_DATE",
    "NUM_OF_PARTICIPANTS",
    "WEEKLY_HOURS",
    "YEAR",
    "SEARCH_ID1",
    "SEARCH_ID2",
    "MULTI_SEARCH_ID",
    "INSTR1",
    "INSTR2",
    "INSTR3",
    "INSTR4",
    "INSTR5",
    "INSTR6",
    "INSTR7",
    "INSTR8",
    "INSTR9",
    "INSTR10",
    "ALL_INSTRUCTORS",
    "OPERATION",
    "OLD_COURSE_CODE",
    "OLD_COURSE_SECTION",
    "SUBMIT_LISTS_BY",
    "CAMPUS_AND_PARTICIPANTS",
    "READING_LIST_NAME",
)
"""The header row (L6): 34 names, in Alma's column order."""

TERM_SLOTS: Final = 4
INSTRUCTOR_SLOTS: Final = 10


class Operation(Enum):
    """Alma's OPERATION column: empty creates or updates (L3)."""

    CREATE_OR_UPDATE = ""
    DELETE = "DELETE"
    ROLLOVER = "ROLLOVER"


@dataclass(frozen=True)
class LoaderRow:
    """One course as Alma's course loader reads it; every value is already the text of its cell.

    ``terms`` holds up to 4 values (TERM1–TERM4) and ``instructors`` up to 10 (INSTR1–INSTR10);
    missing slots are empty cells.
    """

    course_code: str
    title: str
    section_id: str
    academic_department: str
    processing_department: str
    terms: tuple[str, ...] = ()
    start_date: str = ""
    end_date: str = ""
    participants: str = ""
    weekly_hours: str = ""
    year: str = ""
    searchable_id_1: str = ""
    searchable_id_2: str = ""
    all_searchable_ids: str = ""
    instructors: tuple[str, ...] = ()
    all_instructors: str = ""
    operation: Operation = Operation.CREATE_OR_UPDATE
    old_course_code: str = ""
    old_section_id: str = ""
    submit_lists_by: str = ""
    campus_and_participants: str = ""
    reading_list_name: str = ""

    def __post_init__(self) -> None:
        if len(self.terms) > TERM_SLOTS or len(self.instructors) > INSTRUCTOR_SLOTS:
            raise ValueError(
                f"{self.course_code} {self.section_id}: at most {TERM_SLOTS} terms and "
                f"{INSTRUCTOR_SLOTS} instructors fit a loader row"
            )

    def cells(self) -> tuple[str, ...]:
        """The 34 cells in `LOADER_HEADER` order, tabs and line breaks made spaces (L6)."""
        terms = (*self.terms, *("",) * (TERM_SLOTS - len(self.terms)))
        instructors = (*self.instructors, *("",) * (INSTRUCTOR_SLOTS - len(self.instructors)))
        values = (
            self.course_code,
            self.title,
            self.section_id,
            self.academic_department,
            self.processing_department,
            *terms,
            self.start_date,
            self.end_date,
            self.participants,
            self.weekly_hours,
            self.year,
            self.searchable_id_1,
            self.searchable_id_2,
            self.all_searchable_ids,
            *instructors,
            self.all_instructors,
            self.operation.value,
            self.old_course_code,
            self.old_section_id,
            self.submit_lists_by,
            self.campus_and_participants,
            self.reading_list_name,
        )
        return tuple(clean_cell(value) for value in values)

    @classmethod
    def from_cells(cls, cells: tuple[str, ...] | list[str]) -> LoaderRow:
        """The row of 34 cells (a loader file read back); ValueError naming the count else."""
        if len(cells) != len(LOADER_HEADER):
            raise ValueError(f"a loader row has {len(LOADER_HEADER)} cells, not {len(cells)}")
        c = list(cells)
        return cls(
            course_code=c[0],
            title=c[1],
            section_id=c[2],
            academic_department=c[3],
            processing_department=c[4],
            terms=_trimmed(c[5:9]),
            start_date=c[9],
            end_date=c[10],
            participants=c[11],
            weekly_hours=c[12],
            year=c[13],
            searchable_id_1=c[14],
            searchable_id_2=c[15],
            all_searchable_ids=c[16],
            instructors=_trimmed(c[17:27]),
            all_instructors=c[27],
            operation=Operation(c[28]),
            old_course_code=c[29],
            old_section_id=c[30],
            submit_lists_by=c[31],
            campus_and_participants=c[32],
            reading_list_name=c[33],
        )


def clean_cell(value: str) -> str:
    """A value fit for one tab-separated cell: tabs and line breaks become spaces (L6)."""
    return value.replace("\r\n", " ").translate(_BLANKS)


_BLANKS: Final = str.maketrans({"\t": " ", "\r": " ", "\n": " ", "\v": " ", "\f": " "})


def _trimmed(values: list[str]) -> tuple[str, ...]:
    """Slots without their empty tail, so a row read back equals the row written."""
    while values and not values[-1]:
        values = values[:-1]
    return tuple(values)


def loader_file_name(moment: datetime) -> str:
    """``{YYYYmmddHHMMSS}.txt`` (L6): Alma's profile loads only a stamp newer than its last run."""
    return f"{moment:%Y%m%d%H%M%S}.txt"


def rollover_file_name(moment: datetime) -> str:
    """``rollover_{YYYYmmddHHMMSS}.txt`` (L8): tab-separated, so the extension says so."""
    return f"rollover_{moment:%Y%m%d%H%M%S}.txt"
