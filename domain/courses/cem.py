"""One row of the campus course feed (the CEM file, rules L1–L3), as the parser hands it over.

The CEM file has one row per course x instructor (research §d, "Inputs"). Its reading (encoding,
CSV quoting, line numbers) is the adapter's; here are the columns the rules use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

REQUIRED_COLUMNS: Final = (
    "MYASU_COURSE_IDSTRING",
    "COURSE_STATUS",
    "COURSE_NAME",
    "SLN",
    "ASURITEID",
    "COLLEGE_OR_DIVISION_CODE",
    "CAMPUS",
    "COURSE_ID",
    "TERM",
    "YEAR",
    "START_SYNC_DATE",
    "END_SYNC_DATE",
)
"""Columns a course load cannot do without: a file lacking one ends the run, naming it (L2)."""

ROLLOVER_COLUMNS: Final = (
    "COPY_COURSE_SLN",
    "COPY_COURSE_SEMESTER_YEAR",
    "COPY_COURSE_ID",
    "COPY_COURSE_SEMESTER_TERM",
)
"""Columns the rollover report reads (L8); a load reads them as empty when absent."""


@dataclass(frozen=True)
class CemRow:
    """One CEM row, every value as text with surrounding blanks stripped (empty when blank).

    ``line`` is the row's line number in the file, the header being line 1, so that a record
    names the line an operator opens (L2).
    """

    line: int
    course_code: str  # MYASU_COURSE_IDSTRING, e.g. 2018Fall-X-SDO598-92898
    status: str  # COURSE_STATUS
    title: str  # COURSE_NAME
    sln: str  # SLN
    instructor: str  # ASURITEID
    college: str  # COLLEGE_OR_DIVISION_CODE
    campus: str  # CAMPUS
    course_id: str  # COURSE_ID
    term: str  # TERM
    year: str  # YEAR
    start: str  # START_SYNC_DATE, e.g. 2018-08-13 00:00:00.000000000
    end: str  # END_SYNC_DATE
    copy_sln: str = ""  # COPY_COURSE_SLN
    copy_year: str = ""  # COPY_COURSE_SEMESTER_YEAR
    copy_course_id: str = ""  # COPY_COURSE_ID
    copy_term: str = ""  # COPY_COURSE_SEMESTER_TERM


@dataclass(frozen=True)
class CemProblem:
    """A line of the CEM file that is not a row (a malformed CSV line, L2): recorded failed."""

    line: int
    reason: str


@dataclass(frozen=True)
class CemFile:
    """The CEM file read: its rows and the lines that could not be read, in file order."""

    rows: tuple[CemRow, ...]
    problems: tuple[CemProblem, ...] = ()


class CemUnusable(Exception):
    """The CEM file cannot be read at all (columns missing, no header, wrong encoding): the run
    ends failed with this one sentence, which names the file and what is wrong (L2, B2)."""

    def __init__(self, sentence: str, missing_columns: tuple[str, ...] = ()) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.missing_columns = missing_columns
