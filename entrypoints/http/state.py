"""What every route handler shares: the container's adapters and the service's own state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from starlette.requests import Request

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.configuration import SettingsHolder
from application.shared.metrics import Metrics
from entrypoints.container import Container, ServiceCannotStart
from entrypoints.http.auth import AdminToken
from entrypoints.http.inbox_writer import InboxWriter
from entrypoints.workflow_registry import BUILT_IN

DEFAULT_BODY_LIMIT = 1024 * 1024
"""Largest webhook body accepted (1 MiB); Alma's webhooks are a few kilobytes."""

BODY_LIMIT_ENV = "ALMABRIDGE_WEBHOOK_MAX_BYTES"


def built_in_workflow_names() -> tuple[str, ...]:
    """The batch workflows `almabridge run` knows without $ALMABRIDGE_WORKFLOW_MODULES (B1)."""
    return tuple(entry.name for entry in BUILT_IN)


@dataclass
class WorkerState:
    """The inbox worker started by this process, if any (for /health)."""

    expected: bool
    task: asyncio.Task[None] | None = None
    started_at: float = 0.0
    """Unix seconds the worker was started (by the service's clock), set at startup."""


@dataclass
class HttpService:
    """One running HTTP service: its container and what the routes keep between requests."""

    container: Container
    admin: AdminToken
    body_limit: int
    worker: WorkerState
    inbox: InboxWriter
    workflow_names: tuple[str, ...] = field(default_factory=built_in_workflow_names)
    """The workflows whose last run `/status` shows, in this order (rule B1)."""
    next_due: Callable[[str], datetime | None] | None = None
    """When a workflow (by name) is next due; None (the default) schedules nothing."""

    @property
    def metrics(self) -> Metrics:
        """The process-wide metrics registry."""
        return self.container.metrics()

    @property
    def ledger(self) -> Ledger:
        """The ledger database."""
        return cast(Ledger, self.container.ledger())

    @property
    def settings(self) -> SettingsHolder:
        """The settings in force, reloadable (rule K2)."""
        return self.container.settings()

    @property
    def clock(self) -> Clock:
        """The service's clock."""
        return cast(Clock, self.container.clock())


def service_of(request: Request) -> HttpService:
    """The service the request's application belongs to."""
    return cast(HttpService, request.app.state.service)


def body_limit_from(environ: Mapping[str, str]) -> int:
    """``ALMABRIDGE_WEBHOOK_MAX_BYTES`` when set to a positive integer, else 1 MiB."""
    raw = environ.get(BODY_LIMIT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_BODY_LIMIT
    # A typo must stop the service, not silently mean 1 MiB.
    if not raw.strip().isdigit() or int(raw.strip()) < 1:
        raise ServiceCannotStart(
            f"{BODY_LIMIT_ENV} must be a positive number of bytes, got {raw!r}"
        )
    return int(raw.strip())
