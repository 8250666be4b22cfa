"""Resuming a course-loading run (rule B5): the DELETE checks already recorded are not asked of
Alma again, the outputs equal an uninterrupted run's, and a loader file pushed once is not
pushed again (rule L7)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest

from application.shared.run_records import RecordOutcome, RunStatus
from domain.courses.loader_row import Operation
from tests.integration.courses.support import (
    THIS_YEAR,
    Cem,
    Rig,
    by_key,
    cem_lines,
    files,
    loader_rows,
    seed_course,
)


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, and the runner does not end the run."""


class KillAfter(httpx.AsyncBaseTransport):
    """Lets ``allowed`` full-course reads through (the L5 reading-list check); the next ones wait
    until ``ready()`` (those checks recorded), then kill the process."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, allowed: int, ready: Callable[[], Awaitable[None]]
    ) -> None:
        self.inner = inner
        self.allowed = allowed
        self.ready = ready

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/courses/" in request.url.path:
            if self.allowed == 0:
                await self.ready()
                raise Killed
            self.allowed -= 1
        return await self.inner.handle_async_request(request)


async def _checks_recorded(rig: Rig, count: int) -> None:
    """Until the open run has recorded ``count`` DELETE verdicts (each poll a ledger read)."""
    async with asyncio.timeout(10):
        while True:
            async with rig.ledger.unit_of_work() as uow:
                runs = await uow.runs.list_runs()
                records = await uow.runs.records_of(runs[0].id) if runs else []
            if sum(1 for r in records if r.kind == "course") >= count:
                return
            await asyncio.sleep(0)


def _deletes(rig: Rig, count: int) -> tuple[list[Cem], dict[str, str]]:
    """``count`` DELETE candidates, each an exact course of this year without reading lists;
    and their course ids by key."""
    rows = [Cem(f"HIS{300 + n}", f"78{n:03d}", status="DENIED") for n in range(count)]
    ids = {
        row.key: seed_course(rig.alma.state, row.course_code, row.section, THIS_YEAR)
        for row in rows
    }
    return rows, ids


APPROVED = [Cem("ENG101", "78901"), Cem("ENG102", "78902")]


async def test_B5_a_killed_run_resumes_without_asking_Alma_again_for_checked_DELETEs(
    rig: Rig,
) -> None:
    deletes, ids = _deletes(rig, 8)
    rig.put_cem([*deletes, *APPROVED])
    rig.alma.wrap = lambda inner: KillAfter(inner, 3, lambda: _checks_recorded(rig, 3))

    with pytest.raises((Killed, BaseExceptionGroup)):
        await rig.run(rig.job())

    async with rig.ledger.unit_of_work() as uow:
        [killed] = await uow.runs.list_runs()
    assert killed.status is RunStatus.RUNNING  # rule B1: a killed run stays running
    assert files(rig.out) == []  # rule B3: nothing under a final name
    assert files(rig.target) == []
    checked = {
        r.key
        for r in await rig.records(killed.id)
        if r.kind == "course" and r.outcome is RecordOutcome.OK
    }
    assert len(checked) == 3
    assert all(client.closed for client in rig.alma.clients)  # rule B4: closed anyway

    rig.alma.wrap = lambda inner: inner
    before = len(rig.alma.calls())
    rig.advance(60)
    resumed = await rig.runner().resume(killed.id, rig.job())

    assert resumed.run.status is RunStatus.OK, resumed.failures
    assert resumed.run.resumed_from == killed.id
    # rule B5: only the DELETEs not yet checked are asked about.
    asked = rig.alma.course_reads(before)
    assert sorted(asked) == sorted(ids[key] for key in set(ids) - checked)
    # rule L7: the original never pushed, so the resumed run does.
    assert files(rig.target) == [rig.loader_name]
    resumed_file = (rig.out / rig.loader_name).read_bytes()

    # rule B5: the outputs equal those of an uninterrupted run (the stamp in the name aside).
    rig.advance(60)
    whole = await rig.run(rig.job(), dry_run=True, out=rig.root / "whole")
    assert whole.run.status is RunStatus.OK
    assert (rig.root / "whole" / rig.loader_name).read_bytes() == resumed_file
    rows = by_key(loader_rows(rig.out / files(rig.out)[0]))
    assert sorted(rows) == sorted([*ids, *(a.key for a in APPROVED)])
    assert sum(1 for r in rows.values() if r.operation is Operation.DELETE) == 8


async def test_B5_L7_a_resumed_run_does_not_push_again_when_the_original_pushed(rig: Rig) -> None:
    deletes, ids = _deletes(rig, 3)
    held = deletes[1]
    rig.put_cem([*deletes, *APPROVED])
    rig.alma.faults.fail_next(1_000, status=503, path_contains=f"/courses/{ids[held.key]}")

    first = await rig.run(rig.job())

    assert first.run.status is RunStatus.PARTIAL
    assert [(f.kind, f.key) for f in first.failures] == [("course", held.key)]
    pushed_name = rig.loader_name
    assert files(rig.target) == [pushed_name]
    pushed = (rig.target / pushed_name).read_bytes()

    rig.alma.faults.clear_script()
    before = len(rig.alma.calls())
    rig.advance(60)
    resumed = await rig.runner().resume(first.run.id, rig.job())

    assert resumed.run.status is RunStatus.OK, resumed.failures
    # rule B5: the two DELETEs checked by the first run are not asked again; the held one is.
    assert rig.alma.course_reads(before) == [ids[held.key]]
    kinds = await rig.kinds(resumed.run.id)
    assert kinds["course"][held.key].outcome is RecordOutcome.OK
    assert "push" not in kinds
    # rule L7: the pushed file is not pushed again, nor is a second one.
    assert files(rig.target) == [pushed_name]
    assert (rig.target / pushed_name).read_bytes() == pushed
    # The resumed run's own file holds the DELETE the first run had held back.
    assert held.key in by_key(loader_rows(rig.out / rig.loader_name))


async def test_B4_B5_the_daily_quota_stops_the_run_in_one_sentence_and_a_resume_finishes(
    rig: Rig,
) -> None:
    deletes, ids = _deletes(rig, 4)
    rig.put_cem([*deletes, *APPROVED])
    rig.alma.faults.fail_next(1, kind="daily", path_contains="/courses/")

    first = await rig.run(rig.job())

    assert first.run.status is RunStatus.FAILED
    assert first.run.reason is not None
    assert first.run.reason.startswith("Alma stopped the run: ")
    assert files(rig.out) == []  # nothing written, nothing pushed
    assert files(rig.target) == []
    recorded = {
        r.key
        for r in await rig.records(first.run.id)
        if r.kind == "course" and r.outcome is not RecordOutcome.FAILED
    }

    before = len(rig.alma.calls())
    rig.advance(60)
    resumed = await rig.runner().resume(first.run.id, rig.job())

    assert resumed.run.status is RunStatus.OK, resumed.failures
    assert sorted(rig.alma.course_reads(before)) == sorted(ids[key] for key in set(ids) - recorded)
    assert files(rig.target) == [rig.loader_name]


async def test_B5_a_resume_reads_the_run_s_own_CEM_file_not_a_newer_one_of_that_day(
    rig: Rig,
) -> None:
    header, first_row, second_row = cem_lines(APPROVED)
    original = rig.put_cem(
        "".join([header, first_row, "only,three,fields\n", second_row]).encode(),
        suffix="_0700.csv",
    )
    first = await rig.run(rig.job())
    assert first.run.status is RunStatus.PARTIAL
    rig.put_cem([Cem("NEW101", "78999")], suffix="_0800.csv")  # the campus sends a second file
    rig.advance(60)

    again = await rig.runner().resume(first.run.id, rig.job())

    # rule B5: the resume reuses the run's own input, or refuses naming the change; it never
    # carries on in silence with another file (whose courses the original's records are not).
    reused = [d.name for d in again.run.inputs] == [original.name]
    refused = again.run.status is RunStatus.FAILED and "changed" in (again.run.reason or "")
    assert reused or refused, (again.run.status, [d.name for d in again.run.inputs])
