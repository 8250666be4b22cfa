"""Merging (rule L4) and the DELETE guard (rule L5) through whole runs of the wiring's workflow
against the fake Alma's courses API; the domain's own cases are in tests/unit/courses."""

from __future__ import annotations

from application.shared.run_records import RecordOutcome, RunStatus
from domain.courses.loader_row import Operation
from tests.integration.courses.support import (
    Cem,
    Rig,
    by_key,
    code,
    loader_rows,
    seed_course,
)

SHARED = code("HIS101", "71001")
SPLIT = [
    Cem("HIS101", "71001", instructor="ann1"),
    Cem("HIS101", "71001", instructor="bob2"),
    # The same course code with another SLN: another course for Alma, the same one for ASU.
    Cem("HIS101", "71002", instructor="cat3", code=SHARED),
]


async def test_L4_rows_are_merged_on_code_and_section_by_default(rig: Rig) -> None:
    # rule L4: Alma's key, code + section.
    rig.put_cem(SPLIT)

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    rows = by_key(loader_rows(rig.out / rig.loader_name))
    assert sorted(rows) == [f"{SHARED} 71001", f"{SHARED} 71002"]
    joined = rows[f"{SHARED} 71001"]
    assert joined.instructors == ("ann1", "bob2")
    assert joined.all_instructors == "ann1,bob2"
    assert rows[f"{SHARED} 71002"].instructors == ("cat3",)
    lines = (await rig.kinds(result.run.id))["cem_line"]
    assert lines["line 3"].outcome is RecordOutcome.OK
    assert lines["line 3"].reason == (
        f"course {SHARED} 71001; line 3: merged into {SHARED} 71001 of line 2"
    )
    assert lines["line 4"].reason == f"course {SHARED} 71002"


async def test_L4_merge_on_code_keeps_ASU_s_merge(rig: Rig) -> None:
    # rule L4: merge_on = "code" merges on the code alone, the smaller SLN the section, the
    # other SLN a searchable id, the instructors in ALL_INSTRUCTORS only (ASU's layout).
    rig.courses["merge_on"] = "code"
    rig.put_cem(SPLIT)

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    [row] = loader_rows(rig.out / rig.loader_name)
    assert (row.course_code, row.section_id) == (SHARED, "71001")
    assert row.instructors == ()
    assert row.all_instructors == "ann1,bob2,cat3"
    assert "71002" in row.all_searchable_ids.split(",")
    kinds = await rig.kinds(result.run.id)
    assert kinds["cem_line"]["line 4"].reason == (
        f"course {SHARED} 71001; line 4: merged into {SHARED} 71001 of line 2"
    )
    assert sorted(kinds["course"]) == [f"{SHARED} 71001"]


async def test_L4_ten_instructor_slots_and_all_of_them_comma_joined(rig: Rig) -> None:
    # rule L4: Instructor 1-10 hold the first ten (first-seen, deduplicated), ALL_ all of them.
    names = [f"prof{n:02d}" for n in range(12)]
    rig.put_cem([Cem("CHM101", "71003", instructor=n) for n in [*names, names[0]]])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK
    [row] = loader_rows(rig.out / rig.loader_name)
    assert row.instructors == tuple(names[:10])
    assert row.all_instructors == ",".join(names)


async def test_L4_an_approved_row_overrules_a_DELETE_of_the_same_course(rig: Rig) -> None:
    denied = Cem("PHY101", "71004", status="DENIED")
    rig.put_cem([denied, Cem("PHY101", "71004", instructor="eve5")])
    before = len(rig.alma.calls())

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK
    [row] = loader_rows(rig.out / rig.loader_name)
    assert row.operation is Operation.CREATE_OR_UPDATE
    line = (await rig.kinds(result.run.id))["cem_line"]["line 2"]
    assert line.outcome is RecordOutcome.SKIPPED
    assert line.reason == f"line 2: DELETE overruled by the approved row of line 3 for {denied.key}"
    assert rig.alma.calls()[before:] == []  # no DELETE left to check


async def test_L5_a_DELETE_is_sent_only_for_an_exact_course_without_reading_lists(
    rig: Rig,
) -> None:
    state = rig.alma.state
    # This year: the year's courses are read once, each candidate found among them.
    keep = Cem("HIS201", "72001", status="DENIED")
    lists = Cem("HIS202", "72002", status="SUSPENDED")
    partial = Cem("HIS203", "72003", status="DENIED")
    absent = Cem("HIS204", "72004", status="DENIED")
    kept_id = seed_course(state, keep.course_code, "72001", 2026)
    listed_id = seed_course(state, lists.course_code, "72002", 2026, lists=2)
    # Alma's code~ is a partial match: a course whose code merely contains the candidate's.
    seed_course(state, partial.course_code + "0", "72003", 2026)
    # Another year: searched with code~ AND section~, the answers compared exactly.
    old = {"year": "2019", "start": "2019-01-07", "end": "2019-05-03"}
    old_keep = Cem("ANT101", "73001", status="DENIED", **old)
    old_partial = Cem("ANT102", "73002", status="DENIED", **old)
    old_kept_id = seed_course(state, old_keep.course_code, "73001", 2019)
    seed_course(state, old_partial.course_code + "9", "73002", 2019)
    seed_course(state, old_partial.course_code, "730029", 2019)
    approved = Cem("HIS205", "72005")
    rig.put_cem([keep, lists, partial, absent, old_keep, old_partial, approved])

    result = await rig.run(rig.job())

    # rule B2: a DELETE the guard drops is skipped with its reason; alone it keeps the run ok.
    assert result.run.status is RunStatus.OK, result.failures
    courses = (await rig.kinds(result.run.id))["course"]
    for sent in (keep, old_keep):
        assert courses[sent.key].outcome is RecordOutcome.OK
        assert courses[sent.key].reason == (
            f"DELETE kept: {sent.key} exists in Alma without a reading list"
        )
    assert courses[lists.key].outcome is RecordOutcome.SKIPPED
    assert courses[lists.key].reason == (
        f"DELETE dropped: course {lists.key} has reading lists, never deleted"
    )
    for dropped in (partial, absent, old_partial):
        assert courses[dropped.key].outcome is RecordOutcome.SKIPPED
        assert courses[dropped.key].reason == (
            f"DELETE dropped: no course {dropped.key} in Alma (only partial matches are not enough)"
        )
    rows = by_key(loader_rows(rig.out / rig.loader_name))
    assert sorted(rows) == sorted([keep.key, old_keep.key, approved.key])
    assert rows[keep.key].operation is rows[old_keep.key].operation is Operation.DELETE
    assert rows[approved.key].operation is Operation.CREATE_OR_UPDATE
    # Only the exact matches' reading lists were asked for; the year read once, by pages.
    assert sorted(rig.alma.course_reads()) == sorted([kept_id, listed_id, old_kept_id])
    queries = [c.param("q") for c in rig.alma.calls() if c.path.endswith("/courses")]
    assert queries.count("year~2026") == 1
    assert f"code~{old_partial.course_code} AND section~73002" in queries
