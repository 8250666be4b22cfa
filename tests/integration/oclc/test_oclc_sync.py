"""The whole OCLC merge through the `JobRunner` (rules O1–O7, B1–B3, B5), as the wiring builds it
(`OclcSyncJob`), on each ledger backend (memory, SQLite, PostgreSQL) for the golden run and on the
memory ledger for the rest.

* The reference inputs (Carleton + Western, upstream's do-not-change template) give upstream's
  counts and CSVs, the 5 conflicts with both rows, and one record per Network Id saying where it
  went and why.
* The classification against the manual Analytics export and against the fake NZ's Analytics
  (pages of 25, columns in another order, empty cells left out) give the same files, byte for
  byte; the misaligned export and an unknown Analytics path fail the run in one sentence.
* Without a doublecheck the outputs of O1–O4 are written and the run says why it stops there.
* Bad input, each a test: lines of 4 or 6 columns, ids with spaces or a leading zero, an empty,
  Latin-1 or exception report, a do-not-change workbook without ``Network Id``, a CSV renamed
  ``.xlsx``, a doublecheck whose headings come in another order (accepted).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from adapters.ledger.memory import MemoryLedger
from adapters.oclc.oclc_files import OclcFiles
from adapters.oclc.oclc_inputs import ReportFiles
from application.oclc.oclc_sync import NEEDS_DOUBLECHECK, OclcRunSettings, OclcSync
from application.shared.run_records import RecordOutcome, RunCounts, RunStatus
from application.shared.workflow_settings import OCUL_INSTITUTIONS
from domain.oclc.split import Institution
from tests.integration.ledger.conftest import backend, clock
from tests.integration.ledger.support import Backend, FakeClock
from tests.integration.oclc.support import (
    CEF,
    DO_NOT_CHANGE,
    DO_NOT_CHANGE_MMS_IZ,
    EXPECTED,
    INPUTS,
    MANUAL,
    MISALIGNED,
    NZ,
    PATH,
    REPORT_COUNTS,
    UWO,
    OclcRig,
    sheet_cells,
    write_sheet,
)

__all__ = ["backend", "clock"]  # the ledger fixtures, for every backend

ARGS = ("--report", CEF, "--report", UWO, "--do-not-change", DO_NOT_CHANGE)
CSV_FILES = ("bibprocessmerged.csv", "CEFbibprocess.csv", "UWObibprocess.csv")
TEXT_AND_IMPORT = ("a_to_z_MMSid_for_set.txt", "oclc_numbers_updated.txt", "for_import_to_NZ.xlsx")
CONFLICT_IDS = (
    "991702800505151",
    "991993690805151",
    "991523164305151",
    "991980006605151",
    "991585665705151",
)
CEF_JOB = "CEF_1012688_1748084545832::bib::"
UWO_JOB = "UWO_1012743_1748081412178::bib::"


@pytest.fixture
def rig(backend: Backend, tmp_path: Path) -> OclcRig:
    """A rig on each ledger backend."""
    return OclcRig(backend, tmp_path)


@pytest.fixture
def mrig(tmp_path: Path) -> OclcRig:
    """A rig on the memory ledger."""
    fake = FakeClock()
    shared = MemoryLedger(fake)
    return OclcRig(Backend("memory", fake, None, lambda: shared), tmp_path)


def as_text(rows: list[list[Any]]) -> list[list[str | None]]:
    """Cells as text: upstream wrote its OCLC numbers as numbers (the fix O7 makes)."""
    return [[None if value is None else str(value) for value in row] for row in rows]


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def copy_with(path: Path, source: Path, *extra: bytes) -> Path:
    """``source``'s bytes with ``extra`` lines after them, at ``path``."""
    path.write_bytes(source.read_bytes() + b"".join(line + b"\n" for line in extra))
    return path


# ---- the golden run --------------------------------------------------------------------------


async def test_O1_O3_O4_O6_O7_B1_the_reference_run_gives_upstreams_outputs_and_counts(
    rig: OclcRig,
) -> None:
    result = await rig.run(rig.job(*ARGS, "--doublecheck", MANUAL))

    run = result.run
    assert (run.status, run.reason) == (RunStatus.OK, None)
    report = rig.report_path()
    names = [*CSV_FILES, "comparison_file_IZ.xlsx", report.name, *TEXT_AND_IMPORT]
    assert [output.name for output in run.outputs] == names
    assert sorted(p.name for p in rig.out.iterdir()) == sorted(names)  # no .part left (B3)
    assert [i.name for i in run.inputs] == [CEF.name, UWO.name, DO_NOT_CHANGE.name, MANUAL.name]
    for name in CSV_FILES:  # O3: row for row, byte for byte
        assert (rig.out / name).read_bytes() == (EXPECTED / name).read_bytes(), name
    comparison = sheet_cells(rig.out / "comparison_file_IZ.xlsx")
    expected = sheet_cells(EXPECTED / "comparison_file_IZ.xlsx")
    assert comparison == {name: as_text(rows) for name, rows in expected.items()}
    assert (len(comparison["DIFF"]), len(comparison["SAME"])) == (1 + 129, 1 + 2109)  # O4
    sheets = sheet_cells(report)
    assert {name: len(rows) - 1 for name, rows in sheets.items()} == REPORT_COUNTS
    # O7: the text files and the import file are the update by job rows, in the same order.
    by_job = sheets["update by job"][1:]
    assert lines(rig.out / "a_to_z_MMSid_for_set.txt") == ["MMS Id", *(r[1] for r in by_job)]
    assert lines(rig.out / "oclc_numbers_updated.txt") == ["Incoming 035a", *(r[3] for r in by_job)]
    assert sheet_cells(rig.out / "for_import_to_NZ.xlsx") == {
        "for_import_to_NZ": [["001", "035 $a"], *([r[1], r[3]] for r in by_job)]
    }
    # B1: one record per Network Id: 2,238 NZ + 36 CEF + 10 UWO.
    records = await rig.by_kind(run.id)
    assert set(records) == {"network_id"}
    ids = records["network_id"]
    assert len(ids) == 2284
    assert run.counts == RunCounts(ok=2109 + 46 + 107 + 2, skipped=14 + 6, failed=0)
    first = by_job[0]
    assert ids[first[1]].reason.startswith(
        f"update by job in {report.name}: match: incoming 035a {first[3]} is not among the NZ's "
        "035a ("
    )
    assert ids[first[1]].outcome is RecordOutcome.OK
    cef_id = next(csv.DictReader(io.StringIO((EXPECTED / "CEFbibprocess.csv").read_text())))
    assert ids[cef_id["Network Id"]].reason == (
        "CEFbibprocess.csv: Carleton University's record (suffix 5153), not the Network Zone's"
    )
    review = [k for k, r in ids.items() if r.reason.startswith("records for review")]
    missing = [k for k, r in ids.items() if r.reason.startswith("not in analytics")]
    assert (len(review), len(missing)) == (14, 6)
    assert all(ids[k].outcome is RecordOutcome.SKIPPED for k in review + missing)


async def test_O2_the_conflicts_sheet_lists_the_five_conflicts_with_both_rows(
    mrig: OclcRig,
) -> None:
    result = await mrig.run(mrig.job(*ARGS, "--doublecheck", MANUAL))

    heading, *rows = sheet_cells(mrig.report_path())["conflicts"]
    assert heading == [
        "Institution",
        "JobID",
        "Network Id",
        "Existing 035a",
        "Incoming 035a",
        "Action",
        "Kept",
        "Disagreement",
    ]
    assert [row[2] for row in rows] == [i for i in CONFLICT_IDS for _ in (1, 2)]
    assert [(row[0], row[6]) for row in rows] == [("CEF", "kept"), ("UWO", "set aside")] * 5
    two_records = rows[4:6]  # 991523164305151: two new WorldCat records
    assert two_records == [
        ["CEF", f"{CEF_JOB}2354328", CONFLICT_IDS[2], "50403538", "1520924209", "create", "kept",
         "Incoming 035a, Action"],
        ["UWO", f"{UWO_JOB}1034837", CONFLICT_IDS[2], "50403538", "1520918535", "unresolved",
         "set aside", "Incoming 035a, Action"],
    ]  # fmt: skip
    ids = (await mrig.by_kind(result.run.id))["network_id"]
    record = ids[CONFLICT_IDS[2]]
    assert record.reason.endswith(
        "; conflict: CEF's row kept over UWO's (Incoming 035a and Action differ), every row on "
        "the conflicts sheet"
    )
    assert record.detail["conflict"] == {
        "disagreement": ["Incoming 035a", "Action"],
        "rows": [
            {"institution": "CEF", "job_id": f"{CEF_JOB}2354328", "existing_035a": "50403538",
             "incoming_035a": "1520924209", "action": "create", "kept": True},
            {"institution": "UWO", "job_id": f"{UWO_JOB}1034837", "existing_035a": "50403538",
             "incoming_035a": "1520918535", "action": "unresolved", "kept": False},
        ],
    }  # fmt: skip
    assert "(Action differs)" in ids[CONFLICT_IDS[0]].reason
    assert all("conflict" in ids[i].detail for i in CONFLICT_IDS)
    assert any("conflict 991523164305151: CEF vs UWO" in m for m in mrig.messages)


# ---- the doublecheck, from the export or from Analytics (O5) -----------------------------------


async def test_O5_O6_the_nz_analytics_in_pages_of_25_gives_the_same_files_as_the_export(
    rig: OclcRig,
) -> None:
    rig.serve_export()
    by_export, by_api = rig.root / "export", rig.root / "analytics"

    first = await rig.run(rig.job(*ARGS, "--doublecheck", MANUAL), out=by_export)
    second = await rig.run(rig.job(*ARGS, "--analytics-institution", NZ), out=by_api)

    assert (first.run.status, second.run.status) == (RunStatus.OK, RunStatus.OK)
    assert [o.name for o in first.run.outputs] == [o.name for o in second.run.outputs]
    for output in first.run.outputs:  # the same bytes (B3), the identifier report included
        assert (by_export / output.name).read_bytes() == (by_api / output.name).read_bytes()
    assert first.run.outputs == second.run.outputs
    assert [i.name for i in second.run.inputs] == [CEF.name, UWO.name, DO_NOT_CHANGE.name]
    calls = rig.calls("/analytics/reports")
    firsts = [c for c in calls if c.param("path") == PATH]
    assert len(firsts) == 3  # the 129 DIFF ids in chunks of 50
    assert len(calls) == 3 * 5  # each the 123 rows in pages of 25 (the fake filters nothing)
    assert rig.clients[-1].closed
    assert first.run.counts == second.run.counts


async def test_O5_a_doublecheck_with_its_headings_in_another_order_is_accepted(
    mrig: OclcRig,
) -> None:
    heading, *rows = next(iter(sheet_cells(MANUAL).values()))
    order = [4, 2, 0, 3, 1]
    moved = write_sheet(
        mrig.root / "moved.xlsx",
        [[heading[i] for i in order], *([row[i] for i in order] for row in rows)],
    )

    first = await mrig.run(mrig.job(*ARGS, "--doublecheck", MANUAL), out=mrig.root / "a")
    second = await mrig.run(mrig.job(*ARGS, "--doublecheck", moved), out=mrig.root / "b")

    report = mrig.report_path().name
    assert second.run.status is RunStatus.OK
    assert (mrig.root / "a" / report).read_bytes() == (mrig.root / "b" / report).read_bytes()
    assert first.run.counts == second.run.counts


async def test_O5_B2_the_misaligned_export_fails_the_run_naming_the_column(mrig: OclcRig) -> None:
    result = await mrig.run(mrig.job(*ARGS, "--doublecheck", MISALIGNED))

    run = result.run
    assert run.status is RunStatus.FAILED
    assert run.reason is not None
    assert run.reason.startswith(
        f"{MISALIGNED} is refused because its columns do not line up: 'OCLC Control Number "
        "(035z)' holds values that are not OCLC numbers"
    )
    # O1-O4 were written before the doublecheck was read; nothing of O6-O7.
    assert [o.name for o in run.outputs] == [*CSV_FILES, "comparison_file_IZ.xlsx"]
    assert not mrig.report_path().exists()


async def test_O5_B2_an_analytics_path_that_does_not_exist_fails_the_run_with_alma_s_sentence(
    rig: OclcRig,
) -> None:
    result = await rig.run(rig.job(*ARGS, "--analytics-institution", NZ))

    run = result.run
    assert run.status is RunStatus.FAILED
    assert run.reason is not None
    assert run.reason.startswith(f"the doublecheck could not be read from Analytics report {PATH}")
    assert f"Path not found ({PATH})" in run.reason
    assert "ab-example-key" not in run.reason
    assert rig.clients[-1].closed


async def test_O5_without_a_doublecheck_o1_to_o4_are_written_and_the_run_says_why(
    mrig: OclcRig,
) -> None:
    result = await mrig.run(mrig.job(*ARGS))

    run = result.run
    assert (run.status, run.reason) == (RunStatus.OK, None)
    assert [o.name for o in run.outputs] == [*CSV_FILES, "comparison_file_IZ.xlsx"]
    for name in CSV_FILES:
        assert (mrig.out / name).read_bytes() == (EXPECTED / name).read_bytes()
    records = await mrig.by_kind(run.id)
    note = records["note"]["classification"]
    assert (note.outcome, note.reason) == (RecordOutcome.SKIPPED, NEEDS_DOUBLECHECK)
    assert NEEDS_DOUBLECHECK in mrig.messages
    ids = records["network_id"]
    diff = [r for r in ids.values() if r.reason.startswith("DIFF in comparison_file_IZ.xlsx")]
    assert len(diff) == 129
    assert {r.outcome for r in diff} == {RecordOutcome.SKIPPED}
    assert run.counts == RunCounts(ok=2109 + 46, skipped=129 + 1, failed=0)


# ---- the configuration: the institutions table and the primary (O2, O3, B9) ---------------


@pytest.mark.parametrize(
    "table",
    [
        "institutions.json",
        [
            {"name": "Carleton University", "id": "5153", "code": "CEF"},
            {"name": "Western University", "id": "5163", "code": "UWO"},
        ],
    ],
    ids=["a file beside the configuration", "inline"],
)
async def test_O3_B9_the_institutions_table_from_a_file_or_inline_gives_the_same_split(
    mrig: OclcRig, table: object
) -> None:
    (mrig.root / "institutions.json").write_bytes((INPUTS / "institutions.json").read_bytes())
    mrig.oclc = {"institutions": table}

    job = mrig.job("--report", CEF, "--report", UWO)
    result = await mrig.run(job)

    assert result.run.status is RunStatus.OK
    stored = job.options.institutions
    assert len(stored) == (19 if table == "institutions.json" else 2)
    assert ("Western University", "5163", "UWO") in stored
    for name in CSV_FILES:
        assert (mrig.out / name).read_bytes() == (EXPECTED / name).read_bytes()


async def test_O2_with_western_primary_the_conflicts_keep_western_rows(mrig: OclcRig) -> None:
    mrig.oclc = {"primary": "UWO"}

    await mrig.run(mrig.job(*ARGS, "--doublecheck", MANUAL))

    _, *rows = sheet_cells(mrig.report_path())["conflicts"]
    kept = rows[::2]  # each conflict's first row
    assert sorted(row[2] for row in kept) == sorted(CONFLICT_IDS)
    assert {(row[0], row[6]) for row in kept} == {("UWO", "kept")}
    merged = (mrig.out / "bibprocessmerged.csv").read_text()
    assert f"{UWO_JOB}1034837,991523164305151,50403538,1520918535,unresolved\n" in merged


# ---- do-not-change (O6) ----------------------------------------------------------------------


async def test_O6_ids_on_the_do_not_change_list_go_to_its_sheet_and_no_further(
    mrig: OclcRig,
) -> None:
    held, same = "991417914705151", "994538620405151"  # a DIFF id, a SAME id
    workbook = write_sheet(
        mrig.root / "held.xlsx", [["Notes", "Network Id"], ["x", held], ["y", same]]
    )
    args = ("--report", CEF, "--report", UWO, "--do-not-change", workbook)

    result = await mrig.run(mrig.job(*args, "--doublecheck", MANUAL))

    sheets = sheet_cells(mrig.report_path())
    assert [row[1] for row in sheets["do_not_change"][1:]] == [held]
    assert len(sheets["update by job"]) - 1 == REPORT_COUNTS["update by job"] - 1
    assert held not in lines(mrig.out / "a_to_z_MMSid_for_set.txt")
    ids = (await mrig.by_kind(result.run.id))["network_id"]
    assert (ids[held].outcome, ids[held].reason) == (
        RecordOutcome.SKIPPED,
        f"do_not_change in {mrig.report_path().name}: on the do-not-change list",
    )
    assert ids[same].reason.startswith("SAME in comparison_file_IZ.xlsx")  # O4 holds them all


async def test_O6_B2_a_do_not_change_workbook_without_network_id_fails_the_run(
    mrig: OclcRig,
) -> None:
    args = ("--report", CEF, "--report", UWO, "--do-not-change", DO_NOT_CHANGE_MMS_IZ)

    result = await mrig.run(mrig.job(*args, "--doublecheck", MANUAL))

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == (
        f"{DO_NOT_CHANGE_MMS_IZ} has no 'Network Id' column in its first row (headings found: "
        "'MMS_IZ')"
    )


async def test_B2_a_csv_renamed_xlsx_fails_the_run_in_one_sentence(mrig: OclcRig) -> None:
    renamed = mrig.root / "OCLC-doublecheck.xlsx"
    renamed.write_text("Network Id,OCLC Control Number (035a)\n991417914705151,1124289370\n")

    result = await mrig.run(mrig.job(*ARGS, "--doublecheck", renamed))

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason is not None
    assert result.run.reason.startswith(f"{renamed} is not an xlsx workbook (not a zip archive")


# ---- bad report lines and reports (O1, B2) ---------------------------------------------------


async def test_O1_B2_lines_of_4_or_6_columns_are_recorded_failed_and_the_rest_go_on(
    mrig: OclcRig,
) -> None:
    count = len(CEF.read_bytes().splitlines())
    report = copy_with(
        mrig.root / "CEF.txt", CEF, b"CEF_1::bib::1|991|1|match", b"CEF_1::bib::2|992|1|2|match|x"
    )

    result = await mrig.run(mrig.job("--report", report, "--report", UWO, "--doublecheck", MANUAL))

    run = result.run
    assert run.status is RunStatus.PARTIAL
    said = "columns where a bib processing report has 5"
    assert [(r.kind, r.key, r.reason) for r in result.failures] == [
        ("line", f"CEF.txt:{count + 1}", f"line skipped: 4 {said}"),
        ("line", f"CEF.txt:{count + 2}", f"line skipped: 6 {said}"),
    ]
    assert run.counts.failed == 2
    for name in CSV_FILES:  # the other lines went on
        assert (mrig.out / name).read_bytes() == (EXPECTED / name).read_bytes()


async def test_O1_O3_ids_with_spaces_or_a_leading_zero_stay_text_exactly(mrig: OclcRig) -> None:
    report = copy_with(
        mrig.root / "CEF.txt",
        CEF,
        b"CEF_1::bib::1|0991000000005151|1|2|match",
        b"CEF_1::bib::2|991000000015151 |1|2|match",
    )

    result = await mrig.run(mrig.job("--report", report, "--report", UWO))

    assert result.run.status is RunStatus.OK
    merged = (mrig.out / "bibprocessmerged.csv").read_text()
    assert "CEF_1::bib::1,0991000000005151,1,2,match\n" in merged
    assert (mrig.out / "unknown_suffix.csv").read_text().splitlines()[1:] == [
        "CEF_1::bib::2,991000000015151 ,1,2,match"
    ]
    ids = (await mrig.by_kind(result.run.id))["network_id"]
    assert ids["991000000015151 "].reason == (
        "unknown_suffix.csv: its suffix '151 ' is neither the Network Zone's (5151) nor an "
        "institution's of the table"
    )
    assert ids["0991000000005151"].reason.startswith("DIFF in comparison_file_IZ.xlsx")


@pytest.mark.parametrize(
    ("name", "data", "sentence"),
    [
        ("empty.txt", b"", "report empty.txt is empty: it has no line"),
        (
            "latin1.txt",
            "CEF_1::bib::1|991é5151|1|2|match\n".encode("latin-1"),
            "report latin1.txt is not UTF-8: none of its 1 lines decodes as UTF-8",
        ),
        (
            "PUL.BibExceptionReport.txt",
            b"PUL_1::bib::1|9912|1|2|Validation Error|SEVERE|x\n",
            "report PUL.BibExceptionReport.txt is an OCLC bib exception report",
        ),
    ],
    ids=["empty", "latin-1", "exception report"],
)
async def test_O1_B2_a_report_the_run_cannot_use_fails_it_in_one_sentence(
    mrig: OclcRig, name: str, data: bytes, sentence: str
) -> None:
    bad = mrig.root / name
    bad.write_bytes(data)

    result = await mrig.run(mrig.job("--report", CEF, "--report", bad))

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason is not None
    assert result.run.reason.startswith(sentence)
    assert result.run.outputs == ()
    assert [i.name for i in result.run.inputs] == [CEF.name]


async def test_O1_O2_the_princeton_reports_merge_into_the_unknown_suffix_file(
    mrig: OclcRig,
) -> None:
    reports = sorted(INPUTS.glob("pulibrary-lib_jobs__*BibProcessingReport.txt"))

    result = await mrig.run(mrig.job(*(a for r in reports for a in ("--report", r))))

    assert result.run.status is RunStatus.OK
    assert len((mrig.out / "unknown_suffix.csv").read_text().splitlines()) == 1 + 66
    assert len((mrig.out / "bibprocessmerged.csv").read_text().splitlines()) == 1


# ---- resume and the records' cost (B5, B1) -----------------------------------------------------


async def test_B5_resuming_a_partial_run_writes_the_same_outputs(mrig: OclcRig) -> None:
    report = copy_with(mrig.root / "CEF.txt", CEF, b"bad|line")
    first = await mrig.run(mrig.job("--report", report, "--report", UWO, "--doublecheck", MANUAL))
    before = {p.name: p.read_bytes() for p in mrig.out.iterdir()}

    again = await mrig.resume(first.run.id)

    assert (first.run.status, again.run.status) == (RunStatus.PARTIAL, RunStatus.PARTIAL)
    assert again.run.resumed_from == first.run.id
    assert {p.name: p.read_bytes() for p in mrig.out.iterdir()} == before
    assert again.run.outputs == first.run.outputs


async def test_B1_network_ids_are_recorded_many_to_a_commit(mrig: OclcRig) -> None:
    institutions = tuple(Institution(i.name, i.id, i.code) for i in OCUL_INSTITUTIONS)
    merge = OclcSync(
        OclcRunSettings((CEF, UWO), institutions), ReportFiles(), OclcFiles(), record_chunk=1000
    )

    result = await mrig.run(merge)

    assert result.run.counts.total == 2284 + 1  # and the note: no doublecheck
    recorded = [m for m in mrig.messages if m.startswith("recorded ")]
    assert recorded == ["recorded 1000 of 2284 Network Ids", "recorded 2000 of 2284 Network Ids"]
