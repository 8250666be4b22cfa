"""Rule L2: the CEM file read as the campus sends it, line numbers and all."""

from __future__ import annotations

import codecs

import pytest

from adapters.courses.cem_csv import CemCsvReader, read_cem
from adapters.courses.loader_tsv import read_loader_file, render_loader_file
from application.courses.ports import CemReader
from domain.courses.cem import REQUIRED_COLUMNS, ROLLOVER_COLUMNS, CemFile, CemUnusable
from domain.courses.loader_row import LoaderRow

NAME = "leganto_export_20240819.csv"
HEADER = ",".join(REQUIRED_COLUMNS)


def line(code: str = "2024Fall-X-ENG101-12345", title: str = "Intro to Writing") -> str:
    """One CEM row under `HEADER`."""
    return (
        f"{code},APPROVED,{title},123-45,jdoe1,LA,TEMPE,ENG101,7,2024,"
        "2024-08-19 00:00:00.000000000,2024-12-06 00:00:00.000000000"
    )


def cem(*lines: str, header: str = HEADER, encoding: str = "iso-8859-1") -> bytes:
    """A CEM file as the campus writes it: CRLF lines."""
    return "".join(f"{text}\r\n" for text in (header, *lines)).encode(encoding)


def read(content: bytes, encoding: str = "iso-8859-1") -> CemFile:
    return read_cem(content, encoding, name=NAME)


def test_the_adapter_satisfies_the_port() -> None:
    reader: CemReader = CemCsvReader()  # checked by mypy; structural at runtime
    read_back = reader.read(cem(line()), "iso-8859-1", NAME)
    assert [row.course_code for row in read_back.rows] == ["2024Fall-X-ENG101-12345"]


def test_L2_every_column_the_rules_use_is_read_stripped_with_line_numbers() -> None:
    header = f"{HEADER},{','.join(ROLLOVER_COLUMNS)}"
    read_back = read(cem(f" {line()} ,40404 ,2023,BIO100,7", f"{line('B')},,,,", header=header))
    first, second = read_back.rows
    assert (first.line, second.line) == (2, 3)  # rule L2: the header is line 1
    assert (first.course_code, first.status, first.title, first.sln) == (
        "2024Fall-X-ENG101-12345",
        "APPROVED",
        "Intro to Writing",
        "123-45",
    )
    assert (first.instructor, first.college, first.campus, first.course_id) == (
        "jdoe1",
        "LA",
        "TEMPE",
        "ENG101",
    )
    assert (first.term, first.year, first.start, first.end) == (
        "7",
        "2024",
        "2024-08-19 00:00:00.000000000",
        "2024-12-06 00:00:00.000000000",
    )
    assert (first.copy_sln, first.copy_year, first.copy_course_id, first.copy_term) == (
        "40404",
        "2023",
        "BIO100",
        "7",
    )
    assert read_back.problems == ()


def test_L2_rollover_columns_absent_read_as_empty_and_extra_columns_are_ignored() -> None:
    header = f"NOTE,{HEADER},DEPT_CODE"
    row = read(cem(f"hello,{line()},X", header=header)).rows[0]
    assert row.title == "Intro to Writing"
    assert (row.copy_sln, row.copy_year, row.copy_course_id, row.copy_term) == ("", "", "", "")


def test_L2_latin_1_is_decoded_as_latin_1() -> None:
    content = cem(line(title="Café Society"), encoding="iso-8859-1")
    assert b"Caf\xe9" in content
    assert read(content).rows[0].title == "Café Society"


def test_L2_a_decode_error_names_the_file_the_encoding_and_the_byte() -> None:
    content = cem(line(title="Café"), encoding="iso-8859-1")
    with pytest.raises(CemUnusable) as raised:
        read(content, "utf-8")
    offset = content.index(b"\xe9")
    assert raised.value.sentence == (
        f"the CEM file {NAME} is not utf-8 text: byte {offset} (0xe9, line 2) cannot be decoded"
    )


def test_L2_a_utf_8_byte_order_mark_and_blanks_around_header_names_are_ignored() -> None:
    header = " , ".join(REQUIRED_COLUMNS)
    content = codecs.BOM_UTF8 + cem(line(title="Noël"), header=header, encoding="utf-8")
    assert read(content, "utf-8").rows[0].title == "Noël"
    # Declared ISO-8859-1 (ASU's), a UTF-8 mark still does not hide the first column.
    assert read(content, "iso-8859-1").rows[0].course_code == "2024Fall-X-ENG101-12345"


def test_L2_B2_missing_columns_are_each_named_with_the_file() -> None:
    header = ",".join(c for c in REQUIRED_COLUMNS if c not in ("SLN", "TERM"))
    with pytest.raises(CemUnusable) as raised:
        read(cem("a,b", header=header))
    assert raised.value.missing_columns == ("SLN", "TERM")
    assert raised.value.sentence == (
        f"the CEM file {NAME} lacks the columns SLN, TERM in its header (line 1)"
    )


def test_L2_an_empty_file_is_unusable() -> None:
    with pytest.raises(CemUnusable, match=f"the CEM file {NAME} is empty"):
        read(b"\r\n\r\n")


def test_L2_a_column_named_twice_is_unusable() -> None:
    with pytest.raises(CemUnusable, match="names the column SLN twice"):
        read(cem(header=f"{HEADER},SLN"))


def test_L2_B2_a_malformed_line_is_recorded_with_its_number_and_the_rest_read() -> None:
    read_back = read(cem(line("A"), "2024Fall-X-BAD,APPROVED", line("C"), "x\x00y", line("E")))
    assert [(row.line, row.course_code) for row in read_back.rows] == [(2, "A"), (4, "C"), (6, "E")]
    assert [(p.line, p.reason) for p in read_back.problems] == [
        (3, f"{NAME}: 2 fields where the header has 12"),
        (5, f"{NAME}: the line holds a NUL character"),
    ]


def test_L2_a_quote_never_closed_costs_its_line_only() -> None:
    read_back = read(cem(line("A"), line("B", title='"Open quote'), line("C"), line("D")))
    assert [(row.line, row.course_code) for row in read_back.rows] == [(2, "A"), (4, "C"), (5, "D")]
    assert [(p.line, p.reason) for p in read_back.problems] == [
        (3, f"{NAME}: a quote opened on this line is never closed"),
    ]


def test_L2_line_numbers_stay_right_after_a_multi_line_quoted_value_and_blank_lines() -> None:
    content = cem(line("A", title='"Two\r\nlines"'), "", line("B"), line("C", title='"x\ny\nz"'))
    read_back = read(content)
    assert [(row.line, row.course_code) for row in read_back.rows] == [(2, "A"), (5, "B"), (6, "C")]
    assert read_back.rows[0].title == "Two\r\nlines"
    # A malformed line after them still names its own line.
    tail = read(content + b"only,three,fields\r\n" + f"{line('D')}\r\n".encode())
    assert [(p.line, p.reason) for p in tail.problems] == [
        (9, f"{NAME}: 3 fields where the header has 12")
    ]
    assert tail.rows[-1].line == 10


def test_L2_a_malformed_multi_line_record_is_read_again_from_its_next_line() -> None:
    # rule L2: a stray quote on line 2 and another at the end of line 3 join them into one
    # record of 3 fields; line 3 is then read again on its own, so only line 2 is lost.
    read_back = read(cem(line("A", title='"Stray'), line("B") + '"', line("C")))
    assert [(p.line, p.reason) for p in read_back.problems] == [
        (
            2,
            f"{NAME}: 3 fields where the header has 12 (a quoted value runs from line 2 to line 3)",
        )
    ]
    assert [(row.line, row.course_code) for row in read_back.rows] == [(3, "B"), (4, "C")]


def test_L2_L6_a_title_with_a_tab_or_a_line_break_is_one_cell_with_spaces() -> None:
    rows = read(cem(line("A", title='"Tab\there"'), line("B", title='"Line\r\nbreak"'))).rows
    loader = render_loader_file(
        LoaderRow(row.course_code, row.title, row.sln.replace("-", ""), row.college, "HAYDEN")
        for row in rows
    )
    lines = loader.split(b"\r\n")
    assert lines[1].split(b"\t")[:2] == [b"A", b"Tab here"]
    assert lines[2].split(b"\t")[:2] == [b"B", b"Line break"]
    assert lines[3:] == [b""]  # header, two rows, each line ending CRLF
    assert [row.title for row in read_loader_file(loader)] == ["Tab here", "Line break"]
