"""Contract of `JobInstances` (rules O8, L8) on both backends, and the fake's jobs against the
real samples (``Testing-Environment-esploro-csv-researcher-loader__job_*.json``,
``scriptotek-php-alma-client__jobinstances_response.json``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.jobs import HttpJobInstances
from adapters.fake_alma import FakeAlmaState, create_fake_alma_app
from application.ports.alma.jobs import (
    JobInstance,
    JobInstanceNotFound,
    JobInstanceRef,
    JobNotFound,
    JobStatus,
)
from application.shared.alma import AlmaOutcomeUnknown
from application.shared.connections import Secret
from tests.integration.alma_roles.support import (
    AB,
    API,
    FAST_RETRY,
    GATEWAY_URL,
    KEYS,
    Roles,
    facts,
    open_roles,
    recording_client,
    reference,
)
from tests.integration.fake_alma.shapes import assert_same_shape

PREFIX = "Testing-Environment-esploro-csv-researcher-loader__"
INSTANCE_SAMPLE = f"{PREFIX}job_instance_completed_success.json"
RUN_SAMPLE = f"{PREFIX}job_run_response.json"
RUN_REQUEST_SAMPLE = f"{PREFIX}job_run_request.json"
DETAILS_SAMPLE = f"{PREFIX}job_details.json"
LIST_SAMPLE = "scriptotek-php-alma-client__jobinstances_response.json"
JOB = "S7001"
COUNTERS = {
    "import_research_assets_files.asset_succeeded": "Number of assets succeeded",
    "import_research_assets_files.asset_partial_succeeded": "Number of assets partially succeeded",
    "import_research_assets_files.asset_failed": "Number of assets failed",
}


def sample(name: str) -> Any:
    return json.loads(reference(name).read_text(encoding="utf-8"))


def seed_job(state: FakeAlmaState, job_id: str = JOB) -> None:
    state.add_job(AB, job_id, name="Move OCLC 035 $a to $z", category=("NORMALIZATION", "Norm"))


async def test_a_run_starts_an_instance_that_is_polled_until_it_finishes(roles: Roles) -> None:
    seed_job(roles.state)
    jobs = roles.jobs()

    ref = await jobs.run(JOB, {"set_id": "9563211250000561", "job_name": "OCLC 035 run"})
    polls = [await jobs.instance(JOB, ref.instance_id) for _ in range(4)]

    assert ref == JobInstanceRef(JOB, ref.instance_id)
    stored = roles.state.peek_job_instance(AB, ref.instance_id)
    assert stored.parameters == {"set_id": "9563211250000561", "job_name": "OCLC 035 run"}
    assert [(p.status, p.progress, p.is_finished) for p in polls] == [
        (JobStatus.QUEUED, 0, False),
        (JobStatus.RUNNING, 50, False),
        (JobStatus.COMPLETED_SUCCESS, 100, True),
        (JobStatus.COMPLETED_SUCCESS, 100, True),
    ]
    queued, running, done, _ = polls
    assert queued.started is None
    assert queued.ended is None
    assert running.started is not None
    assert running.ended is None
    assert done.ended == roles.clock.now()
    assert done.name is not None
    assert done.name.startswith("OCLC 035 run - ")


async def test_a_scripted_instance_with_counters_that_fails(roles: Roles) -> None:
    seed_job(roles.state)
    made = roles.state.add_job_instance(
        AB, JOB, ["RUNNING", "COMPLETED_FAILED"], counters={"label.new.records": 5}
    )
    jobs = roles.jobs()

    running = await jobs.instance(JOB, made.instance_id)
    failed = await jobs.instance(JOB, made.instance_id)

    assert (running.status, running.is_finished) == (JobStatus.RUNNING, False)
    assert failed == JobInstance(
        job_id=JOB,
        instance_id=made.instance_id,
        status=JobStatus.COMPLETED_FAILED,
        status_value="COMPLETED_FAILED",
        name="Move OCLC 035 $a to $z",
        progress=100,
        counters={"label.new.records": "5"},
        submitted=roles.clock.now(),
        started=roles.clock.now(),
        ended=roles.clock.now(),
    )
    assert failed.is_finished
    assert failed.status.is_failure


async def test_a_status_alma_adds_later_is_unknown_and_not_finished(roles: Roles) -> None:
    seed_job(roles.state)
    made = roles.state.add_job_instance(AB, JOB, ["SUSPENDED_BY_OPERATOR"])

    found = await roles.jobs().instance(JOB, made.instance_id)

    assert (found.status, found.status_value) == (JobStatus.UNKNOWN, "SUSPENDED_BY_OPERATOR")
    assert not found.is_finished


async def test_latest_instances_are_the_newest_first(roles: Roles) -> None:
    seed_job(roles.state)
    made = []
    for statuses in (["COMPLETED_SUCCESS"], ["COMPLETED_FAILED"], ["RUNNING"]):
        made.append(roles.state.add_job_instance(AB, JOB, statuses).instance_id)
        roles.clock.advance(60)
    jobs = roles.jobs()

    latest = await jobs.latest_instances(JOB, 2)
    (newest,) = await jobs.latest_instances(JOB, 1)

    assert [(i.instance_id, i.status) for i in latest] == [
        (made[2], JobStatus.RUNNING),
        (made[1], JobStatus.COMPLETED_FAILED),
    ]
    assert newest.instance_id == made[2]
    assert latest[0].submitted is not None
    assert latest[1].submitted is not None
    assert latest[0].submitted > latest[1].submitted
    with pytest.raises(ValueError, match="1 to 100"):
        await jobs.latest_instances(JOB, 0)


async def test_a_job_without_instances_has_none(roles: Roles) -> None:
    seed_job(roles.state)

    assert await roles.jobs().latest_instances(JOB) == []


async def test_unknown_jobs_and_instances(roles: Roles) -> None:
    seed_job(roles.state)
    jobs = roles.jobs()

    with pytest.raises(JobNotFound) as no_job:
        await jobs.instance("NOPE", "1")
    with pytest.raises(JobNotFound):
        await jobs.latest_instances("NOPE")
    with pytest.raises(JobNotFound):
        await jobs.run("NOPE", {})
    with pytest.raises(JobInstanceNotFound) as no_instance:
        await jobs.instance(JOB, "123")

    assert facts(no_job.value) == (
        JobNotFound,
        AB,
        "get job instance",
        400,
        "402470",
        "Input parameters jobId NOPE is not valid.",
        {"job_id": "NOPE", "instance_id": "1"},
    )
    assert (no_instance.value.error_code, dict(no_instance.value.subject)) == (
        "402471",
        {"job_id": JOB, "instance_id": "123"},
    )


async def test_the_run_call_on_the_wire() -> None:
    # Alma's request body (ref …job_run_request.json), the id encoded, the key in the header;
    # the instance comes from the real answer's additional_info link.
    async with recording_client(sample(RUN_SAMPLE)) as (client, sent):
        ref = await HttpJobInstances(client, AB, Secret(KEYS[AB])).run(
            "M 50/173",
            {
                "set_id": "9563211250000561",
                "job_name": "Import Research Assets Files - via API - forFileUploadJobViaUpdate",
            },
        )

    (request,) = sent
    assert request.method == "POST"
    assert request.url.raw_path == b"/almaws/v1/conf/jobs/M%2050%2F173?op=run"
    assert json.loads(request.content) == sample(RUN_REQUEST_SAMPLE)
    assert request.headers["authorization"] == f"apikey {KEYS[AB]}"
    assert ref == JobInstanceRef("M 50/173", "9563643080000561")


async def test_a_run_whose_answer_is_lost_is_not_repeated() -> None:
    # O8: a second run is a second instance; the caller looks at latest_instances instead.
    sent: list[httpx.Request] = []

    def lose(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise httpx.ReadTimeout("answer lost", request=request)

    client = AlmaHttpClient(GATEWAY_URL, retry=FAST_RETRY, transport=httpx.MockTransport(lose))
    try:
        with pytest.raises(AlmaOutcomeUnknown):
            await HttpJobInstances(client, AB, Secret(KEYS[AB])).run(JOB, {"set_id": "1"})
    finally:
        await client.aclose()

    assert len(sent) == 1


# ---- the fake against the real samples -------------------------------------------------------


async def _fake(state: FakeAlmaState, method: str, path: str, **kwargs: Any) -> httpx.Response:
    app = create_fake_alma_app(state)
    headers = {"Authorization": f"apikey {KEYS[AB]}", "Accept": "application/json"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL
    ) as http:
        return await http.request(method, f"{API}{path}", headers=headers, **kwargs)


def seed_sample_job(state: FakeAlmaState) -> str:
    """The sample's job M50173 with a finished instance carrying its counters."""
    state.add_job(
        AB,
        "M50173",
        name="Import Research Assets Files",
        category=("RESEARCH_ASSETS", "Research Assets"),
        content=("IMPORT_RESEARCH_ASSETS_FILES", "Research assets"),
    )
    instance = state.add_job_instance(
        AB, "M50173", ["COMPLETED_SUCCESS"], counters=dict.fromkeys(COUNTERS, 0)
    )
    return instance.instance_id


async def test_the_fake_serves_a_job_instance_with_the_sample_s_field_names() -> None:
    async with open_roles("memory") as roles:
        instance_id = seed_sample_job(roles.state)
        response = await _fake(roles.state, "GET", f"/conf/jobs/M50173/instances/{instance_id}")

    body, real = response.json(), sample(INSTANCE_SAMPLE)
    assert list(body) == list(real)  # the same field names, in the same order
    assert list(body["job_info"]) == list(real["job_info"])
    assert_same_shape(real, body)
    assert body["status"] == real["status"]


async def test_the_fake_serves_the_job_its_run_and_its_instances_as_the_samples() -> None:
    async with open_roles("memory") as roles:
        seed_sample_job(roles.state)
        details = await _fake(roles.state, "GET", "/conf/jobs/M50173")
        run = await _fake(
            roles.state,
            "POST",
            "/conf/jobs/M50173",
            params={"op": "run"},
            json=sample(RUN_REQUEST_SAMPLE),
        )
        listing = await _fake(roles.state, "GET", "/conf/jobs/M50173/instances")

    assert_same_shape(sample(DETAILS_SAMPLE), details.json())
    assert list(details.json()) == list(sample(DETAILS_SAMPLE))
    assert_same_shape(sample(RUN_SAMPLE), run.json())
    assert list(run.json()) == list(sample(RUN_SAMPLE))
    assert run.json()["parameter"] == sample(RUN_SAMPLE)["parameter"]
    assert run.json()["additional_info"]["value"].startswith("Job no. ")
    # The list sample is Ex Libris' documentation example (a QUEUED instance with an end time):
    # its "action" list is in no real instance; the instance just run is queued, so it has no
    # start, end or alert yet (the real completed sample has them once finished).
    assert_same_shape(
        sample(LIST_SAMPLE),
        listing.json(),
        omitted={
            "$.job_instance[].action",
            "$.job_instance[].start_time",
            "$.job_instance[].end_time",
            "$.job_instance[].alert",
        },
    )


async def test_the_real_samples_read_through_the_http_adapter() -> None:
    async with recording_client(sample(INSTANCE_SAMPLE)) as (client, _):
        instance = await HttpJobInstances(client, AB, Secret(KEYS[AB])).instance(
            "M50173", "9563643080000561"
        )
    async with recording_client(sample(LIST_SAMPLE)) as (client, _):
        (listed,) = await HttpJobInstances(client, AB, Secret(KEYS[AB])).latest_instances("M1")

    assert instance.status is JobStatus.COMPLETED_SUCCESS
    assert instance.is_finished
    assert instance.progress == 100
    assert instance.counters["import_research_assets_files.asset_failed"] == "1"
    assert len(instance.counters) == 6
    assert instance.started == datetime(2025, 10, 5, 9, 11, 32, 658000, tzinfo=UTC)
    assert instance.ended == datetime(2025, 10, 5, 9, 11, 36, 463000, tzinfo=UTC)
    assert (listed.instance_id, listed.status, listed.is_finished) == (
        "1108569450000121",
        JobStatus.QUEUED,
        False,
    )
    assert listed.counters == {"4": "string"}
