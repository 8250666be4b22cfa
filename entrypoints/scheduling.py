"""Scheduled workflow runs inside the service (rule B6), and their notifications (B7).

With a workflows configuration (`--workflows FILE` or $ALMABRIDGE_WORKFLOWS), every `serve` and
`worker` process plans the `[schedules]` cron expressions every few seconds
(`EnqueueDueRuns`: one inbox message per workflow and due time, so processes sharing a
PostgreSQL ledger enqueue each run once), and its inbox worker takes a scheduled-run message like
any other: leased, retried and fenced. The run itself goes through the `JobRunner` with trigger
`schedule`. A run that crashes is recorded failed and not retried by the inbox (the next due time
runs it again); a run refused because the workflow is running elsewhere is retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from adapters.notify.fanout import Notifications
from adapters.notify.slack import SlackNotifier
from adapters.notify.smtp import SmtpNotifier
from adapters.notify.smtp import SmtpSettings as SmtpAdapterSettings
from adapters.workflow_config.cron import cron_schedules
from adapters.workflow_config.loader import load_workflow_settings
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.ports.runs import WorkflowLock
from application.scf.inbox.records import Details, Handled
from application.shared.ledger_records import Outcome
from application.shared.run_errors import RunCrashed
from application.shared.run_records import RunStatus, RunTrigger
from application.shared.runs import JobRunner
from application.shared.scheduled_runs import EnqueueDueRuns, scheduled_run_from_body
from application.shared.workflow_settings import NotifySettings, WorkflowSettings
from entrypoints.workflow_registry import (
    WorkflowEntry,
    WorkflowSetup,
    WorkflowUsageError,
    load_registry,
    read_config,
)

log = logging.getLogger(__name__)

WORKFLOWS_ENV = "ALMABRIDGE_WORKFLOWS"
"""The workflows' TOML configuration the service schedules from (B6, B9)."""
INTERVAL_ENV = "ALMABRIDGE_SCHEDULE_INTERVAL_SECONDS"
DEFAULT_INTERVAL = 20.0
"""How often a process plans its schedules: a due run starts at most this late."""
OUT_ENV = "ALMABRIDGE_RUNS_OUT"
"""Where scheduled runs write (`{folder}/{workflow}`); default ./out, as `almabridge run`."""


def notifications_for(notify: NotifySettings) -> Notifications | None:
    """The e-mail and Slack channels of `[notify.*]`, or None when no route is configured."""
    if not notify.routes:
        return None
    email = None
    if notify.smtp is not None:
        smtp = notify.smtp
        email = SmtpNotifier(
            SmtpAdapterSettings(
                host=smtp.host,
                port=smtp.port,
                starttls=smtp.starttls,
                use_tls=smtp.use_tls,
                user=smtp.user,
                password=smtp.password,
                sender=smtp.sender,
                timeout_seconds=smtp.timeout_seconds,
            )
        )
    slack = None
    if notify.slack is not None:
        slack = SlackNotifier(notify.slack.webhook, timeout_seconds=notify.slack.timeout_seconds)
    return Notifications(notify.routes, email=email, slack=slack)


@dataclass(frozen=True)
class ScheduledRuns:
    """The inbox's scheduled-run messages, run through the `JobRunner` (`OtherMessages`)."""

    runner: JobRunner
    registry: Mapping[str, WorkflowEntry]
    setup: WorkflowSetup
    out_root: Path

    async def handle(self, body: bytes, message_id: int) -> Handled | None:
        due = scheduled_run_from_body(body)
        if due is None:
            return None
        facts: Details = {"workflow": due.workflow, "due": due.due.isoformat()}
        entry = self.registry.get(due.workflow)
        if entry is None:
            known = ", ".join(sorted(self.registry))
            text = f"scheduled run of {due.workflow}: no such workflow (known: {known})"
            return Handled(Outcome.FAILED, text, details=facts)
        try:
            options = entry.options([], self.setup)
            workflow = entry.build(options, self.setup)
        except WorkflowUsageError as error:
            return Handled(Outcome.FAILED, f"scheduled run of {due.workflow}: {error}", None, facts)
        try:
            result = await self.runner.run(
                workflow,
                out_dir=self.out_root / due.workflow,
                options=options,
                trigger=RunTrigger.SCHEDULE,
            )
        except RunCrashed as crashed:
            # Recorded failed by the runner; repeating a crash at once would only repeat it.
            return Handled(Outcome.FAILED, f"scheduled {due.workflow}: {crashed}", None, facts)
        run = result.run
        outcome = Outcome.OK if run.status is RunStatus.OK else Outcome.FAILED
        text = (
            f"scheduled {due.workflow} due {due.due:%Y-%m-%d %H:%M} UTC: run {run.id} {run.status}"
        )
        return Handled(outcome, text, None, {**facts, "run_id": run.id})


def schedule_view(
    environ: Mapping[str, str],
) -> tuple[tuple[str, ...], Callable[[str], datetime | None]] | None:
    """For the status page (B1): the workflows this process knows and each one's next due
    time, from $ALMABRIDGE_WORKFLOWS; None when it is not set (checked at start-up already)."""
    path = environ.get(WORKFLOWS_ENV)
    if not path:
        return None
    registry = load_registry(environ)
    settings = load_workflow_settings(path, environ, more_workflows=registry)
    schedules = cron_schedules(settings.schedules.crons)

    def next_due(workflow: str) -> datetime | None:
        schedule = schedules.get(workflow)
        return None if schedule is None else schedule.next_after(datetime.now(UTC))

    return tuple(sorted(registry)), next_due


@dataclass(frozen=True)
class Scheduling:
    """What a service process needs to plan and run scheduled workflows."""

    messages: ScheduledRuns
    enqueue: EnqueueDueRuns
    interval: float


def scheduling_for(
    environ: Mapping[str, str], ledger: Ledger, lock: WorkflowLock, clock: Clock
) -> Scheduling | None:
    """Scheduling from $ALMABRIDGE_WORKFLOWS, or None when it is not set. Raises the
    configuration's own errors (`WorkflowConfigError`, `WorkflowUsageError`, `RegistryError`),
    each naming the file and key."""
    path = environ.get(WORKFLOWS_ENV)
    if not path:
        return None
    registry = load_registry(environ)
    settings: WorkflowSettings = load_workflow_settings(path, environ, more_workflows=registry)
    runner = JobRunner(ledger, clock, lock, notifications_for(settings.notify))
    messages = ScheduledRuns(
        runner, registry, read_config(Path(path)), Path(environ.get(OUT_ENV) or "out")
    )
    schedules = cron_schedules(settings.schedules.crons)
    enqueue = EnqueueDueRuns(ledger, clock, schedules, grace=settings.schedules.grace)
    interval = float(environ.get(INTERVAL_ENV) or DEFAULT_INTERVAL)
    return Scheduling(messages, enqueue, interval)


async def plan_schedules(scheduling: Scheduling, stop: asyncio.Event) -> None:
    """Enqueue due runs every `interval` seconds until stop is set; a failure is logged and
    the next round tries again (the inbox keys make a repeat harmless)."""
    while not stop.is_set():
        try:
            result = await scheduling.enqueue()
            for run in result.enqueued:
                log.info("scheduled run of %s due %s enqueued", run.workflow, run.due.isoformat())
        except Exception:
            log.exception("scheduled runs: planning failed; trying again")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), scheduling.interval)
