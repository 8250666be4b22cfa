"""The CEM file read as the campus sends it: comma CSV with a header row (rule L2).

Decoded with the configured encoding (ASU's is ISO-8859-1). The header names are matched after
stripping blanks and a UTF-8 byte-order mark; a file lacking a required column cannot be used
and the run fails naming every missing one (B2). Extra columns are ignored.

Every row keeps the physical line it starts on (the header is line 1, a quoted value spanning
lines counts each), so a record names the line an operator opens. A malformed line (a field
count other than the header's, a quote never closed, a NUL) becomes a `CemProblem` and reading
goes on (fix: upstream's ``error_bad_lines=False`` drops it silently).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from domain.courses.cem import (
    REQUIRED_COLUMNS,
    ROLLOVER_COLUMNS,
    CemFile,
    CemProblem,
    CemRow,
    CemUnusable,
)

__all__ = ["DEFAULT_CEM_ENCODING", "CemCsvReader", "read_cem"]

DEFAULT_CEM_ENCODING: Final = "iso-8859-1"
"""ASU's CEM export (research §d, ``encoding="iso-8859-1"``)."""

_COLUMNS: Final = (*REQUIRED_COLUMNS, *ROLLOVER_COLUMNS)


class CemCsvReader:
    """The `application.courses.ports.CemReader` port over `read_cem`."""

    def read(self, content: bytes, encoding: str, name: str) -> CemFile:
        return read_cem(content, encoding, name=name)


def read_cem(content: bytes, encoding: str = DEFAULT_CEM_ENCODING, *, name: str) -> CemFile:
    """The rows and malformed lines of the CEM file ``name``; `CemUnusable` when the file
    cannot be decoded or lacks a required column (rule L2)."""
    lines = _lines(content, encoding, name)
    records = _Records(lines)
    header = next(records, None)
    if header is None:
        raise CemUnusable(f"the CEM file {name} is empty: not even a header row")
    if header.fields is None:
        raise CemUnusable(f"the CEM file {name} line {header.line}: {header.reason} (header)")
    columns = _column_positions(header.fields, name)
    width = len(header.fields)
    rows: list[CemRow] = []
    problems: list[CemProblem] = []
    for record in records:
        fields = record.fields
        if fields is None:
            problems.append(CemProblem(record.line, f"{name}: {record.reason}"))
        elif len(fields) != width:
            problems.append(CemProblem(record.line, f"{name}: {_count(record, width)}"))
            if record.span > 1:
                # The quote that joined these lines may be the mistake: the lines after the
                # first are read again, so a stray quote costs one row, not every row it ate.
                records.resume_after(record.line)
        else:
            values = {column: fields[at].strip() for column, at in columns.items()}
            rows.append(_row(record.line, values))
    return CemFile(rows=tuple(rows), problems=tuple(problems))


def _row(line: int, values: Mapping[str, str]) -> CemRow:
    """A row of the column values read; a rollover column the file lacks reads as empty."""
    return CemRow(
        line=line,
        course_code=values["MYASU_COURSE_IDSTRING"],
        status=values["COURSE_STATUS"],
        title=values["COURSE_NAME"],
        sln=values["SLN"],
        instructor=values["ASURITEID"],
        college=values["COLLEGE_OR_DIVISION_CODE"],
        campus=values["CAMPUS"],
        course_id=values["COURSE_ID"],
        term=values["TERM"],
        year=values["YEAR"],
        start=values["START_SYNC_DATE"],
        end=values["END_SYNC_DATE"],
        copy_sln=values.get("COPY_COURSE_SLN", ""),
        copy_year=values.get("COPY_COURSE_SEMESTER_YEAR", ""),
        copy_course_id=values.get("COPY_COURSE_ID", ""),
        copy_term=values.get("COPY_COURSE_SEMESTER_TERM", ""),
    )


def _lines(content: bytes, encoding: str, name: str) -> list[str]:
    """The decoded physical lines, each with its own line ending (kept for the csv module)."""
    skipped = 0
    if content.startswith(codecs.BOM_UTF8):
        # A file saved by a spreadsheet may open with a UTF-8 mark whatever the encoding.
        content = content[len(codecs.BOM_UTF8) :]
        skipped = len(codecs.BOM_UTF8)
    try:
        text = content.decode(encoding)
    except LookupError:
        raise CemUnusable(f"the CEM file {name}: {encoding!r} is not a known encoding") from None
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise CemUnusable(
            f"the CEM file {name} is not {encoding} text: byte {error.start + skipped} "
            f"(0x{content[error.start]:02x}, line {line}) cannot be decoded"
        ) from None
    # newline="" splits on \r\n, \r and \n alone but keeps them, as the csv module expects;
    # str.splitlines would also split on \x1c, \x85 or \u2028 inside a value.
    return io.StringIO(text.removeprefix("\ufeff"), newline="").readlines()


def _column_positions(header: Sequence[str], name: str) -> Mapping[str, int]:
    """Where each column the rules use sits; `CemUnusable` naming every missing one."""
    positions: dict[str, int] = {}
    for at, raw in enumerate(header):
        column = raw.strip().removeprefix("\ufeff").strip()
        if column in _COLUMNS and column in positions:
            raise CemUnusable(
                f"the CEM file {name} names the column {column} twice (columns "
                f"{positions[column] + 1} and {at + 1}): which one holds the value is unknown"
            )
        positions.setdefault(column, at)
    missing = tuple(column for column in REQUIRED_COLUMNS if column not in positions)
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise CemUnusable(
            f"the CEM file {name} lacks the column{plural} {', '.join(missing)} in its header "
            "(line 1)",
            missing_columns=missing,
        )
    return {column: at for column, at in positions.items() if column in _COLUMNS}


def _count(record: _Record, width: int) -> str:
    fields = record.fields or ()
    said = f"{len(fields)} fields where the header has {width}"
    if record.span > 1:
        last = record.line + record.span - 1
        said += f" (a quoted value runs from line {record.line} to line {last})"
    return said


@dataclass(frozen=True)
class _Record:
    """One CSV record: the line it starts on, how many lines it spans, its fields or, for a
    line that is not a record, why."""

    line: int
    span: int
    fields: list[str] | None
    reason: str = ""


class _Records(Iterator[_Record]):
    """The records of ``lines`` in order, blank lines left out; reading can be resumed on any
    line, as a bad multi-line record asks (see `read_cem`)."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._next = 0  # index of the next physical line to read

    def resume_after(self, line: int) -> None:
        self._next = line  # line numbers count from 1, indexes from 0

    def __next__(self) -> _Record:
        while self._next < len(self._lines):
            start = self._next
            source = _Source(self._lines, start)
            # A new reader each time: after a bad record its state is not to be trusted, and
            # the source knows exactly which lines each record used.
            fields = next(csv.reader(source, strict=False), [])
            span = source.used
            self._next = start + span
            used = self._lines[start : start + span]
            if source.past_end:
                # The end sentinel was read into a value: a quote opened and never closed.
                self._next = start + 1
                return _Record(start + 1, 1, None, "a quote opened on this line is never closed")
            if any("\x00" in line for line in used):
                return _Record(start + 1, span, None, "the line holds a NUL character")
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue  # a blank line, or blanks only
            return _Record(start + 1, span, fields)
        raise StopIteration


class _Source(Iterator[str]):
    """Physical lines from ``start`` for one csv reader, then one sentinel line: a reader still
    inside a quoted value at the end reads the sentinel, which no closed record does."""

    def __init__(self, lines: list[str], start: int) -> None:
        self._lines = lines
        self._start = start
        self.used = 0
        self.past_end = False

    def __next__(self) -> str:
        at = self._start + self.used
        if at < len(self._lines):
            self.used += 1
            return self._lines[at]
        if not self.past_end:
            self.past_end = True
            return "\n"
        raise StopIteration
