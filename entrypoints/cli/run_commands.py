"""`almabridge run NAME` and `almabridge runs`: batch workflow runs and their records (rules B1,
B2, B5, B8).

Exit codes, as cron lines and scripts rely on: 0 the run ended ok (skipped records alone keep it
ok), 1 it ended partial or failed (or the workflow is running elsewhere), 2 usage or
configuration (an unknown workflow, a bad flag, a file named that does not exist, an unmigrated
ledger). Progress goes to stderr; the summary to stdout; never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from adapters.ledger.clock import SystemClock
from adapters.workflow_config.errors import WorkflowConfigError
from adapters.workflow_config.loader import load_workflow_settings
from application.ports.ledger import Ledger
from application.ports.runs import RunNotifications, WorkflowLock
from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunProgress, Workflow
from application.shared.run_records import JobRun, RunDetail, RunRecord, RunStatus
from application.shared.runs import (
    JobRunner,
    RunCrashed,
    RunRefused,
    RunResult,
    WorkflowBusy,
)
from entrypoints.cli.exit_codes import ExitCode
from entrypoints.cli.output import make_console, plain, short_time, to_json
from entrypoints.cli.service_options import (
    DatabaseUrlOption,
    container_for,
    fail,
    first_line,
    ledger_opened,
)
from entrypoints.scheduling import notifications_for
from entrypoints.workflow_registry import (
    BUILT_IN,
    MODULES_VARIABLE,
    RegistryError,
    WorkflowEntry,
    WorkflowSetup,
    WorkflowUsageError,
    load_registry,
    read_config,
)

_BUILT_IN_HELP = "\n\n".join(
    f"  {entry.name}: {entry.summary}.\n\n    almabridge run {entry.name} {entry.usage}"
    for entry in BUILT_IN
)

RUN_HELP = f"""Run the batch workflow NAME once and record it in the ledger (rules B1, B2, B5, B8).

Every record the run touches is recorded as soon as it is done, with its outcome (ok, skipped,
failed) and a reason naming it. One bad record never stops the run: it ends partial. A run that
is killed keeps status `running`; `--resume RUN_ID` finishes it as a new run with the same
options, inputs and output folder, without redoing the records already done.

Arguments after NAME that are not listed below belong to the workflow.

Exit codes: 0 ok (skipped records alone keep a run ok); 1 partial or failed, or the workflow is
already running in another process; 2 usage or configuration (an unknown NAME lists the known
ones).

Workflows built in:

{_BUILT_IN_HELP}

More are registered by the modules named in ${MODULES_VARIABLE} (comma-separated import paths,
each exposing WORKFLOWS).

Examples:

  almabridge run cleanup --dry-run

  almabridge run cleanup --folder /srv/almabridge/out --keep-days 30

  almabridge run cleanup --config workflows.toml --out /var/tmp/cleanup

  almabridge run cleanup --resume 42

  almabridge runs --workflow cleanup
"""

T = TypeVar("T")

_PROGRESS_EVERY = 2.0  # seconds between two progress lines of counts alone

RUN_CONTEXT = {"allow_extra_args": True, "ignore_unknown_options": True}
"""Arguments after NAME that `run` does not know are the workflow's own."""


def run_command(
    context: typer.Context,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The workflow, e.g. cleanup.", show_default=False)
    ],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Read everything, write outputs to --out only: no upload, no Alma write (B8).",
        ),
    ] = False,
    resume: Annotated[
        int | None,
        typer.Option(
            "--resume",
            metavar="RUN_ID",
            help=(
                "Finish a killed (or partial, or failed) run: its options, inputs and output "
                "folder, skipping the records it already did (B5)."
            ),
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Output folder, created when absent (B8); default ./out/NAME.",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="FILE",
            help="The workflows' TOML configuration (B9).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Run a batch workflow once (registered with RUN_HELP as its help)."""
    entry = _entry(name)
    setup = WorkflowSetup() if config is None else _usage(lambda: read_config(config))
    args: list[str] = list(context.args)
    if resume is not None:
        given = [flag for flag, used in (("--dry-run", dry_run), ("--out", out)) if used]
        if args or given:
            shown = " ".join([*given, *args])
            fail(
                f"--resume reuses run {resume}'s own options, output folder and dry-run flag; "
                f"drop {shown}",
                ExitCode.BAD_USAGE,
            )
        options = None
    else:
        options = _usage(lambda: entry.options(args, setup))
    out_dir = out if out is not None else Path("out") / entry.name
    notifications = None if config is None else _notifications(config)
    result = asyncio.run(
        _run(entry, setup, options, out_dir, dry_run, resume, database_url, notifications)
    )
    _print_result(result)
    raise typer.Exit(ExitCode.OK if result.run.status is RunStatus.OK else ExitCode.WORK_FAILED)


def _notifications(config: Path) -> RunNotifications | None:
    """The `[notify.*]` channels of the configuration (B7); exit 2 naming every bad key."""
    try:
        registry = load_registry()
        settings = load_workflow_settings(config, os.environ, more_workflows=registry)
    except WorkflowConfigError as error:
        fail("\n".join(error.problems), ExitCode.BAD_USAGE)
    return notifications_for(settings.notify)


async def _run(
    entry: WorkflowEntry,
    setup: WorkflowSetup,
    options: dict[str, JsonValue] | None,
    out_dir: Path,
    dry_run: bool,
    resume: int | None,
    database_url: str | None,
    notifications: RunNotifications | None = None,
) -> RunResult:
    container = container_for(None, database_url)
    async with ledger_opened(container) as ledger:
        # The SQL ledger tries its workflow locks without waiting (PostgreSQL advisory locks).
        lock: WorkflowLock = container.ledger()
        runner = JobRunner(ledger, SystemClock(), lock, notifications, on_progress=_Progress())
        try:
            if resume is not None:
                workflow = await _resumed_workflow(ledger, entry, setup, resume)
                return await runner.resume(resume, workflow)
            workflow = _usage(lambda: entry.build(options or {}, setup))
            return await runner.run(
                workflow, out_dir=out_dir, options=options or {}, dry_run=dry_run
            )
        except typer.Exit:
            raise
        except RunRefused as error:
            fail(str(error), ExitCode.BAD_USAGE)
        except (WorkflowBusy, RunCrashed) as error:
            fail(str(error), ExitCode.WORK_FAILED)
        except Exception as error:
            # The ledger failed mid-run, or a workflow could not be built: one line, no
            # traceback (B2).
            fail(f"the run could not be completed: {first_line(error)}", ExitCode.WORK_FAILED)


async def _resumed_workflow(
    ledger: Ledger, entry: WorkflowEntry, setup: WorkflowSetup, run_id: int
) -> Workflow:
    async with ledger.unit_of_work() as uow:
        original = await uow.runs.get_run(run_id)
    if original is None:
        raise RunRefused(f"--resume {run_id}: the ledger has no run {run_id}")
    if original.workflow != entry.name:
        raise RunRefused(
            f"--resume {run_id}: run {run_id} is a run of {original.workflow}, not of {entry.name}"
        )
    return _usage(lambda: entry.build(original.options, setup))


class _Progress:
    """Progress lines on stderr: what the workflow says, and the counts every few seconds."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, progress: RunProgress) -> None:
        now = time.monotonic()
        if progress.message is None and now - self._last < _PROGRESS_EVERY:
            return
        self._last = now
        counts = progress.counts
        text = f"run {progress.run_id} of {progress.workflow}: "
        text += f"{counts.ok} ok, {counts.skipped} skipped, {counts.failed} failed"
        if progress.message:
            text += f"; {progress.message}"
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        sys.stderr.write(f"{stamp} {text}\n")
        sys.stderr.flush()


def _print_result(result: RunResult) -> None:
    run = result.run
    counts = run.counts
    typer.echo(
        f"run {run.id} of {run.workflow}: {run.status.value}"
        + (" (dry run)" if run.dry_run else "")
        + f" - {counts.ok} ok, {counts.skipped} skipped, {counts.failed} failed"
        + (f" (resumes run {run.resumed_from})" if run.resumed_from is not None else "")
    )
    if run.reason:
        typer.echo(f"reason: {run.reason}")
    for record in result.failures:
        typer.echo(f"failed: {record.kind} {record.key}: {record.reason}")
    if counts.failed > len(result.failures):
        typer.echo(
            f"… and {counts.failed - len(result.failures)} more: almabridge runs show {run.id}"
        )
    for output in run.outputs:
        typer.echo(f"output: {output.name} sha256 {output.sha256}")
    for failure in result.notify_failures:
        typer.echo(f"warning: notification failed: {failure}", err=True)


def _entry(name: str) -> WorkflowEntry:
    try:
        registry = load_registry()
    except RegistryError as error:
        fail(str(error), ExitCode.BAD_USAGE)
    entry = registry.get(name)
    if entry is None:
        known = ", ".join(sorted(registry))
        fail(f"unknown workflow {name!r}; known workflows: {known}", ExitCode.BAD_USAGE)
    return entry


def _usage(make: Callable[[], T]) -> T:
    try:
        return make()
    except WorkflowUsageError as error:
        fail(str(error), ExitCode.BAD_USAGE)


# ---- almabridge runs -----------------------------------------------------------------------

runs_app = typer.Typer(
    help=(
        "Runs of the batch workflows, newest first, from the ledger (rule B1); `runs show ID` "
        "for one run with its inputs, outputs and failed records. A run still open, or whose "
        "process was killed, has status running.\n\n"
        "Exit codes: 0 shown, 1 no such run, 2 the ledger cannot be read.\n\n"
        "Examples:\n\n"
        "  almabridge runs\n\n"
        "  almabridge runs --workflow cleanup --json\n\n"
        "  almabridge runs show 42"
    ),
    invoke_without_command=True,
    no_args_is_help=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@runs_app.callback()
def runs_command(
    context: typer.Context,
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Only this workflow's runs.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many runs.")] = 50,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Runs, newest first: id, workflow, trigger, status, start, end and counts.

    `--json` prints an array of objects with at least id, workflow, status, started, ended.

    Examples:

      almabridge runs --workflow cleanup

      almabridge runs --json --limit 10
    """
    if context.invoked_subcommand is not None:
        return
    runs = _read(database_url, lambda ledger: _list(ledger, workflow, limit))
    if as_json:
        typer.echo(to_json([_run_json(run) for run in runs]))
        return
    console = make_console()
    if not runs:
        console.print("no runs")
        return
    table = Table(
        "id",
        "workflow",
        "trigger",
        "status",
        "started",
        "ended",
        "ok",
        "skipped",
        "failed",
        title=f"Runs ({len(runs)})",
    )
    for run in runs:
        table.add_row(
            str(run.id),
            run.workflow,
            run.trigger.value + (f" {run.resumed_from}" if run.resumed_from is not None else ""),
            run.status.value + (" (dry run)" if run.dry_run else ""),
            short_time(run.started),
            "-" if run.ended is None else short_time(run.ended),
            str(run.counts.ok),
            str(run.counts.skipped),
            str(run.counts.failed),
        )
    console.print(table)


@runs_app.command("show")
def show_command(
    run_id: Annotated[int, typer.Argument(metavar="ID", help="The run's id.")],
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="At most this many failed records.")
    ] = 100,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """One run: its status, counts, options, inputs and outputs with sha256, and its failed
    records with their reasons (rule B1).

    Exit code 1 when the ledger has no such run.

    Examples:

      almabridge runs show 42

      almabridge runs show 42 --json
    """
    detail = _read(database_url, lambda ledger: _detail(ledger, run_id, limit))
    if detail is None:
        fail(f"the ledger has no run {run_id}", ExitCode.WORK_FAILED)
    if as_json:
        document = _run_json(detail.run)
        document["failures"] = [_record_json(record) for record in detail.failures]
        typer.echo(to_json(document))
        return
    console = make_console()
    run = detail.run
    summary = Table("field", "value", title=f"Run {run.id} of {run.workflow}", show_header=False)
    for label, value in (
        ("status", run.status.value),
        ("trigger", run.trigger.value),
        ("resumes run", None if run.resumed_from is None else str(run.resumed_from)),
        ("dry run", "yes" if run.dry_run else "no"),
        ("started", short_time(run.started)),
        ("ended", None if run.ended is None else short_time(run.ended)),
        (
            "records",
            f"{run.counts.ok} ok, {run.counts.skipped} skipped, {run.counts.failed} failed",
        ),
        ("reason", run.reason),
        ("output folder", run.out_dir),
        ("options", json.dumps(run.options, sort_keys=True) if run.options else None),
    ):
        summary.add_row(label, "-" if value is None else value)
    for digest in run.inputs:
        summary.add_row(f"input {digest.name}", f"sha256 {digest.sha256}")
    for digest in run.outputs:
        summary.add_row(f"output {digest.name}", f"sha256 {digest.sha256}")
    console.print(summary)
    if not detail.failures:
        console.print("no failed records")
        return
    failures = Table(
        "kind", "key", "reason", "recorded", title=f"Failed records ({run.counts.failed})"
    )
    for record in detail.failures:
        failures.add_row(record.kind, record.key, record.reason, short_time(record.recorded_at))
    console.print(failures)


async def _list(ledger: Ledger, workflow: str | None, limit: int) -> list[JobRun]:
    async with ledger.unit_of_work() as uow:
        return await uow.runs.list_runs(workflow=workflow, limit=limit)


async def _detail(ledger: Ledger, run_id: int, limit: int) -> RunDetail | None:
    async with ledger.unit_of_work() as uow:
        return await uow.runs.run_with_failures(run_id, limit=limit)


def _run_json(run: JobRun) -> dict[str, object]:
    document: dict[str, object] = plain(run)
    return document


def _record_json(record: RunRecord) -> dict[str, object]:
    document: dict[str, object] = plain(record)
    return document


def _read(database_url: str | None, query: Callable[[Ledger], Awaitable[T]]) -> T:
    """One read of the ledger, checked to be migrated; exit 2 when it cannot be read."""

    async def read() -> T:
        async with ledger_opened(container_for(None, database_url)) as ledger:
            try:
                return await query(ledger)
            except Exception as error:
                fail(f"cannot read the ledger: {first_line(error)}", ExitCode.BAD_USAGE)

    return asyncio.run(read())
