"""`almabridge serve` and `almabridge worker`: the long-running processes.

Both check what the service needs before anything else (ledger schema, configuration and, for
`serve`, the webhook secret of rule W2) and refuse with exit code 2 and the reason. Both run the
optional daily log backup beside their work. The HTTP app and the worker runtime are imported
when the command runs, so the short commands start without loading a web stack.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from typing import Annotated

import typer

from adapters.workflow_config.errors import WorkflowConfigError
from adapters.workflow_config.loader import load_workflow_settings
from application.scf.settings import Settings
from entrypoints.cli.exit_codes import ExitCode
from entrypoints.cli.service_options import (
    ConfigOption,
    DatabaseUrlOption,
    WorkflowsOption,
    container_for,
    fail,
    opened,
)
from entrypoints.container import Container, ServiceCannotStart
from entrypoints.log_backup_runtime import LOG_FORMAT, install_log_file, run_log_backup
from entrypoints.scheduling import WORKFLOWS_ENV, schedule_view
from entrypoints.workflow_registry import RegistryError, WorkflowUsageError, load_registry

LogLevelOption = Annotated[
    str,
    typer.Option(
        "--log-level", help="debug, info, warning or error (changeable later: PUT /logger)."
    ),
]


def serve_command(
    config: ConfigOption = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 for every interface.")
    ] = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(help="Port to listen on; default $PORT, else 8080.", show_default=False),
    ] = None,
    database_url: DatabaseUrlOption = None,
    log_level: LogLevelOption = "info",
    workflows: WorkflowsOption = None,
) -> None:
    """Serve the webhook endpoint and the admin API, with the inbox worker inside.

    Alma's webhooks go to POST /webhook; admin routes need ALMABRIDGE_ADMIN_TOKEN.
    Refuses to start (exit code 2, reason on stderr) with an unmigrated ledger, an unusable
    configuration, or no webhook secret (rule W2).

    Examples:

      almabridge serve --config conf.json

      CONFIG_FILE=sftp://cfg@config.example.edu/conf.json ALMABRIDGE_ADMIN_TOKEN=... \\
        almabridge serve --host 0.0.0.0 --port 8080
    """
    chosen_port = port if port is not None else int(os.environ.get("PORT") or 8080)
    container = container_for(config, database_url, workflows=workflows)
    check_workflows(container)
    _configure_logging(log_level)
    asyncio.run(_serve(container, host, chosen_port, log_level))


def worker_command(
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
    owner: Annotated[
        str | None,
        typer.Option(help="Name of this worker in inbox leases; default host name and pid."),
    ] = None,
    log_level: LogLevelOption = "info",
    workflows: WorkflowsOption = None,
) -> None:
    """Process the webhook inbox without serving HTTP, until SIGINT or SIGTERM.

    Several workers (`serve` included) share a PostgreSQL ledger's inbox without doing anything
    twice: each claims one message at a time and runs up to 10 at once, and an idle worker takes
    a waiting message before one busy with a sync. They also share Alma's limit of calls per
    second per institution (alma_rate_limit_per_second), and only one of them at a time syncs a
    member's items or requests; that member's own webhooks (W6, W7) run side by side, but never
    during its sync.

    A killed worker's messages are taken up again within 30 s: at once by a worker starting on
    the same host, otherwise when their 20-second lease (ALMABRIDGE_WORKER_LEASE_SECONDS)
    expires. A failed message is retried after 2 s, 8 s, 32 s and so on.

    Examples:

      almabridge worker --config conf.json

      ALMABRIDGE_DATABASE_URL=postgresql://bridge@db/almabridge almabridge worker --owner w2
    """
    container = container_for(config, database_url, workflows=workflows)
    check_workflows(container)
    _configure_logging(log_level)
    asyncio.run(_worker(container, owner))


def check_workflows(container: Container) -> None:
    """Refuse to start (exit 2, every problem named) with a workflows configuration that
    cannot schedule: a bad file, key or cron expression, an unknown workflow module (B9)."""
    environ = container.environ()
    if not environ.get(WORKFLOWS_ENV):
        return
    try:
        load_workflow_settings(
            environ[WORKFLOWS_ENV], environ, more_workflows=load_registry(environ)
        )
    except WorkflowConfigError as error:
        fail("\n".join(error.problems), ExitCode.BAD_USAGE)
    except (RegistryError, WorkflowUsageError) as error:
        fail(str(error), ExitCode.BAD_USAGE)


def _configure_logging(level: str) -> None:
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        fail(f"unknown log level {level}: use debug, info, warning or error", ExitCode.BAD_USAGE)
    logging.basicConfig(level=number, format=LOG_FORMAT)


def _log_file(settings: Settings) -> None:
    # The backup uploads the log the service writes; without it there is nothing to upload.
    if settings.log_backup.enabled:
        install_log_file(settings.log_backup.log_folder)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket; exits 2 naming the address when it cannot be had."""
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = info[0]
        listener = socket.socket(family, kind, proto)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}", ExitCode.BAD_USAGE)
    listener.setblocking(False)
    return listener


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stopped(number: int, frame: object) -> None:
    """Takes the signal uvicorn raises again after its graceful shutdown: nothing left to do."""


async def _serve(container: Container, host: str, port: int, log_level: str) -> None:
    import uvicorn

    from entrypoints.http import create_app

    async with opened(container, service=True) as settings:
        _log_file(settings)
        listener = listening_socket(host, port)
        view = schedule_view(container.environ())
        names, next_due = view if view is not None else (None, None)
        app = create_app(container, run_worker=True, workflow_names=names, next_due=next_due)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level=log_level.lower(), access_log=False, lifespan="on")
        )
        stop = asyncio.Event()
        backup = asyncio.create_task(run_log_backup(container, stop))
        typer.echo(f"almabridge serving on http://{host}:{listener.getsockname()[1]}", err=True)
        # uvicorn re-raises the SIGINT or SIGTERM that stopped it once it has shut down, so
        # that the default handler kills the process; a graceful stop should exit 0 instead.
        previous = {number: signal.signal(number, _stopped) for number in _STOP_SIGNALS}
        try:
            await server.serve(sockets=[listener])
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            stop.set()
            await backup
            listener.close()
        if not server.started:
            fail("the service did not start; the log above says why", ExitCode.WORK_FAILED)


async def _worker(container: Container, owner: str | None) -> None:
    from entrypoints.worker_runtime import run_worker

    async with opened(container) as settings:
        _log_file(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in _STOP_SIGNALS:
            loop.add_signal_handler(number, stop.set)
        logging.getLogger(__name__).info("worker started; SIGINT or SIGTERM stops it")

        async def work() -> None:
            try:
                await run_worker(container, stop, owner=owner)
            finally:
                stop.set()  # a worker that ends on its own ends the log backup too

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(work())
                group.create_task(run_log_backup(container, stop))
        except* ServiceCannotStart as refused:
            fail(str(refused.exceptions[0]), ExitCode.BAD_USAGE)
        finally:
            for number in _STOP_SIGNALS:
                loop.remove_signal_handler(number)
