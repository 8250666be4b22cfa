"""Rules L6, B3: Alma's course loader file, 34 columns, tab-separated, CRLF, UTF-8, written
atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.courses.loader_tsv import LoaderFiles, read_loader_file, render_loader_file
from application.courses.ports import LoaderWriter
from application.shared.files import MalformedFile
from domain.courses.loader_row import LOADER_HEADER, LoaderRow, Operation

COURSE = LoaderRow(
    course_code="2024Fall-X-FRE101-55555",
    title="Le français: café et société",
    section_id="55555",
    academic_department="LA",
    processing_department="HAYDEN",
    terms=("AUTUMN",),
    start_date="19-08-2024",
    end_date="06-12-2024",
    year="2024",
    searchable_id_1="FRE101",
    instructors=("jdoe1", "asmith2"),
    all_instructors="jdoe1,asmith2",
)


@pytest.fixture
def example(shared_reference: Path) -> bytes:
    """The synthetic 34-column example: UTF-8, CRLF, a header row, a DELETE and a ROLLOVER."""
    folder = shared_reference / "leganto_course_loading"
    return (folder / "synthetic_course_loader_34col_example.txt").read_bytes()


def test_the_adapter_satisfies_the_port() -> None:
    writer: LoaderWriter = LoaderFiles()  # checked by mypy; structural at runtime
    assert callable(writer.write)


def test_L6_the_synthetic_example_round_trips_byte_for_byte(example: bytes) -> None:
    # rule L6: the same 34 columns, column for column, CRLF, UTF-8 and a header row.
    rows = read_loader_file(example, name="synthetic_course_loader_34col_example.txt")
    assert [row.operation for row in rows] == [
        Operation.CREATE_OR_UPDATE,
        Operation.CREATE_OR_UPDATE,
        Operation.DELETE,
        Operation.ROLLOVER,
    ]
    assert (rows[3].old_course_code, rows[3].old_section_id) == ("2023Fall-X-BIO100-40404", "40404")
    assert render_loader_file(rows) == example


def test_L6_header_34_columns_tabs_crlf_and_utf_8() -> None:
    content = render_loader_file([COURSE])
    lines = content.split(b"\r\n")
    assert lines[-1] == b""  # every line ends CRLF, the last one too
    assert b"\n" not in b"".join(lines)  # and no LF alone anywhere
    header, row = (line.decode("utf-8").split("\t") for line in lines[:-1])
    assert tuple(header) == LOADER_HEADER
    assert len(row) == len(LOADER_HEADER) == 34
    assert row[1] == "Le français: café et société"
    assert "é".encode() in content  # UTF-8, not the locale's encoding
    assert (row[3], row[4], row[5], row[13]) == ("LA", "HAYDEN", "AUTUMN", "2024")
    assert (row[17], row[18], row[27]) == ("jdoe1", "asmith2", "jdoe1,asmith2")
    assert read_loader_file(content) == [COURSE]


def test_L6_no_rows_is_the_header_alone() -> None:
    assert render_loader_file([]) == ("\t".join(LOADER_HEADER) + "\r\n").encode()


def test_L6_a_legacy_31_column_file_is_refused_naming_the_line(shared_reference: Path) -> None:
    legacy = shared_reference / "leganto_course_loading" / "lulibrary_diff_test_old.csv"
    with pytest.raises(MalformedFile) as raised:
        read_loader_file(legacy.read_bytes(), name=legacy.name)
    assert str(raised.value) == (
        "lulibrary_diff_test_old.csv at line 1: the header has 31 columns, a loader file 34"
    )


def test_L6_a_short_row_is_refused_naming_its_line() -> None:
    content = render_loader_file([COURSE, COURSE]) + b"A\tB\r\n"
    with pytest.raises(MalformedFile) as raised:
        read_loader_file(content, name="20240819093000.txt")
    assert raised.value.position == "line 4"
    assert "34 cells, not 2" in str(raised.value)


async def test_B3_the_file_appears_under_its_final_name_alone(tmp_path: Path) -> None:
    out = tmp_path / "out" / "course-loading"  # B8: made when absent
    path = await LoaderFiles().write(out, "20240819093000.txt", [COURSE])
    assert path == out / "20240819093000.txt"
    assert path.read_bytes() == render_loader_file([COURSE])
    assert [p.name for p in out.iterdir()] == ["20240819093000.txt"]


class _Unrenderable(LoaderRow):
    def cells(self) -> tuple[str, ...]:
        raise RuntimeError("this row cannot be rendered")


async def test_B3_a_write_that_fails_leaves_neither_a_temporary_nor_a_final_file(
    tmp_path: Path,
) -> None:
    rows = [COURSE, _Unrenderable("X", "Broken", "1", "LA", "HAYDEN")]
    with pytest.raises(RuntimeError, match="cannot be rendered"):
        await LoaderFiles().write(tmp_path, "20240819093000.txt", rows)
    assert list(tmp_path.iterdir()) == []


async def test_B3_a_failed_write_leaves_an_earlier_file_of_that_name_whole(tmp_path: Path) -> None:
    earlier = await LoaderFiles().write(tmp_path, "rollover_20240819093000.txt", [COURSE])
    rows = [COURSE, COURSE, _Unrenderable("X", "Broken", "1", "LA", "HAYDEN")]
    with pytest.raises(RuntimeError):
        await LoaderFiles().write(tmp_path, earlier.name, rows)
    assert earlier.read_bytes() == render_loader_file([COURSE])
    assert [p.name for p in tmp_path.iterdir()] == [earlier.name]


@pytest.mark.parametrize("name", ["", "..", "../20240819093000.txt", "sub/20240819093000.txt"])
async def test_B3_a_name_is_a_plain_file_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="plain file name"):
        await LoaderFiles().write(tmp_path / "out", name, [COURSE])
    assert not (tmp_path / "out").exists()
