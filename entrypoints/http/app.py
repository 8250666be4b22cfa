"""The Starlette application of `almabridge serve`: routes, lifespan, and the inbox worker.

Startup runs `prepare_service` (migrated ledger, valid configuration, a webhook secret: rule W2)
and refuses to serve when one fails, logging why in a sentence an operator can act on. With
``run_worker`` the inbox worker runs as a task of the same event loop; shutdown asks it to stop,
waits for it, then closes the Alma client and the ledger.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import cast

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.ledger.database_url import async_database_url
from application.ports.ledger import Ledger
from entrypoints.container import Container, ServiceCannotStart, prepare_service
from entrypoints.http import admin, audit, health, metrics, openapi, webhooks
from entrypoints.http.auth import ADMIN_TOKEN_ENV, AdminToken, admin_only
from entrypoints.http.inbox_writer import InboxWriter
from entrypoints.http.state import (
    HttpService,
    WorkerState,
    body_limit_from,
    built_in_workflow_names,
)
from entrypoints.http.status_page import StatusPage

log = logging.getLogger("almabridge.http")

WORKER_STOP_GRACE_SECONDS = 30.0
"""How long shutdown waits for the worker to finish its message before cancelling it."""


def create_app(
    container: Container,
    *,
    run_worker: bool = True,
    workflow_names: Sequence[str] | None = None,
    next_due: Callable[[str], datetime | None] | None = None,
) -> Starlette:
    """The HTTP service over the container's adapters; the worker runs inside when asked.

    `workflow_names` are the batch workflows whose last run `/status` shows (default: the
    built-in ones) and `next_due` says when each is next due (default: none scheduled), rule B1.
    """
    environ = container.environ()
    service = HttpService(
        container=container,
        admin=AdminToken(environ.get(ADMIN_TOKEN_ENV)),
        body_limit=body_limit_from(environ),
        worker=WorkerState(expected=run_worker),
        inbox=InboxWriter(container.ledger, container.clock(), grouped=_on_sqlite(container)),
        workflow_names=(
            built_in_workflow_names() if workflow_names is None else tuple(workflow_names)
        ),
        next_due=next_due,
    )
    webhooks.declare_webhook_metrics(service)

    token = service.admin
    routes = [
        Route(
            "/webhook",
            webhooks.webhook,
            methods=["GET", "POST"],
            max_body_size=service.body_limit,
        ),
        Route("/health", health.health, methods=["GET"]),
        Route("/metrics", admin_only(token, metrics.metrics_endpoint), methods=["GET"]),
        Route("/configuration", admin_only(token, admin.reload_configuration), methods=["GET"]),
        Route("/logger", admin_only(token, admin.logger_level), methods=["GET", "PUT"]),
        Route(
            "/ledger/items/{institution}/{barcode}",
            admin_only(token, audit.item_history),
            methods=["GET"],
        ),
        Route(
            "/ledger/requests/{institution}/{request_id}",
            admin_only(token, audit.request_record),
            methods=["GET"],
        ),
        Route("/ledger/events", admin_only(token, audit.event_log), methods=["GET"]),
        Route("/audit/runs", admin_only(token, audit.run_list), methods=["GET"]),
        Route("/audit/runs/{run_id}", admin_only(token, audit.run_detail), methods=["GET"]),
        Route("/openapi.json", admin_only(token, openapi.openapi_json), methods=["GET"]),
        # The staff page: the same token, typed into its form or sent as the Bearer header.
        *StatusPage(token, environ.get(ADMIN_TOKEN_ENV)).routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=_lifespan(service),
        exception_handlers={audit.BadParameter: _bad_parameter},
    )
    app.state.service = service
    return app


def _on_sqlite(container: Container) -> bool:
    return async_database_url(container.database_url()).startswith("sqlite")


async def _bad_parameter(_request: Request, error: Exception) -> Response:
    return audit.bad_parameter_response(cast(audit.BadParameter, error))


def _lifespan(service: HttpService) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        container = service.container
        ledger = cast(Ledger, container.ledger())
        stop = asyncio.Event()
        try:
            await prepare_service(container)
            if service.worker.expected:
                service.worker.task = _start_worker(container, stop)
                service.worker.started_at = service.clock.now().timestamp()
        except ServiceCannotStart as refusal:
            log.error("almabridge cannot start: %s", refusal)
            await ledger.close()
            raise
        log.info("almabridge is serving (worker %s)", "on" if service.worker.expected else "off")
        try:
            yield
        finally:
            stop.set()
            await _stop_worker(service.worker.task)
            await container.alma_client().aclose()
            await ledger.close()

    return lifespan


def _start_worker(container: Container, stop: asyncio.Event) -> asyncio.Task[None]:
    try:
        # Imported here: the HTTP service without a worker (tests, `--no-worker`) needs none of it.
        from entrypoints.worker_runtime import run_worker
    except ImportError as missing:
        raise ServiceCannotStart(f"the inbox worker is not available: {missing}") from None
    task = asyncio.create_task(run_worker(container, stop), name="almabridge-worker")
    task.add_done_callback(_report_worker_end)
    return task


def _report_worker_end(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        # /health turns degraded too; the log says why.
        log.error("the inbox worker stopped: %r", error, exc_info=error)


async def _stop_worker(task: asyncio.Task[None] | None) -> None:
    if task is None or task.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), WORKER_STOP_GRACE_SECONDS)
    except TimeoutError:
        log.warning("the inbox worker did not stop in time; cancelling it")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    except Exception:  # noqa: S110 (already logged by _report_worker_end)
        pass
