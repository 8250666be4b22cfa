"""The audit API's batch runs (rule B1): `GET /audit/runs` newest first as a JSON array, and
`GET /audit/runs/{id}` with inputs and outputs (sha256) and its failed records, behind the admin
token like the rest of the audit API; checked against the ledger's own answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from application.ports.ledger import Ledger
from application.shared.run_records import JobRun, RecordOutcome
from tests.browser.status_seed import HOSTILE, PATRON_SECRET, seed_runs
from tests.integration.http.support import ADMIN_TOKEN, SECRETS, admin, running_service
from tests.integration.http.test_status_page_runs import BACKENDS, runs_service

RUN_KEYS = {"id", "workflow", "trigger", "status", "started", "ended", "counts"}


async def all_runs(ledger: Ledger, workflow: str | None = None) -> list[JobRun]:
    async with ledger.unit_of_work() as uow:
        return await uow.runs.list_runs(workflow=workflow, limit=1000)


def moment(value: Any) -> datetime:
    assert isinstance(value, str)
    parsed = datetime.fromisoformat(value)
    assert parsed.utcoffset() == timedelta(0)
    return parsed


# ---- who may read ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/audit/runs", "/audit/runs/1"])
async def test_the_runs_need_the_admin_token_like_the_other_audit_routes(
    tmp_path: Path, path: str
) -> None:
    async with runs_service(tmp_path, "memory") as (service, clock):
        await seed_runs(service.ledger, clock)
        for headers in ({}, admin("wrong"), admin("")):
            response = await service.client.get(path, headers=headers)
            assert response.status_code == 401
            assert "error" in response.json()
            assert "cleanup" not in response.text
        assert (await service.client.get(path, headers=admin())).status_code == 200
    (tmp_path / "closed").mkdir()
    async with running_service(tmp_path / "closed", env={}) as closed:
        response = await closed.client.get(path, headers=admin())
        assert response.status_code == 403
        assert "ALMABRIDGE_ADMIN_TOKEN" in response.json()["error"]


# ---- the list ----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_list_is_the_ledgers_runs_newest_first(tmp_path: Path, backend: str) -> None:
    async with runs_service(tmp_path, backend) as (service, clock):
        await seed_runs(service.ledger, clock)
        want = await all_runs(service.ledger)
        response = await service.client.get("/audit/runs", headers=admin())
        assert response.status_code == 200
        answer = response.json()
        assert isinstance(answer, list)
        assert [run["id"] for run in answer] == [run.id for run in want]
        assert len(answer) == 5
        starts = [moment(run["started"]) for run in answer]
        assert starts == sorted(starts, reverse=True)
        for run, row in zip(want, answer, strict=True):
            assert set(row) >= RUN_KEYS
            assert (row["workflow"], row["trigger"], row["status"]) == (
                run.workflow,
                run.trigger.value,
                run.status.value,
            )
            assert moment(row["started"]) == run.started
            assert row["ended"] == (None if run.ended is None else run.ended.isoformat())
            assert row["counts"] == {
                "ok": run.counts.ok,
                "skipped": run.counts.skipped,
                "failed": run.counts.failed,
            }
        running = next(row for row in answer if row["workflow"] == "west-batch")
        assert (running["status"], running["ended"]) == ("running", None)

        # One workflow's runs, paged by limit and offset.
        cleanup = await all_runs(service.ledger, "cleanup")
        response = await service.client.get(
            "/audit/runs", params={"workflow": "cleanup"}, headers=admin()
        )
        assert [run["id"] for run in response.json()] == [run.id for run in cleanup]
        assert {run["workflow"] for run in response.json()} == {"cleanup"}
        first = await service.client.get(
            "/audit/runs", params={"workflow": "cleanup", "limit": 1}, headers=admin()
        )
        second = await service.client.get(
            "/audit/runs", params={"workflow": "cleanup", "limit": 1, "offset": 1}, headers=admin()
        )
        assert [run["id"] for run in first.json() + second.json()] == [run.id for run in cleanup]
        nothing = await service.client.get(
            "/audit/runs", params={"workflow": "aspace"}, headers=admin()
        )
        assert (nothing.status_code, nothing.json()) == (200, [])


async def test_an_empty_ledger_lists_no_runs(tmp_path: Path) -> None:
    async with running_service(tmp_path) as service:
        response = await service.client.get("/audit/runs", headers=admin())
    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"workflow": "x" * 300}, "workflow"),
        ({"workflow": "a\x00b"}, "workflow"),
        ({"flow": "cleanup"}, "flow"),
    ],
)
async def test_a_bad_parameter_is_a_400_that_names_it(
    tmp_path: Path, params: dict[str, str], named: str
) -> None:
    async with running_service(tmp_path) as service:
        response = await service.client.get("/audit/runs", params=params, headers=admin())
    assert response.status_code == 400
    assert named in response.json()["error"]


# ---- one run -----------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
async def test_one_run_has_its_files_and_its_failed_records(tmp_path: Path, backend: str) -> None:
    async with runs_service(tmp_path, backend) as (service, clock):
        await seed_runs(service.ledger, clock)
        (run, _older) = await all_runs(service.ledger, "cleanup")
        async with service.ledger.unit_of_work() as uow:
            failed = await uow.runs.records_of(run.id, outcomes=[RecordOutcome.FAILED])
        response = await service.client.get(f"/audit/runs/{run.id}", headers=admin())
        assert response.status_code == 200
        answer = response.json()
        assert set(answer) >= RUN_KEYS
        assert (answer["id"], answer["workflow"], answer["status"]) == (
            run.id,
            "cleanup",
            "partial",
        )
        assert answer["inputs"] == [{"name": "cleanup-in.csv", "sha256": "a" * 64}]
        assert answer["outputs"] == [{"name": "cleanup-out.csv", "sha256": "b" * 64}]
        assert moment(answer["ended"]) == run.ended
        assert answer["counts"]["failed"] == len(failed) == 7
        assert [(r["kind"], r["key"], r["outcome"], r["reason"]) for r in answer["failures"]] == [
            (r.kind, r.key, r.outcome.value, r.reason) for r in failed
        ]
        assert any(HOSTILE in r["reason"] for r in answer["failures"])  # JSON text, not markup
        assert answer["failures_limit"] == 100
        # A secret a careless writer left in the options never leaves through the API.
        assert PATRON_SECRET not in response.text
        assert all(secret not in response.text for secret in (*SECRETS, ADMIN_TOKEN))
        assert "api_key" not in answer["options"]
        assert answer["options"]["folders"] == ["/out"]
        assert answer["options"]["source"] == "sftp://bridge:***@sftp.example/in"

        limited = await service.client.get(
            f"/audit/runs/{run.id}", params={"limit": 2}, headers=admin()
        )
        assert [r["key"] for r in limited.json()["failures"]] == [r.key for r in failed[:2]]
        assert limited.json()["counts"]["failed"] == 7

        (open_run,) = (await all_runs(service.ledger, "west-batch"))[:1]
        response = await service.client.get(f"/audit/runs/{open_run.id}", headers=admin())
        answer = response.json()
        assert (answer["status"], answer["ended"], answer["failures"]) == ("running", None, [])
        assert answer["outputs"] == []


@pytest.mark.parametrize("run_id", ["999999", "0", str(2**63), "9" * 19])
async def test_an_unknown_run_is_a_404(tmp_path: Path, run_id: str) -> None:
    async with runs_service(tmp_path, "sqlite") as (service, clock):
        await seed_runs(service.ledger, clock)
        response = await service.client.get(f"/audit/runs/{run_id}", headers=admin())
    assert response.status_code == 404
    assert response.json() == {"error": f"the ledger has no run {int(run_id)}"}


@pytest.mark.parametrize(
    ("path", "named"),
    [
        ("/audit/runs/abc", "run_id"),
        ("/audit/runs/-1", "run_id"),
        ("/audit/runs/1.5", "run_id"),
        ("/audit/runs/" + "1" * 20, "run_id"),
        ("/audit/runs/1?limit=0", "limit"),
        ("/audit/runs/1?order=asc", "order"),
    ],
)
async def test_a_bad_run_id_or_parameter_is_a_400(tmp_path: Path, path: str, named: str) -> None:
    async with running_service(tmp_path) as service:
        response = await service.client.get(path, headers=admin())
    assert response.status_code == 400
    assert named in response.json()["error"]


async def test_the_openapi_document_describes_both_routes(tmp_path: Path) -> None:
    async with running_service(tmp_path) as service:
        document = (await service.client.get("/openapi.json", headers=admin())).json()
    listing = document["paths"]["/audit/runs"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"workflow", "limit", "offset"}
    schema = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["type"] == "array"
    assert set(schema["items"]["required"]) >= RUN_KEYS
    detail = document["paths"]["/audit/runs/{run_id}"]["get"]
    assert set(detail["responses"]) >= {"200", "400", "401", "403", "404"}
    required = detail["responses"]["200"]["content"]["application/json"]["schema"]["required"]
    assert {"failures", *RUN_KEYS} <= set(required)
