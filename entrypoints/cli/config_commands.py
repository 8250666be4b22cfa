"""`almabridge config …`: validate a conf.json and show what it configures."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from adapters.scf.config.errors import ConfigError
from adapters.scf.config.loader import load_settings
from adapters.scf.config.sources import config_source_from
from adapters.scf.config.summary import summarise
from entrypoints.cli.exit_codes import ExitCode

app = typer.Typer(
    help="The bridge's configuration (the Java app's conf.json, unchanged).",
    no_args_is_help=True,
)


@app.command("check")
def check_command(
    source: Annotated[
        str,
        typer.Argument(
            help="conf.json path, or an http(s)://, ftp:// or sftp:// URL",
            metavar="FILE",
            show_default=False,
        ),
    ],
) -> None:
    """Validate a configuration and summarise its institutions, libraries and job ids.

    Secrets may come from the environment instead of the file: ALMABRIDGE_WEBHOOK_SECRET,
    ALMABRIDGE_APIKEY_<INST>, ALMABRIDGE_FTP_PASSWORD. They are never printed.

    Exit code 0 when the configuration is usable, 2 with every problem listed when not.

    Examples:

      almabridge config check conf.json

      CONFIG_FILE=https://config.example.edu/conf.json almabridge config check "$CONFIG_FILE"
    """

    async def load() -> list[str]:
        config_source = config_source_from(
            source, known_hosts=os.environ.get("ALMABRIDGE_CONFIG_KNOWN_HOSTS") or None
        )
        settings = await load_settings(config_source, os.environ)
        return summarise(settings)

    try:
        lines = asyncio.run(load())
    except ConfigError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(ExitCode.BAD_USAGE) from None
    for line in lines:
        typer.echo(line)
