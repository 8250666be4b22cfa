"""ArchivesSpace failing (rules AS2, B2): a connection error or a 5xx retries the whole resource
after 1, 2 and 3 s, at most 4 tries, then the resource is recorded failed and the run goes on;
any other error fails the resource at once; a refused login fails the run in one sentence."""

from __future__ import annotations

from typing import Literal

import pytest

from application.shared.run_records import RecordOutcome, RunStatus
from tests.integration.aspace.support import (
    MARC_OUT,
    MARC_OUT_OLD,
    PASSWORD,
    REPO,
    USER,
    YESTERDAY,
    Hook,
    Rig,
    call_numbers,
    collection,
    files,
    uri,
)

Endpoint = Literal["marc21", "top_containers"]


async def test_AS2_three_resets_then_success_take_four_requests_after_waits_of_1_2_3_s(
    rig: Rig,
) -> None:
    rig.aspace.faults.reset(REPO, 1511, count=3, endpoint="marc21")

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.failures
    # rule AS2 (upstream's spec): 4 requests for 1511, 1 for 1512; the waits 1, 2 and 3 s.
    assert rig.aspace.marc_requests(1511) == 4
    assert rig.aspace.marc_requests(1512) == 1
    assert rig.sleep.waits == [1.0, 2.0, 3.0]
    assert len(rig.aspace.state.call_log.records(fault="reset")) == 3
    record = (await rig.kinds(result.run.id))["resource"][uri(1511)]
    assert record.outcome is RecordOutcome.OK
    assert record.reason.endswith("(after 4 tries)")
    assert call_numbers(collection(rig.out / MARC_OUT)) == ["MC001.01", "MC001.02.01"]


@pytest.mark.parametrize(
    ("fault", "endpoint"),
    [
        pytest.param("reset", "marc21", id="four-resets"),
        pytest.param("500", "marc21", id="500-on-the-export"),
        pytest.param("503", "top_containers", id="503-on-the-containers"),
    ],
)
async def test_AS2_B2_a_resource_unavailable_four_times_is_failed_and_the_rest_uploaded(
    rig: Rig, fault: str, endpoint: Endpoint
) -> None:
    rig.yesterday()
    faults = rig.aspace.faults
    if fault == "reset":
        faults.reset(REPO, 1511, count=4, endpoint=endpoint)
    else:
        faults.fail(REPO, 1511, status=int(fault), count=4, endpoint=endpoint)

    result = await rig.run(rig.job())

    # rule B2: one bad record never stops the run; it ends partial (exit 1: test_cli).
    assert result.run.status is RunStatus.PARTIAL
    assert [(f.kind, f.key) for f in result.failures] == [("resource", uri(1511))]
    reason = result.failures[0].reason
    assert reason.startswith("ArchivesSpace unavailable after 4 tries: ")
    assert "GET /repositories/3/" in reason  # the call that failed
    # rule AS2: at most 4 tries, no other retry layer; 1512 tried once.
    assert rig.aspace.marc_requests(1511) == 4
    assert rig.aspace.marc_requests(1512) == 1
    assert rig.sleep.waits == [1.0, 2.0, 3.0]
    # The rest is written and uploaded.
    assert call_numbers(collection(rig.out / MARC_OUT)) == ["MC001.02.01"]
    assert (rig.drop / MARC_OUT).read_bytes() == (rig.out / MARC_OUT).read_bytes()
    assert (rig.drop / MARC_OUT_OLD).read_bytes() == YESTERDAY


async def test_AS2_invalid_XML_fails_that_resource_at_once_and_the_rest_is_written(
    rig: Rig,
) -> None:
    rig.aspace.faults.corrupt_marcxml(REPO, 1511)

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.PARTIAL
    assert [(f.kind, f.key) for f in result.failures] == [("resource", uri(1511))]
    assert uri(1511) in result.failures[0].reason
    # Not worth retrying: one request, no wait.
    assert rig.aspace.marc_requests(1511) == 1
    assert rig.sleep.waits == []
    assert call_numbers(collection(rig.out / MARC_OUT)) == ["MC001.02.01"]
    assert (rig.drop / MARC_OUT).read_bytes() == (rig.out / MARC_OUT).read_bytes()


async def test_AS2_a_404_fails_that_resource_at_once_without_a_retry(rig: Rig) -> None:
    async def deleted_after_listing(path: str) -> None:
        # Deleted in ArchivesSpace between the listing and the export: the export answers 404.
        if path.endswith("/resources/marc21/1511.xml"):
            rig.aspace.state.resources[REPO].pop(1511, None)

    rig.aspace.wrap = lambda inner: Hook(inner, deleted_after_listing)

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.PARTIAL
    assert [(f.kind, f.key) for f in result.failures] == [("resource", uri(1511))]
    assert "404" in result.failures[0].reason
    assert rig.aspace.marc_requests(1511) == 1
    assert [r.status for r in rig.aspace.state.call_log.records(resource=(REPO, 1511))] == [404]
    assert rig.sleep.waits == []
    assert call_numbers(collection(rig.out / MARC_OUT)) == ["MC001.02.01"]


async def test_AS2_B2_a_wrong_password_fails_the_run_in_one_sentence_and_uploads_nothing(
    rig: Rig,
) -> None:
    rig.yesterday()
    rig.password = "not-the-password"

    result = await rig.run(rig.job())

    # rule B2: an unreachable ArchivesSpace ends the run failed with one clear sentence.
    assert result.run.status is RunStatus.FAILED
    reason = result.run.reason or ""
    assert reason.startswith("ArchivesSpace cannot be read: ")
    assert "login" in reason.lower()
    assert "\n" not in reason
    assert "not-the-password" not in reason
    assert PASSWORD not in reason
    # The wrong password is tried once, not once per resource.
    assert rig.aspace.state.call_log.logins() == 1
    assert rig.sleep.waits == []
    # Nothing uploaded, nothing written; the rotation (AS1) did happen first.
    assert "upload" not in [op.name for op in rig.ops]
    assert files(rig.drop) == [MARC_OUT_OLD]
    assert (rig.drop / MARC_OUT_OLD).read_bytes() == YESTERDAY
    assert MARC_OUT not in files(rig.out)
    assert f".{MARC_OUT}.part" not in files(rig.out)


async def test_AS2_B2_a_login_refused_mid_run_fails_the_run_in_one_sentence_not_a_crash(
    rig: Rig,
) -> None:
    state = rig.aspace.state

    async def password_changed(path: str) -> None:
        # The backend restarts (every session gone) and the password was changed meanwhile.
        if path.endswith("/resources/marc21/1512.xml") and state.users[USER] == PASSWORD:
            state.users[USER] = "changed-meanwhile"
            state.expire_sessions()

    rig.aspace.wrap = lambda inner: Hook(inner, password_changed)

    result = await rig.run(rig.job())  # today: raises RunCrashed

    assert result.run.status is RunStatus.FAILED
    reason = result.run.reason or ""
    assert reason.startswith("ArchivesSpace")
    assert not reason.startswith("ArchivesSpaceLoginFailed:")  # a sentence, not a crash
    assert "upload" not in [op.name for op in rig.ops]
