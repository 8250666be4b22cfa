"""`almabridge reconcile INST`: find what differs between the SCF and a member, and repair it.

A thin shell over `application.scf.reconcile.reconciliation.Reconciliation`: it picks the source of
what is expected (`--from-publish FILE` or the ledger), shows progress on stderr while the run
checks and repairs, and prints the findings as a table, JSON or CSV on stdout. Exit code 0 when
nothing is left to do, 1 when findings remain, 2 for bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from application.ports.ledger import Ledger
from application.scf.reconcile.report import (
    LedgerSource,
    PublishFile,
    ReconcileEntry,
    ReconcileProgress,
    ReconcileReport,
    ReconcileSource,
)
from application.shared.files import FileError
from entrypoints.bridge_wiring import reconciliation
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
from entrypoints.cli.sync_commands import InstitutionArgument, member_code
from entrypoints.container import Container, open_bridge

CSV_COLUMNS = (
    "kind",
    "institution",
    "barcode",
    "request_id",
    "message",
    "repair",
    "plan",
    "outcome",
    "result",
    "error_code",
)

FromPublishOption = Annotated[
    Path | None,
    typer.Option(
        "--from-publish",
        help=(
            "A full publishing file of the institution on this machine (.tar.gz or .xml): "
            "expected = its items in remote storage."
        ),
        metavar="FILE",
        exists=True,
        dir_okay=False,
        readable=True,
        show_default=False,
    ),
]
FromLedgerOption = Annotated[
    bool,
    typer.Option(
        "--from-ledger",
        help="Expected = the mirrors the ledger records (the default without --from-publish).",
    ),
]
FixOption = Annotated[
    bool,
    typer.Option(
        "--fix", help="Repair every finding through the sync's services; record each in the ledger."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print the findings as CSV.")]


def reconcile_command(
    institution: InstitutionArgument,
    from_publish: FromPublishOption = None,
    from_ledger: FromLedgerOption = False,
    fix: FixOption = False,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Compare what the SCF should hold for a member institution (expected) with what Alma
    holds (actual), and print the differences as a fix plan; with --fix, repair them.

    Expected: the member's items in remote storage (I5) according to a full publishing file of
    the institution (--from-publish FILE), or by default (--from-ledger) the mirrors the ledger
    records. Each should have an SCF item {barcode}X carrying the member item's metadata (I11),
    on loan to the system user {INST}-{LIBRARY} while the bridge's transit loan is open (I10),
    and each request the bridge forwarded should have a live SCF request.

    Actual: what Alma answers now: the SCF item {barcode}X of every expected barcode and of
    every barcode the ledger knows, the member item, the mirror's loan, and for each forwarded
    request the SCF request and the member's request.

    Findings: missing_mirror, orphan_mirror, drift, missing_loan, wrong_loan, barcode_changed
    (the member gave the item a new barcode), request_lost_in_scf, request_lost_at_source,
    ledger_stale (only the ledger is wrong), check_failed (Alma did not answer).

    Without --fix only GET calls reach Alma and the ledger gets one reconcile.run event. With
    --fix every repair goes through the services the syncs use (create, update, delete, loan,
    cancel) and is recorded as a reconcile.<kind> event; a second --fix run finds nothing.

    Exit codes: 0 nothing found (or all repaired with --fix), 1 findings remain (a plan with
    findings, a failed repair or check, or the daily API quota stopped the run), 2 bad usage,
    configuration or publishing file.

    Examples:

      almabridge reconcile 01AAA_AB

      almabridge reconcile 01AAA_AB --from-publish AB_full.tar.gz --json

      almabridge reconcile 01AAA_AB --from-publish AB_full.tar.gz --fix
    """
    if from_publish is not None and from_ledger:
        raise typer.BadParameter(
            "choose --from-publish FILE or --from-ledger, not both",
            param_hint="--from-publish/--from-ledger",
        )
    if as_json and as_csv:
        raise typer.BadParameter("choose --json or --csv, not both", param_hint="--json/--csv")
    source: ReconcileSource = LedgerSource() if from_publish is None else PublishFile(from_publish)
    container = container_for(config, database_url)
    report = asyncio.run(_run(container, institution, source, fix=fix))
    if as_json:
        typer.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    elif as_csv:
        typer.echo(report_csv(report), nl=False)
    else:
        print_report(make_console(), report)
    raise typer.Exit(ExitCode.OK if report.clean else ExitCode.WORK_FAILED)


class _Progress(EventCounter):
    """The run's own progress reports, shown by `progress.watch` like a sync's event counts
    (a plan writes no events to count)."""

    def __init__(self, ledger: Ledger, since: datetime) -> None:
        super().__init__(ledger, institution=None, since=since)
        self.last: ReconcileProgress | None = None

    def update(self, progress: ReconcileProgress) -> None:
        self.last = progress

    async def poll(self) -> Counter[str]:
        return self.counts

    def describe(self) -> str:
        return self.last.describe() if self.last is not None else "reading the ledger"


async def _run(
    container: Container, institution: str, source: ReconcileSource, *, fix: bool
) -> ReconcileReport:
    # Progress goes to stderr, so stdout holds the report alone (--json, --csv, pipes).
    progress_console = Console(stderr=True)
    async with opened(container) as settings:
        code = member_code(settings, institution)
        async with open_bridge(container) as bridge:
            shown = _Progress(bridge.ledger, bridge.clock.now())
            label = f"reconcile {code}{' --fix' if fix else ''}"
            run = reconciliation(bridge).run(code, source=source, fix=fix, progress=shown.update)
            try:
                return await watch(run, shown, console=progress_console, label=label)
            except FileError as error:
                fail(f"{label}: cannot read the publishing file: {error}", ExitCode.BAD_USAGE)
            except Exception as error:
                fail(f"{label} failed: {error}", ExitCode.WORK_FAILED)


def _result_text(entry: ReconcileEntry) -> str:
    if entry.result is None:
        return entry.finding.plan
    return f"{entry.result.outcome.value}: {entry.result.message}"


def print_report(console: Console, report: ReconcileReport) -> None:
    """The findings as a table (the plan, or what each repair did) and a summary line."""
    if report.entries:
        heading = "repair result" if report.fix else "planned repair"
        table = Table("kind", "barcode / request", "what is wrong", heading)
        for entry in report.entries:
            finding = entry.finding
            table.add_row(finding.kind.value, finding.subject, finding.message, _result_text(entry))
        console.print(table)
    console.print(report.summary(), highlight=False)


def report_json(report: ReconcileReport) -> dict[str, Any]:
    """The report for scripts: the run's facts and one object per finding."""
    findings = []
    for entry in report.entries:
        finding, result = entry.finding, entry.result
        findings.append(
            {
                "kind": finding.kind.value,
                "institution": finding.institution,
                "barcode": finding.barcode,
                "request_id": finding.request_id,
                "message": finding.message,
                "repair": finding.repair.value,
                "plan": finding.plan,
                "changed_fields": list(finding.changed_fields),
                "new_barcode": finding.new_barcode,
                "result": None
                if result is None
                else {
                    "outcome": result.outcome.value,
                    "message": result.message,
                    "error_code": result.error_code,
                },
            }
        )
    return {
        "institution": report.institution,
        "source": report.source,
        "fix": report.fix,
        "barcodes_checked": report.items_checked,
        "requests_checked": report.requests_checked,
        "clean": report.clean,
        "stopped": report.stopped,
        "counts": report.counts(),
        "repaired": report.repaired,
        "remaining": len(report.remaining),
        "findings": findings,
    }


def report_csv(report: ReconcileReport) -> str:
    """One row per finding, header first; the result columns are empty in a plan."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in report.entries:
        finding, result = entry.finding, entry.result
        writer.writerow(
            [
                finding.kind.value,
                finding.institution,
                finding.barcode or "",
                finding.request_id or "",
                finding.message,
                finding.repair.value,
                finding.plan,
                result.outcome.value if result else "",
                result.message if result else "",
                (result.error_code or "") if result else "",
            ]
        )
    return buffer.getvalue()
