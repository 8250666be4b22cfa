"""`almabridge demo`: run the whole bridge against a fake Alma and show what it did."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from entrypoints.cli.exit_codes import ExitCode
from entrypoints.cli.output import make_console
from entrypoints.demo import DemoOutcome, run_demo
from entrypoints.demo.report import print_report

DEMO_TIMEOUT = 55.0


def demo_command(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--folder",
            help="Where to put the ledger, logs, SFTP files and conf.json; default a new "
            "temporary folder. Kept afterwards so you can look around.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the bridge end to end on this machine, with nothing to install or configure.

    Starts a fake Alma (members 01AAA_AB and 01AAA_CD, the SCF 01AAA_RS), an SFTP server and
    the service with its worker on a SQLite ledger, all on 127.0.0.1. Then plays Alma: a
    publishing archive and a request file with their JOB_END webhooks, a LOAN_RETURNED and a
    REQUEST_CANCELED from the SCF. Then runs a WEST holdings export of 01AAA_AB (`almabridge
    run west-holdings`) on the same fake Alma and ledger and names its three files. Then merges
    the OCLC reference reports of Carleton and Western (`almabridge run oclc-sync`), the
    doublecheck read from the fake's Analytics, and shows the counts, the 5 conflicts and the
    files; this step is skipped when the reference folder
    (../shared/reference/joint_oclc_data_sync beside the repository, or
    $ALMABRIDGE_OCLC_DEMO_INPUTS) is not there. Then loads a small Leganto course feed
    (`almabridge run course-loading`: the CEM file fetched from the SFTP server, DELETEs checked
    against the fake Alma, the loader file pushed back) and makes the rollover report
    (`almabridge run course-rollover-report`), e-mailed to a local SMTP server it starts; shows
    the loader file's first rows, the dropped DELETEs with their reasons and the rollover.
    Then exports five collections from a fake ArchivesSpace it starts (`almabridge run
    aspace2alma`): yesterday's MARC_out.xml rotated away first, one record without a 041
    recorded failed while the rest are written, the file uploaded over SFTP.
    Prints what the ledger says happened, and where the ledger and the logs are; stops
    everything it started. Takes a few seconds.

    Exit code 0 when the bridge did everything expected, 1 otherwise (the table says what).

    Examples:

      almabridge demo

      almabridge demo --folder ./demo-run && almabridge ledger events \\
        --database-url sqlite:///demo-run/ledger.db
    """
    console = make_console()
    root = folder.resolve() if folder else Path(tempfile.mkdtemp(prefix="almabridge-demo-"))
    if root.is_dir() and any(root.iterdir()):
        # A second run over an old ledger would meet mirrors the fresh fake Alma never had.
        typer.echo(f"error: {root} is not empty; give the demo a new or empty folder", err=True)
        raise typer.Exit(ExitCode.BAD_USAGE)
    console.print(f"almabridge demo in {root}", highlight=False)
    started = time.monotonic()

    async def bounded() -> DemoOutcome:
        async with asyncio.timeout(DEMO_TIMEOUT):
            return await run_demo(root, console)

    try:
        outcome = asyncio.run(bounded())
    except Exception as error:
        console.print(f"error: the demo failed: {error}", highlight=False)
        console.print(f"logs: {root / 'logs' / 'application.log'}", highlight=False)
        raise typer.Exit(ExitCode.WORK_FAILED) from None
    print_report(console, outcome.happened)
    paths = outcome.paths
    console.print(f"ledger:  {paths.ledger}", highlight=False)
    console.print(
        f"         almabridge ledger events --database-url {paths.database_url}", highlight=False
    )
    console.print(f"logs:    {paths.logs / 'application.log'}", highlight=False)
    if outcome.backup:
        console.print(f"         backed up over SFTP to {outcome.backup} (log_backup)")
    console.print(f"config:  {paths.conf} (generated secrets: not shown)", highlight=False)
    missing = outcome.happened.missing()
    if outcome.west is None or not outcome.west.as_expected():
        missing.append("a WEST export with its two holdings kept and three files")
    if outcome.oclc is None or not outcome.oclc.as_expected():
        missing.append("an OCLC merge with the reference counts, its 5 conflicts and 8 files")
    if outcome.courses is None or not outcome.courses.as_expected():
        missing.append("a course load pushed with 2 DELETEs dropped and 1 rollover e-mailed")
    if outcome.aspace is None or not outcome.aspace.as_expected():
        missing.append("an ArchivesSpace export rotated, 4 records written and 1 failed")
    if outcome.leftovers:
        missing.append(f"a clean stop (still running: {', '.join(outcome.leftovers)})")
    elapsed = time.monotonic() - started
    if missing:
        console.print(f"NOT OK after {elapsed:.1f} s: missing {', '.join(missing)}")
        raise typer.Exit(ExitCode.WORK_FAILED)
    console.print(f"demo OK in {elapsed:.1f} s; every server stopped.", highlight=False)
