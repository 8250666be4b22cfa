"""The inbox worker as `almabridge serve` and `almabridge worker` run it (issue 6, item 2).

`run_worker` builds a bridge over the settings in force, and an `InboxWorker` with `BridgeHandlers`
over it, and drains the inbox until `stop` is set. When the settings are reloaded (K2: the
`SettingsHolder` holds a new object), the worker finishes the batch in hand and starts again
over a new bridge, so every message runs with one consistent configuration; the ledger, the
clock, the metrics and the pooled Alma client are the container's and outlive the rebuild.

Before its first claim, the worker hands back at once the messages a dead predecessor held
(rule W8): those under its own name, and those of a process of this host that is no longer
alive (owners are `hostname:pid`). Other dead workers' messages return when their lease, short
and renewed while a message runs (`DEFAULT_LEASE`), runs out: see docs/adr/0003-inbox-leases.md.

Call `prepare_service(container)` first: it checks the ledger schema and loads the settings.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress
from datetime import timedelta

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.configuration import SettingsHolder
from application.scf.inbox.worker import InboxWorker, RetryBackoff
from application.scf.settings import Settings
from application.shared.metrics import Metrics
from entrypoints.bridge_wiring import bridge_handlers
from entrypoints.container import Container, open_bridge
from entrypoints.scheduling import Scheduling, plan_schedules, scheduling_for

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(seconds=20)
"""Renewed every 5 s while a message runs (a renewal that fails is tried again every second),
so a database hiccup of up to ~13 s costs nothing; a dead worker's message is free again at most
20 s after its last renewal, and taken up within the 30 s of rule W8 by a worker polling every
second (or every three, when busy). ADR 0003 gives the reasoning."""
LEASE_VARIABLE = "ALMABRIDGE_WORKER_LEASE_SECONDS"
"""How long a claimed message is held; a killed worker's messages are claimed again after it."""


def lease_from(environ: Mapping[str, str]) -> timedelta:
    """The inbox lease from `ALMABRIDGE_WORKER_LEASE_SECONDS`, else `DEFAULT_LEASE` (20 s)."""
    raw = environ.get(LEASE_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_LEASE
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{LEASE_VARIABLE}={raw!r}: give a number of seconds") from None
    if seconds < 1:
        raise ValueError(f"{LEASE_VARIABLE}={raw!r}: a lease shorter than 1 s cannot be renewed")
    return timedelta(seconds=seconds)


REBUILD_PAUSE = 5.0
"""Seconds to wait before building the bridge again after building it failed."""


def default_owner() -> str:
    """`hostname:pid`: unique per worker process, and tells operators where a lease is held."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_dead_on_this_host(owner: str) -> bool:
    """Whether `owner` names a process of this host (`hostname:pid`) that no longer exists.

    Anything else (another host, a name given with `--owner`, a live or unknowable process,
    a pid reused since) counts as alive: its messages wait for their lease to run out.
    """
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) <= 0:
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # e.g. PermissionError: it exists, under another user
        return False
    return False


def settings_secrets(settings: Settings) -> Iterator[str]:
    """Every secret value of the settings, to mask in errors the ledger keeps."""
    for key in settings.api_keys.values():
        yield key.reveal()
    if settings.webhook_secret:
        yield settings.webhook_secret.reveal()
    if settings.file_server.password:
        yield settings.file_server.password.reveal()


def _replaced(holder: SettingsHolder, in_force: Settings) -> Callable[[], bool]:
    """Whether a reload put other settings in force than the bridge was built over."""
    return lambda: holder.current is not in_force


async def _release_dead(worker: InboxWorker) -> bool:
    """Hand back the messages of dead predecessors (W8); False when the ledger did not answer
    (tried again with the next bridge; meanwhile their leases run out anyway)."""
    try:
        await worker.release_dead(is_dead_on_this_host)
    except Exception:
        log.warning(
            "inbox worker %s: could not look for dead workers' messages",
            worker.owner,
            exc_info=True,
        )
        return False
    return True


BATCH = 10
"""Messages one worker runs at once. A member webhook takes some 8 Alma calls one after another
(about 1.3 s at 150 ms a call), so keeping up with 4 webhooks a second needs more than 5 in
flight (`bench/webhook_latency.py`); the per-institution rate limit still bounds the calls."""


async def run_worker(
    container: Container,
    stop: asyncio.Event,
    *,
    owner: str | None = None,
    lease: timedelta | None = None,
    poll_interval: float = 1.0,
    batch: int = BATCH,
    max_attempts: int = 8,
    backoff: RetryBackoff | None = None,
) -> None:
    """Process inbox messages until stop is set; rebuild the bridge when settings change. With
    a workflows configuration ($ALMABRIDGE_WORKFLOWS), plan its schedules too (B6)."""
    name = owner or default_owner()
    lease = lease or lease_from(container.environ())
    log.info("inbox worker %s started (lease %s)", name, lease)
    scheduling = scheduling_for(
        container.environ(), container.ledger(), container.ledger(), container.clock()
    )
    planner = None
    if scheduling is not None:
        planner = asyncio.create_task(plan_schedules(scheduling, stop))
    try:
        await _work(
            container, stop, scheduling, name, lease, poll_interval, batch, max_attempts, backoff
        )
    finally:
        stop.set()
        if planner is not None:
            await planner
    log.info("inbox worker %s stopped", name)


async def _work(
    container: Container,
    stop: asyncio.Event,
    scheduling: Scheduling | None,
    name: str,
    lease: timedelta,
    poll_interval: float,
    batch: int,
    max_attempts: int,
    backoff: RetryBackoff | None,
) -> None:
    holder: SettingsHolder = container.settings()
    ledger: Ledger = container.ledger()
    clock: Clock = container.clock()
    metrics: Metrics = container.metrics()
    released = False
    while not stop.is_set():
        try:
            async with open_bridge(container) as bridge:
                in_force = bridge.settings
                worker = InboxWorker(
                    ledger,
                    bridge_handlers(bridge),
                    lambda: holder.current.consortium,
                    clock,
                    metrics,
                    owner=name,
                    lease=lease,
                    max_attempts=max_attempts,
                    backoff=backoff,
                    batch=batch,
                    secrets=lambda: tuple(settings_secrets(holder.current)),
                    other_messages=None if scheduling is None else scheduling.messages,
                )
                released = released or await _release_dead(worker)
                log.info("inbox worker %s ready: up to %d messages at once", name, batch)
                await worker.run_forever(
                    stop,
                    poll_interval=poll_interval,
                    restart_when=_replaced(holder, in_force),
                )
            if not stop.is_set():
                log.info("inbox worker %s: settings reloaded, rebuilding the bridge", name)
        except Exception:
            # E.g. a file-server adapter that cannot be built from a reloaded configuration:
            # keep trying, so that the next good reload brings the worker back.
            log.exception("inbox worker %s: cannot build the bridge; retrying", name)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(REBUILD_PAUSE, poll_interval))
