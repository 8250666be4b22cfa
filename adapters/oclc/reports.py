"""Rule O1 for the bytes of one OCLC bib processing report: rows, and each line skipped with its
``file:line`` (rules O1, B2).

The format: pipe-delimited, no header, no quoting, five columns, UTF-8, ``\\n`` line ends (as
OCLC WorldShare writes them). The reading:

- lines are the bytes between ``\\n``; a ``\\r`` before it is dropped (a copy saved on Windows)
  and a UTF-8 byte-order mark at the start is skipped, as upstream's pandas reader does; lines
  are counted from 1, blank lines included, and a blank line is no row (pandas skips them too);
- each line is decoded on its own. A line that is not valid UTF-8 is a `LineProblem` naming the
  first bad byte, and the other lines go on (O1). A report in Latin-1 or Windows-1252 is read
  this way: OCLC's lines hold ASCII ids, numbers and action words, which are the same bytes in
  every one of those encodings, so only a line with another character is skipped, and named.
  When *no* line of the report decodes (every non-blank line, or a UTF-16 byte-order mark), the
  report is refused as a whole, `NotUtf8Report`, in one sentence that names the encoding;
- a line is split on every ``|`` (OCLC does not quote); any number of values other than five
  is a `LineProblem`; values are kept exactly as written (no stripping: a Network Id with a
  space or a leading zero stays so), an empty one is ``None``
  (`domain.oclc.report_rows.row_from_fields`);
- a report without a single row is `EmptyReport` (no line at all, or every line skipped);
- an OCLC *Bibliographic Exception Report* is refused, `ExceptionReportGiven`, not parsed: its
  name ends in ``ExceptionReport.txt`` (OCLC's names: ``….BibExceptionReport.txt``), or its first
  line has the exception report's seven columns with an error type in the fifth (``Validation
  Error``, ``Data Error``, ``Processing Error``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from domain.oclc.report_rows import (
    EmptyReport,
    ExceptionReportGiven,
    LineProblem,
    NotUtf8Report,
    ParsedReport,
    ReportRow,
    row_from_fields,
)

__all__ = ["is_exception_report_name", "read_bib_processing_report"]

_UTF8_BOM: Final = b"\xef\xbb\xbf"
_UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")
_EXCEPTION_SUFFIX: Final = "exceptionreport.txt"
_EXCEPTION_COLUMNS: Final = 7


def is_exception_report_name(file: str) -> bool:
    """Whether ``file`` is named as OCLC names its exception reports (``…ExceptionReport.txt``,
    in any case)."""
    return file.casefold().endswith(_EXCEPTION_SUFFIX)


def read_bib_processing_report(file: str, data: bytes) -> ParsedReport:
    """Rule O1: the rows of the report ``file`` whose bytes are ``data``, in line order, and the
    lines skipped; see the module's docstring for what is refused as a whole (B2)."""
    if is_exception_report_name(file):
        raise _exception_report(file, "by its name")
    if data.startswith(_UTF16_BOMS):
        raise NotUtf8Report(
            file,
            "is UTF-16, not UTF-8 (it starts with a UTF-16 byte-order mark); OCLC sends "
            "UTF-8, so save or download it again as UTF-8",
        )
    rows: list[ReportRow] = []
    problems: list[LineProblem] = []
    lines = 0
    undecodable: list[str] = []
    for number, raw in enumerate(_lines(data.removeprefix(_UTF8_BOM)), start=1):
        if not raw:
            continue
        lines += 1
        try:
            text = raw if isinstance(raw, str) else raw.decode("utf-8")
        except UnicodeDecodeError as error:
            where = f"byte 0x{raw[error.start]:02X} at byte {error.start + 1}"
            undecodable.append(f"{where} of line {number}")
            problems.append(
                LineProblem(
                    file, number, f"not valid UTF-8 ({where}; a Latin-1 or Windows-1252 copy?)"
                )
            )
            continue
        fields = text.split("|")
        if not rows and not problems and _looks_like_exception_line(fields):
            raise _exception_report(file, "by its first line")
        parsed = row_from_fields(fields, file=file, line=number)
        if isinstance(parsed, LineProblem):
            problems.append(parsed)
        else:
            rows.append(parsed)
    if lines and len(undecodable) == lines:
        raise NotUtf8Report(
            file,
            f"is not UTF-8: none of its {lines} lines decodes as UTF-8 (the first bad one: "
            f"{undecodable[0]}), as happens to a copy saved in Latin-1 or Windows-1252; OCLC "
            "sends UTF-8, so use the report as OCLC delivered it",
            tuple(problems),
        )
    if not rows:
        if not lines:
            raise EmptyReport(file, "is empty: it has no line, so there is nothing to merge")
        raise EmptyReport(
            file,
            f"has no usable row: all its {lines} lines were skipped (the first: {problems[0]})",
            tuple(problems),
        )
    return ParsedReport(file, tuple(rows), tuple(problems))


def _lines(data: bytes) -> Iterator[str | bytes]:
    """The lines without their ``\\n`` and a ``\\r`` before it: as text when the whole report is
    UTF-8 (one decode, the usual case), else as bytes for each line to be decoded on its own
    (``\\n`` is never part of a longer UTF-8 sequence, so both give the same lines). The text's
    lines are made one at a time (as ``str.split`` would give them), so that half a million
    lines are never all held at once besides their rows."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        yield from [raw.removesuffix(b"\r") for raw in data.split(b"\n")]
        return
    find = text.find
    start = 0
    while (end := find("\n", start)) >= 0:
        yield text[start:end].removesuffix("\r")
        start = end + 1
    yield text[start:].removesuffix("\r")


def _looks_like_exception_line(fields: list[str]) -> bool:
    """An exception report's line: seven columns, the fifth an error type (``… Error``)."""
    return len(fields) == _EXCEPTION_COLUMNS and fields[4].endswith("Error")


def _exception_report(file: str, how: str) -> ExceptionReportGiven:
    return ExceptionReportGiven(
        file,
        f"is an OCLC bib exception report (7 columns: JobID, MMS ID, existing and incoming OCLC "
        f"number, error type, severity, message; recognised {how}), not a bib processing "
        "report, so it is not read: give the job's BibProcessingReport.txt instead",
    )
