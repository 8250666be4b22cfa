"""`almabridge db …`: create, upgrade and inspect the ledger schema."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from adapters.ledger.database_url import (
    ENVIRONMENT_VARIABLE,
    DatabaseUrlError,
    async_database_url,
    mask_password,
)
from adapters.ledger.migrate import current_revision, head_revision, upgrade
from entrypoints.cli.exit_codes import ExitCode

app = typer.Typer(
    help="The ledger database: create or upgrade its schema, or show where it stands.",
    no_args_is_help=True,
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help=(
            f"Ledger URL; default ${ENVIRONMENT_VARIABLE}, else the SQLite file almabridge.db "
            "in the working directory. Forms: sqlite:///PATH, postgresql://USER@HOST:PORT/DB."
        ),
        show_default=False,
    ),
]


def _url(option: str | None) -> str | None:
    return option if option is not None else os.environ.get(ENVIRONMENT_VARIABLE)


def _shown(url: str | None) -> str:
    try:
        return mask_password(async_database_url(url))
    except DatabaseUrlError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(ExitCode.BAD_USAGE) from None


@app.command("upgrade")
def upgrade_command(database_url: DatabaseUrlOption = None) -> None:
    """Create the ledger tables, or bring them up to this version's schema.

    Safe to run again: a ledger that is already current is left as it is.

    Examples:

      almabridge db upgrade

      almabridge db upgrade --database-url postgresql://bridge@db.example.edu/almabridge
    """
    url = _url(database_url)
    shown = _shown(url)
    try:
        revision = asyncio.run(upgrade(url))
    except Exception as error:
        typer.echo(f"error: could not upgrade the ledger at {shown}: {_plain(error)}", err=True)
        raise typer.Exit(ExitCode.WORK_FAILED) from None
    typer.echo(f"ledger at {shown} is at revision {revision} (current)")


@app.command("status")
def status_command(database_url: DatabaseUrlOption = None) -> None:
    """Show the ledger's schema revision and whether `almabridge db upgrade` is needed.

    Exit code 0 when the ledger is current, 1 when it needs an upgrade or cannot be reached.
    """
    url = _url(database_url)
    shown = _shown(url)

    async def revisions() -> tuple[str | None, str]:
        return await current_revision(url), await head_revision()

    try:
        current, head = asyncio.run(revisions())
    except Exception as error:
        typer.echo(f"error: could not read the ledger at {shown}: {_plain(error)}", err=True)
        raise typer.Exit(ExitCode.WORK_FAILED) from None
    if current == head:
        typer.echo(f"ledger at {shown} is at revision {head} (current)")
        return
    where = "has no almabridge schema" if current is None else f"is at revision {current}"
    typer.echo(f"ledger at {shown} {where}; this version needs {head}: run almabridge db upgrade")
    raise typer.Exit(ExitCode.WORK_FAILED)


def _plain(error: BaseException) -> str:
    # Driver errors can span lines (SQL, parameters); the first line says what went wrong.
    text = str(error).strip().splitlines()
    return mask_password(text[0]) if text else type(error).__name__
