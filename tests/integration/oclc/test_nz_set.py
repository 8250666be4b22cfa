"""Rule O8 against the fake Alma over HTTP (the wiring's `OclcSyncJob`, ``--create-set
--run-job``), on each ledger backend for the whole chain and on the memory ledger for the rest.

* The ``update by job`` ids become an itemized set named after the run, filled in calls of at
  most ``members_per_call`` (1,000; 50 here, so that the 107 reference ids take three calls);
  the job runs on it with Alma's run parameters and is polled to ``COMPLETED_SUCCESS``; the set
  id and the instance are run records; what is left by hand is said.
* ``COMPLETED_FAILED`` fails the run; a job still running after ``job_wait_minutes`` too.
* ``--dry-run`` makes no set and runs no job (B8).
* A lost answer: a create is looked up by name before anything else, an add counts as done, a
  job run is found among the job's newest instances by its name (ADR 0007).
* A resumed run reuses the set an earlier run made (B5).

Polls never wait for real: the rig's sleeper records each wait and moves its own clock.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest

from adapters.alma_http.set_writes import HttpItemizedSets
from adapters.ledger.memory import MemoryLedger
from application.oclc.nz_set import NzSetChain, NzSetResult, set_name
from application.shared.connections import Secret
from application.shared.run_context import RunContext
from application.shared.run_records import RecordOutcome, RunStatus
from application.shared.workflow_settings import AlmaInstitution
from tests.integration.ledger.conftest import backend, clock
from tests.integration.ledger.support import Backend, FakeClock
from tests.integration.oclc.support import (
    CEF,
    DO_NOT_CHANGE,
    GATEWAY_URL,
    JOB,
    KEY,
    NZ,
    UWO,
    OclcRig,
)

__all__ = ["backend", "clock"]  # the ledger fixtures, for every backend

CHAIN = (
    "--report", CEF, "--report", UWO, "--do-not-change", DO_NOT_CHANGE,
    "--analytics-institution", NZ, "--create-set",
)  # fmt: skip
BY_JOB = 107
"""The reference inputs' update by job ids (against the manual export's rows)."""


@pytest.fixture
def rig(backend: Backend, tmp_path: Path) -> OclcRig:
    made = OclcRig(backend, tmp_path, members_per_call=50)
    made.serve_export()
    return made


@pytest.fixture
def mrig(tmp_path: Path) -> OclcRig:
    fake = FakeClock()
    shared = MemoryLedger(fake)
    made = OclcRig(Backend("memory", fake, None, lambda: shared), tmp_path, members_per_call=50)
    made.serve_export()
    return made


def set_ids(rig: OclcRig, out: Path | None = None) -> list[str]:
    """The ids of ``a_to_z_MMSid_for_set.txt``."""
    path = (out or rig.out) / "a_to_z_MMSid_for_set.txt"
    return path.read_text(encoding="utf-8").splitlines()[1:]


def set_creates(rig: OclcRig) -> int:
    return len([c for c in rig.calls("/conf/sets", "POST") if c.path.endswith("/conf/sets")])


def member_ids(rig: OclcRig, name: str) -> list[str]:
    [made] = [s for s in rig.state.sets_named(NZ, name) if s.name == name]
    return [member["id"] for member in made.members]


class LoseFirst(httpx.AsyncBaseTransport):
    """The fake app, except that the answer to the first call ``lose`` matches is lost after the
    fake has carried it out (a reset connection)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, lose: str) -> None:
        self.inner = inner
        self.lose = lose
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        wanted = {
            "create": request.url.path.endswith("/conf/sets") and request.method == "POST",
            "add": request.url.params.get("op") == "add_members",
            "run": request.url.params.get("op") == "run",
        }[self.lose]
        if wanted and not self.lost:
            self.lost += 1
            await response.aread()
            raise httpx.ReadTimeout("answer lost after Alma acted", request=request)
        return response


def lose_first(rig: OclcRig, lose: str) -> list[LoseFirst]:
    """Make every client of the rig lose the first answer of that kind; the transports made."""
    made: list[LoseFirst] = []

    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        made.append(LoseFirst(inner, lose))
        return made[-1]

    rig.wrap = wrap
    return made


async def test_O8_the_set_is_filled_in_chunks_and_the_job_polled_to_completed_success(
    rig: OclcRig,
) -> None:
    rig.add_job()

    result = await rig.run(rig.job(*CHAIN, "--run-job"))

    run = result.run
    assert (run.status, run.reason) == (RunStatus.OK, None)
    name = set_name(run.id, date.fromisoformat(rig.local_day()))
    assert name == f"almabridge oclc-sync run {run.id} {rig.local_day()}"
    ids = set_ids(rig)
    assert len(ids) == BY_JOB
    assert member_ids(rig, name) == ids  # in order, every one
    [made] = rig.state.sets_named(NZ, name)
    assert made.content == "BIB_MMS"
    adds = [c for c in rig.calls(f"/conf/sets/{made.set_id}", "POST")]
    assert [c.param("op") for c in adds] == ["add_members"] * 3  # 50 + 50 + 7
    assert set_creates(rig) == 1
    records = await rig.by_kind(run.id)
    nz_set = records["nz_set"]["set"]
    assert nz_set.outcome is RecordOutcome.OK
    assert nz_set.detail == {
        "set_id": made.set_id,
        "name": name,
        "institution": NZ,
        "members": BY_JOB,
        "of": BY_JOB,
    }
    assert nz_set.reason == (
        f"itemized set {made.set_id} ({name}) of {NZ}: {BY_JOB} of {BY_JOB} update by job ids added"
    )
    nz_job = records["nz_job"]["job"]
    instance_id = nz_job.detail["instance_id"]
    assert isinstance(instance_id, str)
    assert (nz_job.outcome, nz_job.detail["status"]) == (RecordOutcome.OK, "COMPLETED_SUCCESS")
    # The run request as Alma's sample has it: the set and a job name.
    stored = rig.state.peek_job_instance(NZ, instance_id)
    assert stored.parameters == {"set_id": made.set_id, "job_name": name}
    assert rig.slept == [15.0, 15.0, 15.0]  # QUEUED, RUNNING, COMPLETED_SUCCESS
    assert rig.messages[-1] == (
        'left by hand in Alma: import for_import_to_NZ.xlsx with the import profile "OCLC '
        f'number (035) import - From XLS" (set {made.set_id} made, job instance {instance_id} '
        "ended COMPLETED_SUCCESS)"
    )
    assert rig.clients[-1].closed


async def test_O8_ids_go_to_alma_in_calls_of_at_most_1000(mrig: OclcRig) -> None:
    ids = [f"99{n:07d}5151" for n in range(1250)]
    institution = AlmaInstitution(NZ, GATEWAY_URL, Secret(KEY))
    client = mrig.client(institution)

    class OnlyTheSet:
        name = "oclc-sync"
        made: NzSetResult | None = None

        async def run(self, context: RunContext) -> None:
            chain = NzSetChain(HttpItemizedSets(client, NZ, institution.apikey))
            self.made = await chain.run(context, ids, date(2026, 1, 1))

    workflow = OnlyTheSet()
    try:
        result = await mrig.run(workflow)
    finally:
        await client.aclose()

    assert result.run.status is RunStatus.OK
    assert workflow.made is not None
    assert (workflow.made.members, workflow.made.instance) == (1250, None)
    assert member_ids(mrig, workflow.made.name) == ids
    adds = [c for c in mrig.calls("/conf/sets/", "POST") if c.param("op") == "add_members"]
    assert len(adds) == 2  # 1,000 then 250


async def test_O8_a_job_that_ends_completed_failed_fails_the_run(mrig: OclcRig) -> None:
    mrig.add_job("QUEUED", "RUNNING", "COMPLETED_FAILED")

    result = await mrig.run(mrig.job(*CHAIN, "--run-job"))

    run = result.run
    assert run.status is RunStatus.FAILED
    records = await mrig.by_kind(run.id)
    set_id = records["nz_set"]["set"].detail["set_id"]
    nz_job = records["nz_job"]["job"]
    instance_id = nz_job.detail["instance_id"]
    assert nz_job.outcome is RecordOutcome.FAILED
    assert run.reason == (
        f'job {JOB} ("Move OCLC 035 $a to $z") instance {instance_id} on set {set_id} ended '
        "COMPLETED_FAILED: see its report in Alma's Monitor Jobs, and do not import "
        "for_import_to_NZ.xlsx before the job has run"
    )
    assert [(f.kind, f.key) for f in result.failures] == [("nz_job", "job")]
    assert records["nz_set"]["set"].detail["members"] == BY_JOB


async def test_O8_a_job_still_running_after_job_wait_minutes_fails_the_run(mrig: OclcRig) -> None:
    mrig.oclc = {"job_poll_seconds": 15, "job_wait_minutes": 1}
    mrig.add_job("QUEUED", "RUNNING")

    result = await mrig.run(mrig.job(*CHAIN, "--run-job"))

    run = result.run
    assert run.status is RunStatus.FAILED
    assert run.reason is not None
    assert "had not finished after 1 minutes (status RUNNING)" in run.reason
    assert mrig.slept == [15.0] * 4


async def test_O8_without_run_job_only_the_set_is_made_and_the_job_is_left_by_hand(
    mrig: OclcRig,
) -> None:
    mrig.add_job()

    result = await mrig.run(mrig.job(*CHAIN))

    assert result.run.status is RunStatus.OK
    records = await mrig.by_kind(result.run.id)
    assert "nz_job" not in records
    set_id = records["nz_set"]["set"].detail["set_id"]
    assert mrig.calls("/conf/jobs") == []
    assert mrig.messages[-1] == (
        f'left by hand in Alma: run the job "Move OCLC 035 $a to $z" on set {set_id}, then '
        'import for_import_to_NZ.xlsx with the import profile "OCLC number (035) import - '
        'From XLS"'
    )


async def test_O8_B8_a_dry_run_makes_no_set_and_runs_no_job(mrig: OclcRig) -> None:
    mrig.add_job()

    result = await mrig.run(mrig.job(*CHAIN, "--run-job"), dry_run=True)

    assert result.run.status is RunStatus.OK
    assert result.run.dry_run
    assert [c for c in mrig.state.call_log if c.method != "GET"] == []
    assert mrig.state.sets_named(NZ, "almabridge oclc-sync") == []
    assert len(set_ids(mrig)) == BY_JOB  # the outputs are written all the same
    assert f"dry run: no set made in {NZ} and no job run" in mrig.messages
    assert mrig.messages[-1].startswith("left by hand in Alma: an itemized set of all titles")


async def test_O8_a_create_whose_answer_is_lost_is_looked_up_by_name_first(
    mrig: OclcRig,
) -> None:
    lossy = lose_first(mrig, "create")

    result = await mrig.run(mrig.job(*CHAIN))

    assert result.run.status is RunStatus.OK
    assert lossy[0].lost == 1
    name = set_name(result.run.id, date.fromisoformat(mrig.local_day()))
    assert member_ids(mrig, name) == set_ids(mrig)  # one set, filled
    assert set_creates(mrig) == 1
    calls = [
        (c.method, c.path.rsplit("/almaws/v1", 1)[-1], c.param("q"))
        for c in mrig.calls("/conf/sets")
    ]
    assert calls[:2] == [("POST", "/conf/sets", None), ("GET", "/conf/sets", f"name~{name}")]


async def test_O8_an_add_whose_answer_is_lost_counts_as_added(mrig: OclcRig) -> None:
    lossy = lose_first(mrig, "add")

    result = await mrig.run(mrig.job(*CHAIN))

    assert result.run.status is RunStatus.OK
    assert lossy[0].lost == 1
    set_id = (await mrig.by_kind(result.run.id))["nz_set"]["set"].detail["set_id"]
    name = set_name(result.run.id, date.fromisoformat(mrig.local_day()))
    assert member_ids(mrig, name) == set_ids(mrig)
    assert f"ids 1-50 were in set {set_id}" in mrig.messages


async def test_O8_a_job_run_whose_answer_is_lost_is_found_by_its_name(mrig: OclcRig) -> None:
    mrig.add_job()
    lossy = lose_first(mrig, "run")

    result = await mrig.run(mrig.job(*CHAIN, "--run-job"))

    assert result.run.status is RunStatus.OK
    runs = [c for c in mrig.calls(f"/conf/jobs/{JOB}", "POST") if c.param("op") == "run"]
    assert len(runs) == 1  # never run blind a second time
    assert lossy[0].lost == 1
    assert f"the answer to running job {JOB} was lost; looking for it" in mrig.messages
    job = (await mrig.by_kind(result.run.id))["nz_job"]["job"]
    assert job.detail["status"] == "COMPLETED_SUCCESS"


async def test_O8_B5_a_resumed_run_reuses_the_set_and_runs_the_job_again(mrig: OclcRig) -> None:
    mrig.add_job("QUEUED", "COMPLETED_FAILED")
    first = await mrig.run(mrig.job(*CHAIN, "--run-job"))
    assert first.run.status is RunStatus.FAILED
    mrig.state.job(NZ, JOB).run_statuses = ("RUNNING", "COMPLETED_SUCCESS")

    again = await mrig.resume(first.run.id)

    assert again.run.status is RunStatus.OK
    assert set_creates(mrig) == 1  # the set of the first run
    earlier = (await mrig.by_kind(first.run.id))["nz_set"]["set"].detail
    now = (await mrig.by_kind(again.run.id))["nz_set"]["set"].detail
    assert now == earlier
    name = earlier["name"]
    assert isinstance(name, str)
    assert member_ids(mrig, name) == set_ids(mrig)
    runs = [c for c in mrig.calls(f"/conf/jobs/{JOB}", "POST") if c.param("op") == "run"]
    assert len(runs) == 2
    job = (await mrig.by_kind(again.run.id))["nz_job"]["job"]
    assert job.detail["status"] == "COMPLETED_SUCCESS"
