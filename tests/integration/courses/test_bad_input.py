"""Issue 17's bad inputs: each is recorded with its reason while the rest of the run goes on, or
ends the run with one clear sentence (rules L1, L2, L3, L4, L6, B2, B3, B4)."""

from __future__ import annotations

import pytest

from application.shared.run_records import RecordOutcome, RunStatus
from domain.courses.loader_row import Operation
from tests.integration.courses.support import (
    CEM_COLUMNS,
    Cem,
    Rig,
    by_key,
    cem_bytes,
    cem_lines,
    code,
    files,
    loader_rows,
    seed_course,
    yesterday,
)

GOOD = [Cem("HIS101", "75001"), Cem("HIS102", "75002")]


async def test_L1_B2_no_CEM_file_for_today_fails_the_run_in_one_sentence(rig: Rig) -> None:
    (rig.campus / f"leganto_export_{yesterday(rig.day):%Y%m%d}.csv").write_bytes(cem_bytes(GOOD))

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == (
        f"no CEM file for {rig.day:%Y-%m-%d} in campus:leganto_export_{{YYYYMMDD}}*: nothing "
        f"matches leganto_export_{rig.day:%Y%m%d}* in {rig.campus}"
    )
    assert files(rig.out) == []  # rule B3: no output
    assert files(rig.target) == []


async def test_L2_B2_missing_columns_fail_the_run_naming_them(rig: Rig) -> None:
    columns = [c for c in CEM_COLUMNS if c not in ("COURSE_STATUS", "SLN")]
    cem = rig.put_cem(cem_bytes(GOOD, columns))

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == (
        f"the CEM file {cem.name} lacks the columns COURSE_STATUS, SLN in its header (line 1)"
    )
    assert [d.name for d in result.run.inputs] == [cem.name]  # rule B1: the input is named
    assert files(rig.out) == []


async def test_L2_B2_an_empty_CEM_file_fails_the_run(rig: Rig) -> None:
    cem = rig.put_cem(cem_bytes([]))

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == f"the CEM file {cem.name} holds no course row: nothing loaded"


async def test_L2_B2_a_malformed_line_is_failed_with_its_number_and_the_rest_loaded(
    rig: Rig,
) -> None:
    header, first, second = cem_lines(GOOD)
    cem = rig.put_cem("".join([header, first, "only,three,fields\n", second]).encode())

    result = await rig.run(rig.job())

    # rule B2: partial (exit 1); the other lines loaded, the file written and pushed.
    assert result.run.status is RunStatus.PARTIAL
    [failure] = result.failures
    assert (failure.kind, failure.key) == ("cem_line", "line 3")
    assert failure.reason == f"{cem.name}: 3 fields where the header has {len(CEM_COLUMNS)}"
    assert sorted(by_key(loader_rows(rig.out / rig.loader_name))) == sorted(g.key for g in GOOD)
    lines = (await rig.kinds(result.run.id))["cem_line"]
    assert lines["line 4"].reason == f"course {GOOD[1].key}"
    assert files(rig.target) == [rig.loader_name]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
async def test_L2_line_numbers_count_blank_lines_and_a_NUL_line_is_failed(
    rig: Rig, newline: str
) -> None:
    header, first, second = (line.replace("\n", newline) for line in cem_lines(GOOD))
    nul = first.replace("A course", "A\x00course")
    cem = rig.put_cem("".join([header, first, newline, nul, second]).encode())

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.PARTIAL
    assert [(f.key, f.reason) for f in result.failures] == [
        ("line 4", f"{cem.name}: the line holds a NUL character")
    ]
    lines = (await rig.kinds(result.run.id))["cem_line"]
    assert lines["line 5"].reason == f"course {GOOD[1].key}"  # the blank line 3 counted


async def test_L2_a_file_not_in_the_configured_encoding_fails_the_run_naming_the_byte(
    rig: Rig,
) -> None:
    rig.courses["cem_encoding"] = "utf-8"
    cem = rig.put_cem([Cem("FRE101", "75010", title="Café")])  # ISO-8859-1 bytes

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason is not None
    assert result.run.reason.startswith(f"the CEM file {cem.name} is not utf-8 text: byte ")
    assert result.run.reason.endswith("(0xe9, line 2) cannot be decoded")


async def test_L2_a_quote_never_closed_costs_its_line_only(rig: Rig) -> None:
    header, first, second = cem_lines(GOOD)
    broken = first.replace("A course", '"A course', 1)
    cem = rig.put_cem("".join([header, broken, second]).encode())

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.PARTIAL
    [failure] = result.failures
    assert (failure.kind, failure.key) == ("cem_line", "line 2")
    assert failure.reason == f"{cem.name}: a quote opened on this line is never closed"
    assert list(by_key(loader_rows(rig.out / rig.loader_name))) == [GOOD[1].key]


async def test_L3_B2_a_bad_date_is_failed_with_its_line_number(rig: Rig) -> None:
    bad = Cem("HIS103", "75003", start="2026-13-45 00:00:00.000000000")
    rig.put_cem([GOOD[0], bad, GOOD[1]])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.PARTIAL
    [failure] = result.failures
    assert (failure.kind, failure.key) == ("cem_line", "line 3")
    assert failure.reason == (
        f"line 3: START_SYNC_DATE '2026-13-45 00:00:00.000000000' of {bad.key} is not a date"
    )
    assert sorted(by_key(loader_rows(rig.out / rig.loader_name))) == sorted(g.key for g in GOOD)


async def test_L3_B2_unknown_campus_college_and_term_take_the_fallback_and_stay_ok(
    rig: Rig,
) -> None:
    campus = Cem("GEO101", "75004", campus="MARS")
    college = Cem("GEO102", "75005", campus="TEMPE", college="ZZ")
    term = Cem("GEO103", "75006", term="9")
    rig.put_cem([campus, college, term])

    result = await rig.run(rig.job())

    # rule B2: a fallback is recorded, ok, and alone does not make the run partial.
    assert result.run.status is RunStatus.OK, result.failures
    lines = (await rig.kinds(result.run.id))["cem_line"]
    assert all(r.outcome is RecordOutcome.OK for r in lines.values())
    assert lines["line 2"].reason == (
        f"course {campus.key}; unknown campus MARS: processing department HAYDEN (campus fallback)"
    )
    assert lines["line 3"].reason == (
        f"course {college.key}; unknown college ZZ on campus TEMPE: processing department "
        "COURSE_UNIT (college fallback)"
    )
    assert lines["line 4"].reason == (
        f"course {term.key}; unknown TERM 9 for {term.course_code}: Alma term left empty "
        "(term fallback)"
    )
    rows = by_key(loader_rows(rig.out / rig.loader_name))
    assert rows[campus.key].processing_department == "HAYDEN"
    assert rows[college.key].processing_department == "COURSE_UNIT"
    assert rows[term.key].terms == ()


async def test_L2_L6_a_title_with_a_tab_a_newline_and_latin1_becomes_one_clean_utf8_cell(
    rig: Rig,
) -> None:
    odd = Cem("FRE101", "75007", title="Café\tau\nlait")
    rig.put_cem([odd, GOOD[0]])  # ISO-8859-1, ASU's encoding: é is one byte 0xE9
    assert b"Caf\xe9" in (rig.campus / next(iter(files(rig.campus)))).read_bytes()

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.failures
    data = (rig.out / rig.loader_name).read_bytes()
    assert "\tCafé au lait\t".encode() in data  # rule L6: UTF-8, blanks made spaces
    assert len(data.split(b"\r\n")) == 4  # header, two rows, the last line's end
    rows = by_key(loader_rows(rig.out / rig.loader_name))
    assert rows[odd.key].title == "Café au lait"
    # rule L2: the quoted value spans lines 2 and 3; the next row is line 4.
    lines = (await rig.kinds(result.run.id))["cem_line"]
    assert sorted(lines) == ["line 2", "line 4"]
    assert lines["line 4"].reason == f"course {GOOD[0].key}"


async def test_L4_duplicate_code_and_section_rows_are_merged_and_recorded(rig: Rig) -> None:
    twice = Cem("MAT101", "75008", instructor="kim7")
    rig.put_cem([twice, GOOD[0], twice])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK
    rows = by_key(loader_rows(rig.out / rig.loader_name))
    assert sorted(rows) == sorted([twice.key, GOOD[0].key])
    assert rows[twice.key].instructors == ("kim7",)
    line = (await rig.kinds(result.run.id))["cem_line"]["line 4"]
    assert line.outcome is RecordOutcome.OK
    assert line.reason == f"course {twice.key}; line 4: merged into {twice.key} of line 2"
    course = (await rig.kinds(result.run.id))["course"][twice.key]
    assert course.reason == "create or update, CEM lines 2, 4"


async def test_L6_B2_a_row_alma_would_refuse_is_recorded_and_left_out(rig: Rig) -> None:
    odd_year = Cem("HIS109", "75009", year="2026-27", code=code("HIS109", "75009"))
    rig.put_cem([odd_year, GOOD[0]])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.PARTIAL
    [failure] = result.failures
    assert (failure.kind, failure.key) == ("course", odd_year.key)
    assert failure.reason == "YEAR '2026-27' is not a whole number, as Alma's course loader needs"
    assert list(by_key(loader_rows(rig.out / rig.loader_name))) == [GOOD[0].key]


async def test_B4_L5_a_course_API_5xx_storm_holds_the_DELETEs_back_and_writes_the_rest(
    rig: Rig,
) -> None:
    state = rig.alma.state
    deletes = [
        Cem("HIS201", "76001", status="DENIED"),
        Cem("HIS202", "76002", status="SUSPENDED"),
        Cem("ANT101", "76003", status="DENIED", year="2019", start="", end=""),
    ]
    for cem in deletes:
        seed_course(state, cem.course_code, cem.section, int(cem.year))
    rig.put_cem([*deletes, *GOOD])
    rig.alma.faults.fail_next(10_000, status=503, path_contains="/almaws/v1/courses")

    result = await rig.run(rig.job())

    # rule B2: each held-back DELETE failed, the run partial; rule L5: never sent blind.
    assert result.run.status is RunStatus.PARTIAL
    assert sorted((f.kind, f.key) for f in result.failures) == sorted(
        ("course", d.key) for d in deletes
    )
    assert all(
        f.reason.startswith("DELETE held back: Alma could not be asked") for f in result.failures
    )
    written = loader_rows(rig.out / rig.loader_name)
    assert sorted(by_key(written)) == sorted(g.key for g in GOOD)
    assert all(row.operation is Operation.CREATE_OR_UPDATE for row in written)
    assert (rig.target / rig.loader_name).read_bytes() == (rig.out / rig.loader_name).read_bytes()
    # rule B4: retried with backoff before giving up.
    assert sum(1 for call in rig.alma.calls() if call.status == 503) >= 12
    assert all(call.status == 503 for call in rig.alma.calls("/courses"))


async def test_B4_a_short_5xx_burst_is_retried_and_the_DELETEs_still_checked(rig: Rig) -> None:
    deletes = [Cem("HIS201", "76001", status="DENIED"), Cem("HIS202", "76002", status="DENIED")]
    for cem in deletes:
        seed_course(rig.alma.state, cem.course_code, cem.section, int(cem.year))
    rig.put_cem([*deletes, *GOOD])
    rig.alma.faults.fail_next(5, status=503, path_contains="/almaws/v1/courses")

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.failures
    assert sum(1 for call in rig.alma.calls() if call.status == 503) == 5
    rows = by_key(loader_rows(rig.out / rig.loader_name))
    assert [rows[d.key].operation for d in deletes] == [Operation.DELETE, Operation.DELETE]


async def test_L7_B2_a_loader_file_of_that_name_on_the_remote_is_kept_and_the_run_failed(
    rig: Rig,
) -> None:
    rig.put_cem(GOOD)
    rig.target.mkdir()
    there = rig.target / rig.loader_name  # the runner's clock is fixed: the name is known
    there.write_bytes(b"an earlier run's loader file")

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == (
        f"alma already holds {rig.target}/{rig.loader_name}; it was not overwritten, and this "
        "run's loader file was not delivered"
    )
    assert there.read_bytes() == b"an earlier run's loader file"
    assert files(rig.target) == [rig.loader_name]  # no temporary file either
    assert files(rig.out) == [rig.loader_name]  # the local file stays for an operator
    assert "push" not in await rig.kinds(result.run.id)
