"""`almabridge sync-items` and `almabridge send-requests`: run a member's job now, by hand.

The same use cases the worker runs on a `JOB_END` (`SyncJobs`), over the same ledger and
configuration, so a manual run and a webhook-triggered one cannot do anything twice: files are
claimed atomically and forwarded requests are never sent again (R6). Exit code 1 when any item,
request or file failed, or the run stopped early (the daily API quota), so schedulers notice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from application.scf.items.item_sync_summary import ItemSyncSummary
from application.scf.requests.outcomes import ForwardingSummary
from application.scf.settings import Settings
from application.scf.sync_jobs import ItemsJobSummary, SyncJobs
from application.shared.run_records import RunTrigger
from entrypoints.bridge_wiring import sync_jobs
from entrypoints.cli.exit_codes import ExitCode
from entrypoints.cli.output import make_console
from entrypoints.cli.progress import EventCounter, watch
from entrypoints.cli.service_options import (
    ConfigOption,
    DatabaseUrlOption,
    container_for,
    fail,
    opened,
)
from entrypoints.container import Container, open_bridge

T = TypeVar("T")

InstitutionArgument = Annotated[
    str,
    typer.Argument(
        help="Member institution code, e.g. 01AAA_AB (any case).",
        metavar="INST",
        show_default=False,
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Read the files and say what would be done; claim nothing, change nothing in Alma.",
    ),
]
ShowOption = Annotated[
    int, typer.Option("--show", help="At most this many items or requests listed one by one.")
]


def sync_items_command(
    institution: InstitutionArgument,
    dry_run: DryRunOption = False,
    show: ShowOption = 20,
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Mirror a member's published items into the SCF now (rules I1-I13), as a publishing
    JOB_END would, then forward the requests that were waiting for those mirrors (R7).

    Files come from {main_folder}/{INST}/items/ on the configured file server.

    Exit codes: 0 every item handled, 1 an item or file failed or the run stopped early,
    2 bad configuration, unknown institution or unmigrated ledger.

    Examples:

      almabridge sync-items 01AAA_AB --config conf.json --dry-run

      almabridge sync-items 01AAA_AB --config conf.json
    """
    container = container_for(config, database_url)
    ok = asyncio.run(_items(container, institution, dry_run=dry_run, show=show))
    raise typer.Exit(ExitCode.OK if ok else ExitCode.WORK_FAILED)


def send_requests_command(
    institution: InstitutionArgument,
    dry_run: DryRunOption = False,
    show: ShowOption = 20,
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Forward a member's remote-storage requests to the SCF now (rules R1-R8), as a requests
    JOB_END would. A request already forwarded is never sent again (R6).

    Files come from {main_folder}/{INST}/requests/ on the configured file server.

    Exit codes: 0 no request failed, 1 a request or file failed or the run stopped early,
    2 bad configuration, unknown institution or unmigrated ledger.

    Examples:

      almabridge send-requests 01AAA_CD --config conf.json --dry-run

      almabridge send-requests 01AAA_CD --config conf.json --show 100
    """
    container = container_for(config, database_url)
    ok = asyncio.run(_requests(container, institution, dry_run=dry_run, show=show))
    raise typer.Exit(ExitCode.OK if ok else ExitCode.WORK_FAILED)


def member_code(settings: Settings, institution: str) -> str:
    """The configured spelling of a member's code; exits 2 for the SCF or a stranger."""
    consortium = settings.consortium
    member = consortium.institution(institution)
    if member is None or consortium.is_scf(member.code):
        members = ", ".join(m.code for m in consortium.members) or "none"
        fail(f"{institution} is not a member institution (members: {members})", ExitCode.BAD_USAGE)
    return member.code


async def _run_job(
    container: Container,
    institution: str,
    name: str,
    start: Callable[[SyncJobs, str], Awaitable[T]],
    *,
    dry_run: bool,
) -> tuple[Console, T]:
    """Run one sync job with progress shown from the ledger's new events."""
    console = make_console()
    async with opened(container) as settings:
        code = member_code(settings, institution)
        async with open_bridge(container) as bridge:
            counter = EventCounter(bridge.ledger, institution=code, since=bridge.clock.now())
            label = f"{name} {code}{' (dry run)' if dry_run else ''}"
            try:
                summary = await watch(
                    start(sync_jobs(bridge), code), counter, console=console, label=label
                )
            except Exception as error:
                fail(f"{label} failed: {error}", ExitCode.WORK_FAILED)
    return console, summary


async def _items(container: Container, institution: str, *, dry_run: bool, show: int) -> bool:
    console, summary = await _run_job(
        container,
        institution,
        "items sync",
        lambda jobs, code: jobs.items_job(code, dry_run=dry_run, trigger=RunTrigger.CLI),
        dry_run=dry_run,
    )
    print_items(console, summary, show=show)
    return items_ok(summary)


async def _requests(container: Container, institution: str, *, dry_run: bool, show: int) -> bool:
    console, summary = await _run_job(
        container,
        institution,
        "requests sync",
        lambda jobs, code: jobs.requests_job(code, dry_run=dry_run, trigger=RunTrigger.CLI),
        dry_run=dry_run,
    )
    print_requests(console, summary, show=show)
    return requests_ok(summary)


def items_ok(summary: ItemsJobSummary) -> bool:
    """No item or file failed, the run went to its end, and so did the released requests."""
    items = summary.items
    files_failed = any(file.status == "failed" for file in items.files)
    waiting = summary.waiting_requests
    return (
        items.failed == 0
        and not files_failed
        and items.stopped is None
        and (waiting is None or requests_ok(waiting))
    )


def requests_ok(summary: ForwardingSummary) -> bool:
    """No request or file failed and the run went to its end."""
    return summary.failed == 0 and summary.files_failed == 0 and summary.stopped is None


def print_items(console: Console, summary: ItemsJobSummary, *, show: int) -> None:
    """The counts, the files, a dry run's plan, and the waiting requests released."""
    items = summary.items
    dry = " (dry run)" if items.dry_run else ""
    console.print(f"Items sync {items.institution}{dry}: {items.total} items", highlight=False)
    console.print(_counts_table(items))
    if items.files:
        files = Table("file", "status", "records", "failed", "reason")
        for file in items.files:
            files.add_row(
                file.name,
                file.status,
                str(file.records_total),
                str(file.records_failed),
                file.failure_reason or "",
            )
        console.print(files)
    if items.plan:
        console.print("Plan (dry run):")
        plan = Table("file", "barcode", "would be", "why")
        for planned in items.plan[:show]:
            plan.add_row(
                planned.file, planned.barcode or "-", planned.result.value, planned.message
            )
        console.print(plan)
        _more(console, len(items.plan) - show)
    if items.stopped:
        console.print(f"stopped early, the files resume next time: {items.stopped}")
    if summary.waiting_requests is not None and summary.waiting_requests.outcomes:
        console.print("Requests that were waiting for these mirrors (R7):")
        print_requests(console, summary.waiting_requests, show=show)


def _counts_table(items: ItemSyncSummary) -> Table:
    table = Table("outcome", "items")
    for result, count in items.counts.items():
        table.add_row(result.value, str(count))
    table.add_row("total", str(items.total))
    return table


def print_requests(console: Console, summary: ForwardingSummary, *, show: int) -> None:
    """The counts per action, the files, and the first `show` requests one by one."""
    dry = " (dry run)" if summary.dry_run else ""
    count = len(summary.outcomes)
    console.print(f"Requests sync {summary.institution}{dry}: {count} requests", highlight=False)
    counts = Table("outcome", "requests")
    actions: dict[str, int] = {}
    for outcome in summary.outcomes:
        actions[outcome.action.value] = actions.get(outcome.action.value, 0) + 1
    for action, count in sorted(actions.items()):
        counts.add_row(action, str(count))
    counts.add_row("total", str(len(summary.outcomes)))
    console.print(counts)
    console.print(
        f"files: {summary.files} read, {summary.files_failed} failed, "
        f"{summary.files_pending} left for the next run"
    )
    if summary.outcomes and show > 0:
        table = Table("request", "barcode", "outcome", "why")
        for outcome in summary.outcomes[:show]:
            table.add_row(
                outcome.request_id, outcome.barcode or "-", outcome.action.value, outcome.reason
            )
        console.print(table)
        _more(console, len(summary.outcomes) - show)
    if summary.stopped:
        console.print(f"stopped early, the files resume next time: {summary.stopped}")


def _more(console: Console, hidden: int) -> None:
    if hidden > 0:
        console.print(f"... and {hidden} more (raise --show to list them)")
