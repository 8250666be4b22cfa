"""Contract of `ItemizedSets` (rule O8) on both backends: an itemized set made, filled in chunks,
read back through `SetMembers`, and a job run on it until its instance has finished; the calls
on the wire against the real samples (``Testing-Environment-esploro-csv-researcher-loader__
set_*.json``) and ADR 0007's repeat rules (a create never repeated blind, an add repeat-safe).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.set_writes import HttpItemizedSets
from adapters.alma_http.sets import HttpSetMembers
from adapters.fake_alma import create_fake_alma_app
from application.ports.alma.jobs import JobInstance, JobInstances, JobStatus
from application.ports.alma.sets import (
    AlmaSet,
    MembersAlreadyInSet,
    SetNameTaken,
    SetNotFound,
)
from application.shared.alma import AlmaOutcomeUnknown, AlmaUnavailable
from application.shared.connections import Secret
from tests.integration.alma_roles.support import (
    AB,
    FAST_RETRY,
    GATEWAY_URL,
    KEYS,
    Roles,
    facts,
    open_roles,
    recording_client,
    reference,
)

PREFIX = "Testing-Environment-esploro-csv-researcher-loader__"
CREATE_ANSWER = f"{PREFIX}set_create_response.json"
ADD_REQUEST = f"{PREFIX}set_add_members_request.json"
ADD_ANSWER = f"{PREFIX}set_add_members_response.json"
JOB = "M9001"
JOB_NAME = "Move OCLC 035 $a to $z"
RUN_NAME = "OCLC data sync 2025-01-06 run 42"


def sample(name: str) -> Any:
    return json.loads(reference(name).read_text(encoding="utf-8"))


def mms_ids(count: int) -> list[str]:
    """NZ MMS ids in the consortium's style (suffix 0561 of the samples)."""
    return [f"99{n:07d}0561" for n in range(count)]


async def finished(jobs: JobInstances, job_id: str, instance_id: str) -> list[JobInstance]:
    """Every poll of the instance until it has finished (at most 10: O8 polls every 15 s)."""
    polls = [await jobs.instance(job_id, instance_id)]
    while not polls[-1].is_finished and len(polls) < 10:
        polls.append(await jobs.instance(job_id, instance_id))
    return polls


async def test_O8_a_new_itemized_set_is_empty_and_carries_its_name(roles: Roles) -> None:
    made = await roles.set_writes().create_itemized_set(RUN_NAME, description="update by job")

    assert made == AlmaSet(made.id, RUN_NAME, 0, "BIB_MMS", "update by job")
    stored = roles.state.set_of(AB, made.id)
    assert (stored.name, stored.content, stored.members) == (RUN_NAME, "BIB_MMS", [])
    page = await roles.sets().members(made.id)
    assert (list(page.records), page.total_record_count) == ([], 0)


async def test_O8_members_added_in_two_chunks_are_read_back_in_order(roles: Roles) -> None:
    ids = mms_ids(1250)
    writes = roles.set_writes()
    made = await writes.create_itemized_set(RUN_NAME)

    counts = [
        await writes.add_members(made.id, ids[:1000]),
        await writes.add_members(made.id, ids[1000:]),
    ]
    read = [m.id async for m in roles.sets().all_members(made.id)]

    assert counts == [1000, 1250]
    assert read == ids
    if roles.name == "http":
        adds = [c for c in roles.calls(f"/conf/sets/{made.id}") if c.method == "POST"]
        assert [(c.param("op"), c.status) for c in adds] == [("add_members", 200)] * 2


async def test_O8_a_name_used_twice_is_refused_with_set_name_taken(roles: Roles) -> None:
    roles.state.add_set(AB, ["991"], name="seeded by hand")
    writes = roles.set_writes()
    first = await writes.create_itemized_set(RUN_NAME)

    with pytest.raises(SetNameTaken) as again:
        await writes.create_itemized_set(RUN_NAME)
    with pytest.raises(SetNameTaken):
        await writes.create_itemized_set("seeded by hand")

    assert facts(again.value) == (
        SetNameTaken,
        AB,
        "create set",
        400,
        "402263",
        "The set name already exists. Please choose a different name.",
        {"set_name": RUN_NAME},
    )
    named = [s for s in roles.state.sets_named(AB, RUN_NAME) if s.name == RUN_NAME]
    assert [s.set_id for s in named] == [first.id]


async def test_adding_to_an_unknown_set_is_set_not_found(roles: Roles) -> None:
    with pytest.raises(SetNotFound) as caught:
        await roles.set_writes().add_members("404", ["991"])

    assert facts(caught.value) == (
        SetNotFound,
        AB,
        "add set members",
        400,
        "60107",
        "Invalid set ID.",
        {"set_id": "404"},
    )


@pytest.mark.parametrize(
    ("ids", "refusal"),
    [
        (mms_ids(1001), "at most 1000 members per call, asked for 1001"),
        ([], "no ids to add"),
        (["991", "992", "991"], "id 991 is given twice"),
        (["991", " "], "an empty id"),
    ],
)
async def test_ids_alma_would_refuse_are_refused_before_any_call(
    roles: Roles, ids: list[str], refusal: str
) -> None:
    writes = roles.set_writes()
    made = await writes.create_itemized_set(RUN_NAME)

    with pytest.raises(ValueError, match=refusal):
        await writes.add_members(made.id, ids)
    with pytest.raises(TypeError, match="not one string"):
        await writes.add_members(made.id, "991")

    assert roles.state.set_of(AB, made.id).members == []
    if roles.name == "http":
        assert [c.method for c in roles.calls("/conf/sets")] == ["POST"]  # the create only


async def test_a_member_already_in_the_set_is_refused_and_nothing_is_added(roles: Roles) -> None:
    writes = roles.set_writes()
    made = await writes.create_itemized_set(RUN_NAME)
    await writes.add_members(made.id, ["991", "992"])

    with pytest.raises(MembersAlreadyInSet) as caught:
        await writes.add_members(made.id, ["993", "992"])

    assert (caught.value.operation, caught.value.error_code) == ("add set members", "60115")
    assert [m.id async for m in roles.sets().all_members(made.id)] == ["991", "992"]


async def test_set_named_finds_the_exact_name_only(roles: Roles) -> None:
    writes = roles.set_writes()
    longer = await writes.create_itemized_set(f"{RUN_NAME}0")
    made = await writes.create_itemized_set(RUN_NAME, description="update by job")
    await writes.add_members(made.id, ["991"])

    found = await writes.set_named(RUN_NAME)

    # A list of sets gives no number of members (ref:mlibrary-aim__digitizer_setter_sets.json).
    assert found == AlmaSet(made.id, RUN_NAME, None, "BIB_MMS", "update by job")
    assert (await writes.set_named(f"{RUN_NAME}0")) == AlmaSet(
        longer.id, f"{RUN_NAME}0", None, "BIB_MMS", None
    )
    assert await writes.set_named("OCLC data sync 2024") is None
    if roles.name == "http":
        searches = [c for c in roles.calls("/conf/sets") if c.method == "GET"]
        assert searches[0].param("q") == f"name~{RUN_NAME}"


async def test_O8_chain_create_add_run_the_job_on_the_set_and_poll_to_success(
    roles: Roles,
) -> None:
    roles.state.add_job(AB, JOB, name=JOB_NAME)
    ids = mms_ids(1500)
    writes, jobs = roles.set_writes(), roles.jobs()

    made = await writes.create_itemized_set(RUN_NAME)
    for start in range(0, len(ids), 1000):
        await writes.add_members(made.id, ids[start : start + 1000])
    ref = await jobs.run(JOB, {"set_id": made.id, "job_name": f"{JOB_NAME} - {RUN_NAME}"})
    polls = await finished(jobs, JOB, ref.instance_id)

    assert [p.status for p in polls] == [
        JobStatus.QUEUED,
        JobStatus.RUNNING,
        JobStatus.COMPLETED_SUCCESS,
    ]
    assert not polls[-1].status.is_failure
    assert roles.state.peek_job_instance(AB, ref.instance_id).parameters["set_id"] == made.id
    assert [m["id"] for m in roles.state.set_of(AB, made.id).members] == ids


async def test_O8_a_job_that_ends_completed_failed_is_a_failure(roles: Roles) -> None:
    roles.state.add_job(
        AB, JOB, name=JOB_NAME, run_statuses=["QUEUED", "RUNNING", "COMPLETED_FAILED"]
    )
    writes, jobs = roles.set_writes(), roles.jobs()
    made = await writes.create_itemized_set(RUN_NAME)
    await writes.add_members(made.id, mms_ids(3))

    ref = await jobs.run(JOB, {"set_id": made.id})
    last = (await finished(jobs, JOB, ref.instance_id))[-1]

    assert (last.status, last.is_finished, last.status.is_failure) == (
        JobStatus.COMPLETED_FAILED,
        True,
        True,
    )


# ---- the calls on the wire (HTTP adapter) ----------------------------------------------------


async def test_the_create_and_add_calls_on_the_wire_read_the_real_answers() -> None:
    async with recording_client(sample(CREATE_ANSWER)) as (client, sent):
        made = await HttpItemizedSets(client, AB, Secret(KEYS[AB])).create_itemized_set(
            "CloudApp-FilesLoaderSet-YYYYMMDD-HH:MM:SS", "IER", "a description"
        )
    async with recording_client(sample(ADD_ANSWER)) as (client, added):
        count = await HttpItemizedSets(client, AB, Secret(KEYS[AB])).add_members(
            "9563654780000561", ["991274654700561", "99998648800561"]
        )

    (create,) = sent
    assert (create.method, create.url.raw_path) == ("POST", b"/almaws/v1/conf/sets")
    assert json.loads(create.content) == {
        "name": "CloudApp-FilesLoaderSet-YYYYMMDD-HH:MM:SS",
        "description": "a description",
        "type": {"value": "ITEMIZED"},
        "content": {"value": "IER"},
        "status": {"value": "ACTIVE"},
        "private": {"value": "false"},
    }
    assert create.headers["authorization"] == f"apikey {KEYS[AB]}"
    assert made == AlmaSet(
        "9563654780000561",
        "CloudApp-FilesLoaderSet-YYYYMMDD-HH:MM:SS",
        0,
        "IER",
        "List of loaded research asset via the Cloud App Files Loader",
    )
    (add,) = added
    assert add.url.raw_path == b"/almaws/v1/conf/sets/9563654780000561?op=add_members"
    assert json.loads(add.content)["members"] == sample(ADD_REQUEST)["members"]
    assert add.headers["authorization"] == f"apikey {KEYS[AB]}"
    assert count == 2


async def test_set_ids_are_encoded_in_the_path() -> None:
    async with recording_client(sample(ADD_ANSWER)) as (client, sent):
        await HttpItemizedSets(client, AB, Secret(KEYS[AB])).add_members("12/3 4", ["991"])

    (request,) = sent
    assert request.url.raw_path == b"/almaws/v1/conf/sets/12%2F3%204?op=add_members"


async def test_a_create_whose_answer_is_lost_is_not_repeated_but_an_add_is() -> None:
    # ADR 0007: a second create could make a second set; a second add cannot add twice.
    sent: list[httpx.Request] = []

    def lose(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise httpx.ReadTimeout("answer lost", request=request)

    client = AlmaHttpClient(GATEWAY_URL, retry=FAST_RETRY, transport=httpx.MockTransport(lose))
    writes = HttpItemizedSets(client, AB, Secret(KEYS[AB]))
    try:
        with pytest.raises(AlmaOutcomeUnknown):
            await writes.create_itemized_set(RUN_NAME)
        creates = len(sent)
        with pytest.raises(AlmaUnavailable):  # retried as a read, then given up
            await writes.add_members("1", ["991"])
    finally:
        await client.aclose()

    assert creates == 1
    assert len(sent) - creates == FAST_RETRY.attempts


class _LoseFirstAdd(httpx.AsyncBaseTransport):
    """The fake app, except that the answer to the first ``op=add_members`` is lost after the
    fake has carried it out."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.params.get("op") == "add_members" and not self.lost:
            self.lost += 1
            await response.aread()
            raise httpx.ReadTimeout("answer lost after Alma added", request=request)
        return response


async def test_an_add_whose_answer_was_lost_is_retried_and_alma_s_refusal_tells_so() -> None:
    async with open_roles("memory") as roles:
        transport = _LoseFirstAdd(httpx.ASGITransport(app=create_fake_alma_app(roles.state)))
        client = AlmaHttpClient(GATEWAY_URL, retry=FAST_RETRY, transport=transport)
        writes = HttpItemizedSets(client, AB, Secret(KEYS[AB]))
        try:
            made = await writes.create_itemized_set(RUN_NAME)
            with pytest.raises(MembersAlreadyInSet):
                await writes.add_members(made.id, ["991", "992"])
            members = HttpSetMembers(client, AB, Secret(KEYS[AB]))
            read = [m.id async for m in members.all_members(made.id)]
        finally:
            await client.aclose()

    # The caller reads the members back: the first attempt added them, once.
    assert transport.lost == 1
    assert read == ["991", "992"]
