"""``GET /health``: can this service do its job right now? (no token: load balancers ask it).

``ok`` (200) needs the ledger database to answer and, when this process runs the inbox worker, the
worker to be alive: its task running and its heartbeat (the ``almabridge_worker_heartbeat_seconds``
gauge, unix seconds) recent. Otherwise ``degraded`` (503). Each institution's last successful
items and requests sync are reported from the ledger's events, for operators; an institution
that has not synced lately does not make the service unhealthy.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from application.scf.inbox.records import WORKER_HEARTBEAT
from application.scf.staff_status import last_requests_sync
from application.shared.ledger_records import Outcome
from entrypoints.http.state import HttpService, service_of

log = logging.getLogger("almabridge.http.health")

STALE_AFTER_SECONDS = 120.0
"""A worker silent for longer is reported stale; it beats between messages and while idle."""

ITEMS_SYNC = "items.sync"
"""ItemSync's one event per run; outcome ok when the run was not stopped short."""


async def health(request: Request) -> Response:
    """The health report; 200 when ok, 503 when degraded."""
    service = service_of(request)
    database, inbox = await _database(service)
    worker = _worker(service)
    report: dict[str, Any] = {
        "status": "ok" if database["ok"] and worker["ok"] else "degraded",
        "database": database,
        "worker": worker,
        "inbox": inbox,
        "configuration": _configuration(service),
        "institutions": await _institutions(service) if database["ok"] else [],
    }
    return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)


async def _database(service: HttpService) -> tuple[dict[str, Any], dict[str, int] | None]:
    try:
        depth = await service.ledger.inbox_depth()
    except Exception as error:  # the report says the database is down instead of failing
        log.warning("health: ledger unavailable: %s", type(error).__name__)
        return {"ok": False, "error": type(error).__name__}, None
    counts = {
        "pending": depth.pending,
        "processing": depth.processing,
        "done": depth.done,
        "dead": depth.dead,
    }
    return {"ok": True}, counts


def _worker(service: HttpService) -> dict[str, Any]:
    state = service.worker
    if not state.expected:
        return {"ok": True, "state": "not running in this process"}
    beat = service.metrics.value(WORKER_HEARTBEAT)
    last = _iso_from_unix(beat) if beat else None
    if state.task is None or state.task.done():
        return {"ok": False, "state": "stopped", "last_heartbeat": last}
    # Before its first beat the worker counts from the moment it was started.
    age = service.clock.now().timestamp() - (beat or state.started_at)
    alive = age <= STALE_AFTER_SECONDS
    return {
        "ok": alive,
        "state": "alive" if alive else "stale",
        "last_heartbeat": last,
        "seconds_since_heartbeat": round(age, 3),
    }


def _configuration(service: HttpService) -> dict[str, Any]:
    holder = service.settings
    failure = holder.last_failure
    return {"loaded": holder.loaded, "last_reload_failure": failure.error if failure else None}


async def _institutions(service: HttpService) -> list[dict[str, Any]]:
    holder = service.settings
    if not holder.loaded:
        return []
    consortium = holder.current.consortium
    report = []
    for member in consortium.members:
        report.append(
            {
                "code": member.code,
                "last_items_sync": await _last_items_sync(service, member.code),
                "last_requests_sync": await _last_requests_sync(service, member.code),
            }
        )
    return report


async def _last_items_sync(service: HttpService, institution: str) -> str | None:
    found = await service.ledger.events(
        institution=institution, action=ITEMS_SYNC, outcome=Outcome.OK, limit=1, newest_first=True
    )
    return found[0].occurred_at.isoformat() if found else None


async def _last_requests_sync(service: HttpService, institution: str) -> str | None:
    # RequestForwarding's `requests.sync` event, ok when the run was not stopped short; a ledger
    # from before that event existed is read through the requests JOB_END's `webhook.process`.
    found = await last_requests_sync(service.ledger, institution, outcome=Outcome.OK)
    return found.occurred_at.isoformat() if found else None


def _iso_from_unix(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()
