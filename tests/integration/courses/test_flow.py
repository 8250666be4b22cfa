"""The daily course load end to end through the wiring's workflow (rules L1, L2, L6, L7, B1, B3,
B8): the CEM file taken from the remote, every line and course recorded, the loader file written
under ``--out`` and pushed to the target, over a ``file://`` remote and over SFTP."""

from __future__ import annotations

from application.shared.run_records import RecordOutcome, RunCounts, RunStatus
from domain.courses.loader_row import LOADER_HEADER, Operation
from tests.integration.courses.support import (
    Cem,
    Rig,
    cem_bytes,
    files,
    loader_rows,
    yesterday,
)
from tests.integration.files.servers import PASSWORD, USER, Faults, sftp_server

DAY_ROWS = [
    Cem("HIS101", "70001", title="World History", instructor="ann1"),
    Cem("BIO100", "70-002", title="Biology I", instructor="bob2", campus="TEMPE", college="LS"),
    Cem("MUS200", "70003", title="Music Theory", status="REQUESTED"),
]


async def test_L1_B1_the_newest_CEM_file_of_today_is_loaded_recorded_and_pushed(rig: Rig) -> None:
    # rule L1: today's glob, the newest by name; yesterday's and older ones are left alone.
    older = rig.put_cem([Cem("OLD100", "79999")], suffix="_0600.csv")
    newest = rig.put_cem(DAY_ROWS, suffix="_0700.csv")
    stale = rig.campus / f"leganto_export_{yesterday(rig.day):%Y%m%d}_2300.csv"
    stale.write_bytes(cem_bytes([Cem("STALE1", "79998")]))
    before = {p.name: p.read_bytes() for p in rig.campus.iterdir()}

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    # rule B1: the input is named with its sha256, the output too.
    assert [d.name for d in result.run.inputs] == [newest.name]
    assert [d.name for d in result.run.outputs] == [rig.loader_name]
    # rule L1: the CEM files stay on the remote, untouched.
    assert {p.name: p.read_bytes() for p in rig.campus.iterdir()} == before
    assert older.name in before
    # rule L6: {YYYYmmddHHMMSS}.txt under --out; rule L7: the same bytes on the target.
    written = rig.out / rig.loader_name
    assert files(rig.out) == [rig.loader_name]
    assert files(rig.target) == [rig.loader_name]  # rule B3: no temporary name left over
    assert (rig.target / rig.loader_name).read_bytes() == written.read_bytes()
    rows = loader_rows(written)
    assert [(r.course_code, r.section_id) for r in rows] == [
        (DAY_ROWS[0].course_code, "70001"),
        (DAY_ROWS[1].course_code, "70002"),  # rule L3: the SLN without '-'
    ]
    # rule B1: every CEM line and every course recorded with a reason naming it.
    kinds = await rig.kinds(result.run.id)
    lines = kinds["cem_line"]
    assert sorted(lines) == ["line 2", "line 3", "line 4"]
    assert lines["line 2"].outcome is RecordOutcome.OK
    assert lines["line 2"].reason == f"course {DAY_ROWS[0].key}"
    assert lines["line 4"].outcome is RecordOutcome.SKIPPED
    assert lines["line 4"].reason == "line 4: COURSE_STATUS is REQUESTED, not yet a course"
    courses = kinds["course"]
    assert sorted(courses) == sorted([DAY_ROWS[0].key, DAY_ROWS[1].key])
    assert courses[DAY_ROWS[0].key].reason == "create or update, CEM line 2"
    assert kinds["push"][rig.loader_name].reason == "pushed to alma"
    assert result.run.counts == RunCounts(ok=5, skipped=1, failed=0)


async def test_L6_the_loader_file_is_34_columns_tab_separated_CRLF_UTF8(rig: Rig) -> None:
    rig.put_cem(DAY_ROWS)

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK
    data = (rig.out / rig.loader_name).read_bytes()
    lines = data.split(b"\r\n")
    # rule L6: a header row and one row per course, each ending CRLF; no bare LF.
    assert lines[-1] == b""
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert lines[0].decode("utf-8").split("\t") == list(LOADER_HEADER)
    assert all(len(line.split(b"\t")) == 34 for line in lines[:-1])
    first = dict(zip(LOADER_HEADER, lines[1].decode("utf-8").split("\t"), strict=True))
    assert first["COURSE_TITLE"] == "World History"
    assert first["PROC_DEPT"] == "POLYTECHNIC"  # rule L3: campus POLY
    assert first["ACAD_DEPT"] == "AS"  # rule L3: the college code
    assert first["TERM1"] == "AUTUMN"  # rule L3: TERM 7, a code ending "Fall"
    assert first["START_DATE"] == "20-08-2026"  # rule L3: DD-MM-YYYY by default
    assert first["SEARCH_ID1"] == "HIS101"  # rule L3: Searchable ID 1 = COURSE_ID
    assert first["INSTR1"] == "ann1"
    assert first["OPERATION"] == ""
    second = loader_rows(rig.out / rig.loader_name)[1]
    assert second.processing_department == "HAYDEN"  # TEMPE, college LS
    assert second.operation is Operation.CREATE_OR_UPDATE


async def test_L1_cem_flag_reads_that_file_and_no_push_leaves_the_target_alone(rig: Rig) -> None:
    given = rig.cem_file(DAY_ROWS, name="given.csv")

    result = await rig.run(rig.job(cem=given, push=False))

    assert result.run.status is RunStatus.OK, result.run.reason
    assert [d.name for d in result.run.inputs] == ["given.csv"]
    assert files(rig.out) == [rig.loader_name]
    assert files(rig.target) == []  # rule L7: --no-push
    assert "push" not in await rig.kinds(result.run.id)


async def test_B8_a_dry_run_writes_the_loader_file_locally_and_pushes_nothing(rig: Rig) -> None:
    rig.put_cem(DAY_ROWS)

    result = await rig.run(rig.job(), dry_run=True)

    assert result.run.status is RunStatus.OK
    assert result.run.dry_run
    assert files(rig.out) == [rig.loader_name]
    assert files(rig.target) == []  # rule B8: no upload
    assert "push" not in await rig.kinds(result.run.id)


async def test_B3_the_same_CEM_file_gives_a_byte_identical_loader_file(rig: Rig) -> None:
    rig.put_cem(DAY_ROWS)
    first = await rig.run(rig.job(), dry_run=True)
    name = rig.loader_name
    rig.advance(60)

    second = await rig.run(rig.job(), dry_run=True)

    assert first.run.status is second.run.status is RunStatus.OK
    assert rig.loader_name != name  # rule L6: only the stamp in the name differs
    assert (rig.out / name).read_bytes() == (rig.out / rig.loader_name).read_bytes()


async def test_L7_the_loader_file_is_pushed_over_SFTP(rig: Rig) -> None:
    # rule L7 over a real SFTP server: temporary name, then rename; the listing shows it.
    rig.put_cem(DAY_ROWS)
    rig.courses["target"] = "alma:course_loader"  # a folder of the remote, made when absent
    server_root = rig.root / "sftp"
    (server_root / "incoming").mkdir(parents=True)
    async with sftp_server(server_root, Faults()) as server:
        rig.remotes["alma"] = {
            "url": f"sftp://{USER}@127.0.0.1:{server.port}/incoming",
            "password": PASSWORD,
            "host_key": server.host_key.get_fingerprint("sha256"),
        }

        result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    folder = server_root / "incoming" / "course_loader"
    assert files(folder) == [rig.loader_name]
    pushed = (folder / rig.loader_name).read_bytes()
    assert pushed == (rig.out / rig.loader_name).read_bytes()
    assert PASSWORD not in repr(result.run)


async def test_B8_the_out_folder_is_made_when_absent(rig: Rig) -> None:
    rig.put_cem(DAY_ROWS)
    assert not rig.out.exists()

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK
    assert rig.out.is_dir()


async def test_L3_B9_dates_take_the_configured_format(rig: Rig) -> None:
    rig.courses["date_format"] = "%Y-%m-%d"
    rig.put_cem(DAY_ROWS[:1])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK
    [row] = loader_rows(rig.out / rig.loader_name)
    assert (row.start_date, row.end_date) == ("2026-08-20", "2026-12-11")
    assert (await rig.get_run(result.run.id)).options["date_format"] == "%Y-%m-%d"
