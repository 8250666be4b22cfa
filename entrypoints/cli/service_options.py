"""What the commands that work on a running bridge share: options, the container, failures.

`serve`, `worker`, `sync-items`, `send-requests`, `replay` and `ledger` all read the same
configuration (`--config`, else $CONFIG_FILE, else ./conf.json) and ledger (`--database-url`,
else $ALMABRIDGE_DATABASE_URL, else ./almabridge.db). A configuration or ledger that cannot be
used exits 2 with the reason, never a traceback and never a secret.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, NoReturn

import typer
from sqlalchemy.exc import SQLAlchemyError

from adapters.ledger.database_url import ENVIRONMENT_VARIABLE as DATABASE_URL_ENV
from adapters.ledger.database_url import DatabaseUrlError, mask_password
from adapters.scf.config.loader import CONFIG_FILE_ENV
from application.ports.ledger import Ledger
from application.scf.configuration import ConfigurationError, SettingsHolder
from application.scf.settings import Settings
from application.shared.ledger_records import LedgerNotMigrated
from entrypoints.cli.exit_codes import ExitCode
from entrypoints.container import Container, ServiceCannotStart, prepare_service
from entrypoints.scheduling import WORKFLOWS_ENV

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        help=(
            "conf.json path or http(s)://, ftp://, sftp:// URL; default $CONFIG_FILE, "
            "else conf.json in the working directory."
        ),
        metavar="FILE",
        show_default=False,
    ),
]

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help=(
            f"Ledger URL; default ${DATABASE_URL_ENV}, else the SQLite file almabridge.db in the "
            "working directory."
        ),
        show_default=False,
    ),
]


WorkflowsOption = Annotated[
    str | None,
    typer.Option(
        "--workflows",
        help=(
            "The workflows' TOML configuration whose [schedules] this process runs (B6); "
            "default $ALMABRIDGE_WORKFLOWS, else no scheduled runs."
        ),
        metavar="FILE",
        show_default=False,
    ),
]


def fail(message: str, code: ExitCode) -> NoReturn:
    """Print `error: message` on stderr and exit with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def service_environ(
    config: str | None,
    database_url: str | None,
    base: Mapping[str, str] | None = None,
    *,
    workflows: str | None = None,
) -> dict[str, str]:
    """The process environment with the command line's choices written over it."""
    environ = dict(os.environ if base is None else base)
    if workflows is not None:
        environ[WORKFLOWS_ENV] = workflows
    if config is not None:
        environ[CONFIG_FILE_ENV] = config
    if database_url is not None:
        environ[DATABASE_URL_ENV] = database_url
    return environ


def container_for(
    config: str | None, database_url: str | None, *, workflows: str | None = None
) -> Container:
    """A container over the process environment and the command line's choices."""
    container = Container()
    container.environ.override(service_environ(config, database_url, workflows=workflows))
    return container


async def prepare_jobs(container: Container) -> Settings:
    """The ledger schema and the configuration, as the service checks them, minus rule W2.

    A command run by an operator accepts no webhook, so a missing webhook secret is no reason
    to refuse it (the service itself still refuses).
    """
    ledger: Ledger = container.ledger()
    try:
        await ledger.check_ready()
    except LedgerNotMigrated as error:
        raise ServiceCannotStart(str(error)) from None
    holder: SettingsHolder = container.settings()
    return await holder.load()


@asynccontextmanager
async def opened(container: Container, *, service: bool = False) -> AsyncIterator[Settings]:
    """Prepared settings, with the ledger and the Alma client closed afterwards.

    Refusals (configuration, ledger schema, database URL) exit 2 with the reason.
    """
    try:
        with _refusals():
            settings = await (prepare_service(container) if service else prepare_jobs(container))
        yield settings
    finally:
        await close(container)


@asynccontextmanager
async def ledger_opened(container: Container) -> AsyncIterator[Ledger]:
    """The ledger, checked to be migrated, closed afterwards; no configuration is read."""
    try:
        with _refusals():
            ledger: Ledger = container.ledger()
            try:
                await ledger.check_ready()
            except LedgerNotMigrated as error:
                raise ServiceCannotStart(str(error)) from None
        yield ledger
    finally:
        await close(container)


@contextmanager
def _refusals() -> Iterator[None]:
    """What makes a command refuse to start, as exit code 2 and one line saying why."""
    try:
        yield
    except (ServiceCannotStart, ConfigurationError, DatabaseUrlError) as error:
        fail(str(error), ExitCode.BAD_USAGE)
    except (OSError, SQLAlchemyError) as error:
        # The database file or server cannot be reached at all; the driver's first line says
        # why (the rest is SQL and parameters).
        fail(f"cannot open the ledger: {first_line(error)}", ExitCode.BAD_USAGE)


def first_line(error: BaseException) -> str:
    """An error's first line, any password in a URL masked."""
    lines = str(error).strip().splitlines()
    return mask_password(lines[0]) if lines else type(error).__name__


async def close(container: Container) -> None:
    """Release what the container opened: the Alma client's pool and the ledger's."""
    # A provider whose input was refused (a bad URL) raises again when asked while cleaning
    # up; there is nothing of it to close then.
    holder: SettingsHolder | None
    try:
        holder = container.settings()
    except Exception:
        holder = None
    if holder is not None and holder.loaded:
        await container.alma_client().aclose()
    try:
        ledger: Ledger = container.ledger()
    except Exception:
        return
    await ledger.close()
