"""The "Workflow runs" section of `/status`: the last run of each batch workflow, its counts, its
first failures and when it is next due, against the ledger's own answers on every backend (B1).

Runs are written through the ledger's run port (tests/browser/status_seed.py `seed_runs`); what
the page should say is read back with the port's own queries, never hard-coded.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from adapters.ledger.memory import MemoryLedger
from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from application.ports.ledger import Ledger
from application.shared.run_records import JobRun, RecordOutcome, RunStatus, RunTrigger
from application.shared.run_status import (
    FIRST_FAILURES,
    NextDue,
    WorkflowRunsView,
    workflow_runs,
)
from entrypoints.http import create_app
from entrypoints.http.state import HttpService, built_in_workflow_names
from tests.browser.page_text import Element, parse
from tests.browser.status_seed import HOSTILE, NOW, PATRON_SECRET, seed_runs
from tests.integration.http.support import (
    ADMIN_TOKEN,
    SECRETS,
    Service,
    admin,
    example_conf,
    make_container,
)
from tests.integration.ledger.support import FakeClock, database

NAMES = ("cleanup", "west-batch", "courses", "aspace")
"""The workflows seed_runs writes (aspace never runs), in the order the page is given them."""
BACKENDS = ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
DUE = {
    "cleanup": NOW.replace(hour=6, minute=0) + timedelta(days=1),
    "courses": NOW.replace(hour=5, minute=0) + timedelta(days=1),
}


def schedule(workflow: str) -> datetime | None:
    """A fixed schedule: cleanup and courses tomorrow morning, the others never."""
    return DUE.get(workflow)


@asynccontextmanager
async def runs_service(
    tmp_path: Path,
    backend: str = "sqlite",
    *,
    workflow_names: Sequence[str] | None = NAMES,
    next_due: NextDue | None = schedule,
) -> AsyncIterator[tuple[Service, FakeClock]]:
    """The service on a ledger backend, its clock a fake at NOW, wired with these workflows."""
    clock = FakeClock(NOW)
    async with database(backend, tmp_path) as url:
        container = make_container(
            tmp_path, example_conf(tmp_path), {"ALMABRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}
        )
        ledger: Ledger
        if url is None:
            ledger = MemoryLedger(clock)
        else:
            await upgrade(url)
            ledger = SqlLedger.from_url(url, clock)
        container.clock.override(providers.Object(clock))
        container.ledger.override(providers.Object(ledger))
        app = create_app(
            container, run_worker=False, workflow_names=workflow_names, next_due=next_due
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as c:
                yield Service(container, app, c, tmp_path / "conf.json"), clock


async def page_of(service: Service) -> tuple[str, Element]:
    response = await service.client.get("/status", headers=admin())
    assert response.status_code == 200, response.text
    return response.text, parse(response.text)


async def last_run(ledger: Ledger, workflow: str) -> JobRun | None:
    async with ledger.unit_of_work() as uow:
        runs = await uow.runs.list_runs(workflow=workflow, limit=1)
    return runs[0] if runs else None


async def first_failures(ledger: Ledger, run_id: int) -> list[tuple[str, str]]:
    async with ledger.unit_of_work() as uow:
        records = await uow.runs.records_of(run_id, outcomes=[RecordOutcome.FAILED])
    return [(record.key, record.reason) for record in records[:FIRST_FAILURES]]


def cells(row: Element) -> dict[str, str]:
    return {cell.attrs["data-column"]: cell.text for cell in row.find_all(data_column=None)}


@pytest.mark.parametrize("backend", BACKENDS)
async def test_each_workflows_last_run_is_the_ledgers(tmp_path: Path, backend: str) -> None:
    async with runs_service(tmp_path, backend) as (service, clock):
        names = await seed_runs(service.ledger, clock)
        assert names == NAMES
        _html, page = await page_of(service)
        section = page.find("section", id="runs")
        assert section.find("h2").text == "Workflow runs"
        assert page.find("nav", class_="toc").find("a", href="#runs")
        rows = section.find("table", id="runs-table").find("tbody").find_all("tr")
        assert [row.attrs["data-workflow"] for row in rows] == list(names)
        for row in rows:
            workflow = row.attrs["data-workflow"]
            assert row.find("th").attrs["scope"] == "row"
            assert row.find("th").text == workflow
            run = await last_run(service.ledger, workflow)
            shown = cells(row)
            due = DUE.get(workflow)
            next_due = row.find(data_column="next-due")
            if due is None:
                assert shown["next-due"] == "not scheduled"
            else:
                assert next_due.find("time").attrs["datetime"] == due.isoformat()
            if run is None:
                assert "data-run" not in row.attrs
                assert shown["status"] == "No run yet."
                continue
            assert row.attrs["data-run"] == str(run.id)
            assert row.find(class_="outcome").text == run.status.value
            assert f"run {run.id}, {run.trigger.value}" in shown["status"]
            started = row.find(data_column="started").find("time")
            assert started.attrs["datetime"] == run.started.isoformat()
            if run.ended is None:
                assert shown["ended"] == "not yet"
            else:
                ended = row.find(data_column="ended").find("time")
                assert ended.attrs["datetime"] == run.ended.isoformat()
            assert (shown["ok"], shown["skipped"], shown["failed"]) == (
                str(run.counts.ok),
                str(run.counts.skipped),
                str(run.counts.failed),
            )
            if run.reason:
                assert run.reason in shown["status"]

        # The seed has one of each state for the comparison to mean something.
        by_name = {row.attrs["data-workflow"]: row for row in rows}
        assert by_name["cleanup"].find(class_="outcome").text == "partial"
        assert by_name["west-batch"].find(class_="outcome").text == "running"
        assert cells(by_name["west-batch"])["ended"] == "not yet"
        assert by_name["courses"].find(class_="outcome").text == "failed"
        assert "no CEM file" in cells(by_name["courses"])["status"]
        assert "No run yet" in by_name["aspace"].text

        # Failures: the first five of cleanup's last run, in the order recorded, with their keys.
        cleanup = await last_run(service.ledger, "cleanup")
        assert cleanup is not None
        assert cleanup.counts.failed > FIRST_FAILURES
        tables = section.find_all("table", class_="run-failures")
        assert [table.attrs["data-workflow"] for table in tables] == ["cleanup"]
        (table,) = tables
        assert f"run {cleanup.id}" in table.find("caption").text
        assert f"{FIRST_FAILURES} of {cleanup.counts.failed}" in table.find("caption").text
        assert [th.text for th in table.find("thead").find_all("th")] == [
            "Record",
            "Kind",
            "Reason",
            "When",
        ]
        listed = [
            (row.find("th").text, row.find("td", class_="message").text)
            for row in table.find_all("tr", class_="run-failure")
        ]
        assert listed == await first_failures(service.ledger, cleanup.id)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
async def test_the_pages_json_block_has_the_same_rows(tmp_path: Path, backend: str) -> None:
    async with runs_service(tmp_path, backend) as (service, clock):
        names = await seed_runs(service.ledger, clock)
        view = await workflow_runs(service.ledger, names, schedule)
        _html, page = await page_of(service)
    block = page.find("script", id="workflow-runs-data")
    assert block.attrs["type"] == "application/json"
    data = json.loads("".join(block.parts))
    assert [row["workflow"] for row in data] == list(names)
    for row, want in zip(data, view.workflows, strict=True):
        run = want.last_run
        assert row["run_id"] == (None if run is None else run.id)
        assert row["status"] == (None if run is None else run.status.value)
        assert row["counts"] == {
            "ok": want.counts.ok,
            "skipped": want.counts.skipped,
            "failed": want.counts.failed,
        }
        assert [(f["key"], f["reason"]) for f in row["failures"]] == [
            (f.key, f.reason) for f in want.failures
        ]
        due = schedule(row["workflow"])
        assert row["next_due"] == (None if due is None else due.isoformat())
    assert data[1]["status"] == "running"
    assert data[1]["ended"] is None
    assert data[3]["status"] is None


async def test_no_secret_is_shown_and_hostile_reasons_are_text(tmp_path: Path) -> None:
    async with runs_service(tmp_path, "sqlite") as (service, clock):
        await seed_runs(service.ledger, clock)
        html, page = await page_of(service)
    # The seed left a secret in cleanup's options: the page shows no options at all.
    assert PATRON_SECRET not in html
    for secret in SECRETS:
        assert secret not in html
    assert HOSTILE not in html
    hostile = page.find("tr", class_="run-failure", data_key="/out/hostile.csv")
    assert HOSTILE in hostile.find("td", class_="message").text  # shown as text, escaped
    # The JSON block escapes markup too, and is the only script without a src.
    assert all(
        script.attrs.get("type") == "application/json"
        for script in page.find_all("script")
        if "src" not in script.attrs
    )


async def test_an_empty_ledger_says_no_run_yet_for_every_workflow(tmp_path: Path) -> None:
    names = ("cleanup", "west-batch")
    async with runs_service(tmp_path, "sqlite", workflow_names=names, next_due=None) as (
        service,
        _clock,
    ):
        _html, page = await page_of(service)
    section = page.find("section", id="runs")
    rows = section.find("table", id="runs-table").find("tbody").find_all("tr")
    assert [row.attrs["data-workflow"] for row in rows] == list(names)
    for row in rows:
        assert cells(row)["status"] == "No run yet."
        assert cells(row)["next-due"] == "not scheduled"
    assert section.find_all("table", class_="run-failures") == []


async def test_without_wiring_the_built_in_workflows_are_shown(tmp_path: Path) -> None:
    async with runs_service(tmp_path, "memory", workflow_names=None, next_due=None) as (
        service,
        _clock,
    ):
        state = service.app.state.service
        assert isinstance(state, HttpService)
        assert state.workflow_names == built_in_workflow_names()
        assert "cleanup" in state.workflow_names
        assert state.next_due is None
        _html, page = await page_of(service)
    rows = page.find("table", id="runs-table").find("tbody").find_all("tr", class_="workflow-run")
    assert [row.attrs["data-workflow"] for row in rows] == list(built_in_workflow_names())


# ---- the view itself ---------------------------------------------------------------------------


async def test_the_view_lists_each_name_once_and_asks_the_schedule_per_name() -> None:
    clock = FakeClock(NOW)
    ledger = MemoryLedger(clock)
    asked: list[str] = []

    def due(workflow: str) -> datetime | None:
        asked.append(workflow)
        return NOW + timedelta(hours=1) if workflow == "b" else None

    async with ledger.unit_of_work() as uow:
        first = await uow.runs.start_run("b", RunTrigger.CLI)
        for n in range(FIRST_FAILURES + 3):
            await uow.runs.record(first.id, "mms_id", f"99{n}", RecordOutcome.FAILED, f"bad {n}")
        await uow.runs.record(first.id, "mms_id", "ok-1", RecordOutcome.OK, "fine")
        await uow.runs.finish_run(first.id, RunStatus.PARTIAL)
        await uow.commit()
    view = await workflow_runs(ledger, ["b", "a", "b"], due)
    assert isinstance(view, WorkflowRunsView)
    assert [row.workflow for row in view.workflows] == ["b", "a"]
    assert asked == ["b", "a"]
    b = view.of("b")
    assert b is not None
    assert b.status is RunStatus.PARTIAL
    assert (b.counts.ok, b.counts.failed) == (1, FIRST_FAILURES + 3)
    assert [f.key for f in b.failures] == [f"99{n}" for n in range(FIRST_FAILURES)]
    assert b.more_failures
    assert b.next_due == NOW + timedelta(hours=1)
    a = view.of("a")
    assert a is not None
    assert (a.last_run, a.status, a.failures, a.next_due) == (None, None, (), None)
    assert a.counts.total == 0
    assert view.of("unknown") is None
    # With no schedule at all, nothing is due; a limit of 0 lists no failure.
    bare = await workflow_runs(ledger, ["b"], failure_limit=0)
    assert bare.workflows[0].next_due is None
    assert bare.workflows[0].failures == ()
