"""The Starlette app of the fake Alma: Alma's routes behind the gateway middleware, plus a
small control API under ``/_fake_alma`` for out-of-process rehearsals (calls and faults).

The control API has no authentication: serve the fake on a loopback or private address.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.fake_alma import (
    routes_analytics,
    routes_bibs,
    routes_conf,
    routes_courses,
    routes_items,
    routes_jobs,
    routes_requests,
    routes_sets,
    routes_users,
)
from adapters.fake_alma.errors import AlmaError, TrackingIds
from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.gateway import AlmaGatewayMiddleware
from adapters.fake_alma.state import FakeAlmaState
from adapters.fake_alma.web import FakeAlma, error_answer, fake


async def _alma_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AlmaError)
    return error_answer(request, exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith("/almaws/"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
    message = f"No API at {request.method} {request.url.path}."
    return error_answer(request, AlmaError(str(exc.status_code), message, exc.status_code))


async def _calls(request: Request) -> Response:
    """``GET /_fake_alma/calls``: the call log (API keys are never in it)."""
    records = [
        {**dataclasses.asdict(r), "time": r.time.isoformat()} for r in fake(request).state.call_log
    ]
    return JSONResponse({"calls": records, "total": len(records)})


async def _faults(request: Request) -> Response:
    """``GET``/``PUT /_fake_alma/faults``: read or change fault knobs; ``POST`` scripts the
    next calls: ``{"count": 3, "kind": "error", "status": 503, "path_contains": "/users"}``."""
    injector = fake(request).faults
    try:
        if request.method == "PUT":
            changes: dict[str, Any] = await request.json()
            if "error_statuses" in changes:
                changes["error_statuses"] = tuple(changes["error_statuses"])
            if changes.get("institutions") is not None:
                changes["institutions"] = frozenset(changes["institutions"])
            injector.configure(**changes)
        elif request.method == "POST":
            script: dict[str, Any] = await request.json()
            injector.fail_next(**script)
    except (TypeError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    config = dataclasses.asdict(injector.config)
    if config["institutions"] is not None:
        config["institutions"] = sorted(config["institutions"])
    return JSONResponse(config)


def create_fake_alma_app(
    state: FakeAlmaState,
    faults: FaultInjector | None = None,
    *,
    control_api: bool = True,
) -> Starlette:
    """The fake Alma over ``state``. Without ``faults`` no fault is injected but Alma's
    per-second and daily thresholds (each institution's own) are enforced."""
    injector = faults or FaultInjector(FaultConfig(), clock=state.clock, seed=state.seed)

    def limits(code: str) -> tuple[int, int] | None:
        inst = state.institutions.get(code)
        return (inst.per_second_threshold, inst.daily_quota) if inst else None

    injector.use_limits(limits)
    context = FakeAlma(state=state, faults=injector, tracking=TrackingIds(state.seed))
    routes: list[BaseRoute] = [
        *routes_items.routes,
        *routes_bibs.routes,
        *routes_requests.routes,
        *routes_users.routes,
        *routes_conf.routes,
        *routes_courses.routes,
        *routes_sets.routes,
        *routes_analytics.routes,
        *routes_jobs.routes,
    ]
    if control_api:
        routes += [
            Route("/_fake_alma/calls", _calls, methods=["GET"]),
            Route("/_fake_alma/faults", _faults, methods=["GET", "PUT", "POST"]),
        ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(AlmaGatewayMiddleware, fake=context)],
        exception_handlers={AlmaError: _alma_error, HTTPException: _http_error},
    )
    app.state.fake_alma = context
    return app
