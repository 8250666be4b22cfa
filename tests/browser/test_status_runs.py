"""The "Workflow runs" section of the staff page in a real headless Chromium (rule B1): it renders
the ledger's last run of each workflow, its table has a caption and row and column headers, every
text in it is readable (WCAG AA contrast, as the rest of the page), and nothing comes from
another origin.

The service is the real application under uvicorn over a SQLite ledger seeded through the
ledger's API (`seed` and `seed_runs` of tests/browser/status_seed.py), its clock a fake at the
seed's NOW, wired with the seed's workflow names and a fixed schedule. The browser, the server
thread and the checks are those of test_status_page.py. Waits are bounded; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from dependency_injector import providers
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec

from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from application.shared.run_records import JobRun, RecordOutcome
from application.shared.run_status import FIRST_FAILURES
from entrypoints.http import create_app
from tests.browser import test_status_page as page_test
from tests.browser.status_seed import HOSTILE, NOW, PATRON_SECRET, Seeded, seed, seed_runs
from tests.integration.http.support import (
    ADMIN_TOKEN,
    database_url,
    example_conf,
    make_container,
)
from tests.integration.ledger.support import FakeClock

browser = page_test.browser
"""Headless Chromium through chromedriver, both Debian's (the page test's fixture)."""

NEXT_CLEANUP = NOW.replace(hour=6, minute=0) + timedelta(days=1)
RUN_COLUMNS = ["Workflow", "Status", "Started", "Ended", "OK", "Skipped", "Failed", "Next due"]


def schedule(workflow: str) -> datetime | None:
    """Cleanup is due tomorrow morning; the others have no schedule."""
    return NEXT_CLEANUP if workflow == "cleanup" else None


class RunsServed(page_test.Served):
    """The running service, plus the workflows it shows."""

    names: tuple[str, ...] = ()

    def last_run(self, workflow: str) -> JobRun | None:
        async def read(ledger: SqlLedger) -> JobRun | None:
            async with ledger.unit_of_work() as uow:
                runs = await uow.runs.list_runs(workflow=workflow, limit=1)
            return runs[0] if runs else None

        found: JobRun | None = self.ledger_read(read)
        return found

    def failed_keys(self, run_id: int) -> list[str]:
        async def read(ledger: SqlLedger) -> list[str]:
            async with ledger.unit_of_work() as uow:
                records = await uow.runs.records_of(run_id, outcomes=[RecordOutcome.FAILED])
            return [record.key for record in records]

        keys: list[str] = self.ledger_read(read)
        return keys


@pytest.fixture
def served(tmp_path: Path) -> Iterator[RunsServed]:
    """The real app under uvicorn over a SQLite ledger with syncs and runs, its clock at NOW."""
    page_test._browser_or_skip()
    url = database_url(tmp_path)
    clock = FakeClock(NOW)

    async def prepare() -> tuple[Seeded, tuple[str, ...]]:
        await upgrade(url)
        ledger = SqlLedger.from_url(url, clock)
        try:
            return await seed(ledger, clock), await seed_runs(ledger, clock)
        finally:
            await ledger.close()

    seeded, names = asyncio.run(prepare())
    container = make_container(
        tmp_path, example_conf(tmp_path), {"ALMABRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}
    )
    container.clock.override(providers.Object(clock))
    app = create_app(container, run_worker=False, workflow_names=names, next_due=schedule)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = page_test._ServerThread(app, sock)
    server.start()
    try:
        running = RunsServed(f"http://127.0.0.1:{port}", url, seeded, clock)
        running.names = names
        yield running
    finally:
        server.stop()


def cell(row: WebElement, column: str) -> WebElement:
    return row.find_element(By.CSS_SELECTOR, f"[data-column='{column}']")


def test_the_workflow_runs_section_renders_the_ledgers_last_runs_readably(
    browser: WebDriver, served: RunsServed, tmp_path: Path
) -> None:
    page_test.sign_in(browser, served, ADMIN_TOKEN)
    section = page_test.wait(browser).until(ec.visibility_of_element_located((By.ID, "runs")))
    heading = section.find_element(By.TAG_NAME, "h2")
    assert heading.text == "Workflow runs"
    assert section.get_attribute("aria-labelledby") == heading.get_attribute("id")

    # The table: a caption, column headers, and one row header per workflow.
    table = section.find_element(By.ID, "runs-table")
    assert table.find_element(By.TAG_NAME, "caption").text == "Last run of each workflow"
    headers = table.find_elements(By.CSS_SELECTOR, "thead th")
    assert [th.text for th in headers] == RUN_COLUMNS
    assert {th.get_attribute("scope") for th in headers} == {"col"}
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [row.get_attribute("data-workflow") for row in rows] == list(served.names)
    for row in rows:
        workflow = row.get_attribute("data-workflow") or ""
        header = row.find_element(By.CSS_SELECTOR, "th")
        assert (header.get_attribute("scope"), header.text) == ("row", workflow)
        run = served.last_run(workflow)
        if run is None:
            assert cell(row, "status").text == "No run yet."
        else:
            assert row.get_attribute("data-run") == str(run.id)
            assert row.find_element(By.CSS_SELECTOR, ".outcome").text == run.status.value
            assert [cell(row, name).text for name in ("ok", "skipped", "failed")] == [
                str(run.counts.ok),
                str(run.counts.skipped),
                str(run.counts.failed),
            ]
            started = cell(row, "started").find_element(By.TAG_NAME, "time")
            assert started.get_attribute("datetime") == run.started.isoformat()
            if run.ended is None:
                assert cell(row, "ended").text == "not yet"
        due = schedule(workflow)
        if due is None:
            assert cell(row, "next-due").text == "not scheduled"
        else:
            shown = cell(row, "next-due").find_element(By.TAG_NAME, "time")
            assert shown.get_attribute("datetime") == due.isoformat()
    by_name = {row.get_attribute("data-workflow"): row for row in rows}
    states = {name: row.find_elements(By.CSS_SELECTOR, ".outcome") for name, row in by_name.items()}
    assert [states[name][0].text if states[name] else None for name in served.names] == [
        "partial",
        "running",
        "failed",
        None,
    ]

    # The first failures of cleanup's last run, keys as row headers, hostile text shown as text.
    cleanup = served.last_run("cleanup")
    assert cleanup is not None
    failures = section.find_element(By.CSS_SELECTOR, "table.run-failures[data-workflow=cleanup]")
    assert failures.find_element(By.TAG_NAME, "caption").text.startswith(
        f"First failures of cleanup, run {cleanup.id}"
    )
    assert [th.get_attribute("scope") for th in failures.find_elements(By.CSS_SELECTOR, "thead th")]
    keys = [th.text for th in failures.find_elements(By.CSS_SELECTOR, "tbody th[scope=row]")]
    assert keys == served.failed_keys(cleanup.id)[:FIRST_FAILURES]
    assert HOSTILE in failures.text
    page_test._assert_no_script_ran(browser)
    assert PATRON_SECRET not in browser.page_source
    assert ADMIN_TOKEN not in browser.page_source

    # The table of contents reaches the section.
    browser.find_element(By.CSS_SELECTOR, "nav.toc a[href='#runs']").click()
    page_test.wait(browser).until(lambda driver: driver.current_url.endswith("#runs"))

    # Readable: every text of the page (the section's status chips too) at least 4.5:1.
    chips = section.find_elements(By.CSS_SELECTOR, ".outcome")
    assert {chip.get_attribute("class") for chip in chips} >= {
        "outcome outcome-partial",
        "outcome outcome-running",
        "outcome outcome-failed",
    }
    page_test._assert_text_contrast(browser)

    # Nothing from another origin: every resource the page loaded is the service's own.
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name);"
    )
    assert loaded
    assert all(name.startswith(served.url + "/") for name in loaded), loaded

    page_test._screenshot(browser, tmp_path / "status-runs.png")
    page_test._assert_console_is_clean(browser)
