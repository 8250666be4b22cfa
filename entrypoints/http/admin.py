"""Operator routes: reload the configuration (rule K2) and read or set the log level.

``GET /configuration`` keeps the Java path and verb (operators' scripts call it) but, unlike the
Java app, a failed reload keeps the running settings and answers with every problem found: 422
when the configuration is invalid, 502 when its source could not be read.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.scf.config.errors import ConfigSourceError
from adapters.scf.config.summary import summarise
from application.scf.configuration import Reloaded
from entrypoints.http.audit import only_parameters
from entrypoints.http.state import service_of

log = logging.getLogger("almabridge.http.admin")

# Java (log4j) names are accepted too, since operators used them with the Java app.
LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
    "TRACE": logging.DEBUG,
    "WARN": logging.WARNING,
    "FATAL": logging.CRITICAL,
}


async def reload_configuration(request: Request) -> Response:
    """Load the configuration again; on failure keep the one in force (K2)."""
    only_parameters(request, frozenset())
    result = await service_of(request).settings.reload()
    if isinstance(result, Reloaded):
        log.info("configuration reloaded")
        return JSONResponse({"status": "reloaded", "summary": summarise(result.settings)})
    status = 502 if isinstance(result.cause, ConfigSourceError) else 422
    return JSONResponse(
        {
            "status": "failed",
            "error": result.error,
            "problems": list(result.problems),
            "kept_running_settings": result.kept is not None,
        },
        status_code=status,
    )


async def logger_level(request: Request) -> Response:
    """GET shows the root log level; PUT (or GET, as in the Java app) with ``level`` sets it."""
    only_parameters(request, frozenset({"level"}))
    root = logging.getLogger()
    wanted = request.query_params.get("level")
    if wanted is None:
        if request.method == "PUT":
            return _bad_level("the level query parameter is required")
        return JSONResponse({"level": logging.getLevelName(root.level)})
    # Upper or lower case, as the OpenAPI enum lists them; "Debug" is a typo worth a 400.
    level = LEVELS.get(wanted.upper()) if wanted in (wanted.upper(), wanted.lower()) else None
    if level is None:
        return _bad_level(f"unknown level {wanted[:40]!r}")
    previous = logging.getLevelName(root.level)
    root.setLevel(level)
    log.warning("log level set to %s (was %s)", logging.getLevelName(level), previous)
    return JSONResponse({"level": logging.getLevelName(level), "previous": previous})


def _bad_level(problem: str) -> Response:
    valid = ", ".join(LEVELS)
    return JSONResponse({"error": f"{problem}; valid levels: {valid}"}, status_code=400)
