"""`almabridge workflows …`: validate the batch workflows' TOML configuration (rules B6, B9)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from adapters.workflow_config import (
    WorkflowConfigError,
    load_workflow_settings,
    local_zone,
    summarise,
)
from entrypoints.cli.exit_codes import ExitCode

app = typer.Typer(
    help=(
        "The batch workflows' configuration: one TOML file for west-holdings, oclc-sync, "
        "course-loading, aspace2alma and their schedules and notifications.\n\n"
        "Example:\n\n"
        "  almabridge workflows check /etc/almabridge/workflows.toml"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("check")
def check_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="the workflows TOML file, e.g. examples/workflows.toml",
            metavar="FILE",
            show_default=False,
            # Checked by the loader, so that a missing file is reported like any other problem.
            exists=False,
            dir_okay=True,
        ),
    ],
) -> None:
    """Validate a workflows configuration and summarise it (rule B9).

    The summary lists the Alma institutions with their rate limit and whether their API key is
    set, the remotes, every workflow's settings (defaults included), the schedules with their
    next due time in this machine's local time, and who is notified of what. Secrets are never
    printed, not even in error messages.

    Secrets may come from the environment instead of the file, and the environment wins:
    ALMABRIDGE_APIKEY_<CODE>, ALMABRIDGE_REMOTE_<NAME>_PASSWORD,
    ALMABRIDGE_ARCHIVESSPACE_PASSWORD, ALMABRIDGE_SMTP_PASSWORD, ALMABRIDGE_SLACK_WEBHOOK.

    Exit code 0 when the file is usable. Exit code 2 when the file does not exist, or with
    every problem listed on stderr, each naming its key path, e.g.

      course_loading.merge_on: must be "code+section" or "code", got "section"

    Examples:

      almabridge workflows check examples/workflows.toml

      ALMABRIDGE_APIKEY_01ABC_INST=l8xx... almabridge workflows check /etc/almabridge/workflows.toml
    """
    try:
        settings = load_workflow_settings(file, os.environ)
    except WorkflowConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(ExitCode.BAD_USAGE) from None
    for line in summarise(settings, datetime.now(UTC), local_zone()):
        typer.echo(line)
