"""Scheduled runs across processes (rules B6, B7; issue 14): `almabridge serve` and `almabridge
worker` share one PostgreSQL ledger and one workflows configuration whose `[schedules]` runs a
toy workflow every minute. Over three minute boundaries there are exactly three runs: each due
time enqueued once though both processes plan it, and run once though both workers look for
work. Each run is notified by e-mail (an aiosmtpd server on 127.0.0.1) and on Slack (a local
receiver).

Observed from outside: the ledger's runs and events, the mailbox and the Slack receiver.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.ledger.clock import SystemClock
from adapters.ledger.sql import SqlLedger
from application.shared.ledger_records import InboxStatus
from application.shared.run_records import JobRun, RunStatus, RunTrigger
from tests.e2e.harness import (
    ADMIN_TOKEN,
    LedgerInbox,
    ServiceProcess,
    WorkerProcess,
    alma_side,
    until,
)
from tests.integration.ledger.support import postgres_schema
from tests.integration.notify.servers import (
    WEBHOOK_PATH,
    Mailbox,
    SlackInbox,
    served_over_tcp,
    slack_receiver,
    smtp_server,
)
from tests.toy_workflow import TICK

pytestmark = pytest.mark.postgres

RUNS = 3
"""Minute boundaries the test waits for: the issue's "every minute for 3 minutes"."""
INTERVAL = "2"
"""Seconds between two plannings of one process, so a due run starts within two seconds."""


def _workflows_toml(folder: Path, smtp_port: int, slack_url: str) -> Path:
    path = folder / "workflows.toml"
    path.write_text(
        f"""
[schedules]
{TICK} = "* * * * *"

[notify.smtp]
host = "127.0.0.1"
port = {smtp_port}
starttls = false
from = "almabridge@example.edu"

[notify.slack]
webhook = "{slack_url}{WEBHOOK_PATH}"

[notify.{TICK}]
to = ["systems@example.edu"]
on = ["ok", "partial", "failed"]
slack = true
""",
        encoding="utf-8",
    )
    return path


async def _runs(url: str) -> list[JobRun]:
    ledger = SqlLedger.from_url(url, SystemClock())
    try:
        async with ledger.unit_of_work() as uow:
            return await uow.runs.list_runs(workflow=TICK)
    finally:
        await ledger.close()


async def test_B6_two_processes_run_a_minutely_schedule_three_times_in_three_minutes(
    tmp_path: Path,
) -> None:
    mailbox, slack = Mailbox(), SlackInbox()
    async with (
        postgres_schema() as url,
        alma_side(tmp_path, database_url=url) as side,
        served_over_tcp(slack_receiver(slack)) as slack_url,
    ):
        with smtp_server(mailbox) as smtp_port:
            environment = {
                "ALMABRIDGE_WORKFLOWS": str(_workflows_toml(tmp_path, smtp_port, slack_url)),
                "ALMABRIDGE_WORKFLOW_MODULES": "tests.toy_workflow",
                "ALMABRIDGE_SCHEDULE_INTERVAL_SECONDS": INTERVAL,
                "ALMABRIDGE_RUNS_OUT": str(tmp_path / "out"),
            }
            service = ServiceProcess(side, extra_environment=environment)
            worker = WorkerProcess(side, extra_environment=environment)
            await service.start()
            await worker.start()
            started = datetime.now(UTC)
            inbox = LedgerInbox(url)
            try:

                async def three_runs_settled() -> bool:
                    # Every scheduled message done (none waiting or leased): a second run of a
                    # due time would show as a message still being run, or a fourth run.
                    runs = await _runs(url)
                    messages = await inbox.messages()
                    return (
                        len(runs) >= RUNS
                        and all(run.ended for run in runs)
                        and all(m.status is InboxStatus.DONE for m in messages)
                    )

                await until(three_runs_settled, RUNS * 60 + 30, f"{RUNS} scheduled runs")
                # The staff page shows the workflow's last run and its next due time (B1).
                async with httpx.AsyncClient(base_url=service.url, timeout=10.0) as staff:
                    await staff.post("/status/login", data={"token": ADMIN_TOKEN})
                    page = (await staff.get("/status")).text
                section = page[page.index('id="runs-heading"') :].split("</table>")[0]
                (row,) = [row for row in section.split("<tr") if TICK in row]
                assert "not scheduled" not in row
                assert "No run yet" not in row
            finally:
                await inbox.close()
                await worker.stop()
                await service.stop()
            runs = await _runs(url)
    assert len(runs) == RUNS, [(r.id, r.started, r.trigger) for r in runs]
    assert {run.trigger for run in runs} == {RunTrigger.SCHEDULE}
    assert {run.status for run in runs} == {RunStatus.OK}
    minutes = sorted(run.started.replace(second=0, microsecond=0) for run in runs)
    assert len(set(minutes)) == RUNS  # one run per due time
    assert all(run.started > started for run in runs)
    assert len(mailbox.messages) == RUNS
    assert all(TICK in str(message["Subject"]) for message in mailbox.messages)
    assert len(slack.payloads) == RUNS
