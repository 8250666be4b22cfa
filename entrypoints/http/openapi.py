"""The OpenAPI 3.1 document served at ``/openapi.json``: every route, parameter and answer.

Hand-written, because the routes are few and the document is a contract (schemathesis fuzzes the
service against it): each constraint declared here is one the handlers enforce.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from application.shared.run_records import RecordOutcome, RunStatus, RunTrigger
from entrypoints.http.admin import LEVELS
from entrypoints.http.audit import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, MAX_RUN_ID, MAX_TEXT
from entrypoints.http.auth import ADMIN_TOKEN_ENV

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}
_JSON_OBJECT = {"type": "object"}
_EVENT = {
    "type": "object",
    "required": ["id", "occurred_at", "action", "outcome", "details"],
    "properties": {
        "id": {"type": "integer"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "institution": {"type": ["string", "null"]},
        "barcode": {"type": ["string", "null"]},
        "request_id": {"type": ["string", "null"]},
        "action": {"type": "string"},
        "outcome": {"enum": ["ok", "failed", "skipped"]},
        "message": {"type": ["string", "null"]},
        "file_id": {"type": ["integer", "null"]},
        "inbox_id": {"type": ["integer", "null"]},
        "details": {"type": "object"},
        "error_code": {"type": ["string", "null"]},
    },
}

_MOMENT = {"type": "string", "format": "date-time"}
_FILE = {
    "type": "object",
    "required": ["name", "sha256"],
    "properties": {"name": {"type": "string"}, "sha256": {"type": "string"}},
}
_RUN_REQUIRED = ["id", "workflow", "trigger", "status", "started", "ended", "counts"]
_RUN_PROPERTIES: dict[str, Any] = {
    "id": {"type": "integer"},
    "workflow": {"type": "string"},
    "trigger": {"enum": [trigger.value for trigger in RunTrigger]},
    "status": {"enum": [status.value for status in RunStatus]},
    "started": _MOMENT,
    "ended": {"type": ["string", "null"], "format": "date-time"},
    "counts": {
        "type": "object",
        "required": ["ok", "skipped", "failed"],
        "properties": {
            "ok": {"type": "integer"},
            "skipped": {"type": "integer"},
            "failed": {"type": "integer"},
        },
    },
    "options": {"type": "object"},
    "inputs": {"type": "array", "items": _FILE},
    "outputs": {"type": "array", "items": _FILE},
    "dry_run": {"type": "boolean"},
    "out_dir": {"type": ["string", "null"]},
    "resumed_from": {"type": ["integer", "null"]},
    "reason": {"type": ["string", "null"]},
}
_RUN = {"type": "object", "required": _RUN_REQUIRED, "properties": _RUN_PROPERTIES}
_RUN_RECORD = {
    "type": "object",
    "required": ["run_id", "kind", "key", "outcome", "reason", "recorded_at"],
    "properties": {
        "run_id": {"type": "integer"},
        "kind": {"type": "string"},
        "key": {"type": "string"},
        "outcome": {"enum": [outcome.value for outcome in RecordOutcome]},
        "reason": {"type": "string"},
        "detail": {"type": "object"},
        "recorded_at": _MOMENT,
    },
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _admin(responses: dict[str, Any]) -> dict[str, Any]:
    """Responses of an admin route: its own plus the token refusals."""
    return {
        **responses,
        "401": _json(_ERROR, "Missing or wrong admin token."),
        "403": _json(_ERROR, f"The admin API is disabled ({ADMIN_TOKEN_ENV} not set)."),
    }


def _text_param(name: str, where: str, description: str, *, required: bool) -> dict[str, Any]:
    # NUL is refused: PostgreSQL text cannot hold it.
    schema: dict[str, Any] = {"type": "string", "maxLength": MAX_TEXT, "pattern": "^[^\\x00]*$"}
    if where == "path":
        schema["minLength"] = 1
    return {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }


_BAD = _json(_ERROR, "A parameter cannot be used; the message names it.")
_NOT_FOUND = _json(_ERROR, "The ledger knows nothing of it.")


def _level(*, required: bool) -> dict[str, Any]:
    return {
        "name": "level",
        "in": "query",
        "required": required,
        "description": "A Python level, or Java's TRACE, WARN, FATAL; upper or lower case.",
        "schema": {"type": "string", "enum": [*LEVELS, *(name.lower() for name in LEVELS)]},
    }


def _ledger_paths() -> dict[str, Any]:
    record = _json(_JSON_OBJECT, "The row (or null) and its events, oldest first.")
    integer = {"type": "integer"}
    events_page = {
        "type": "object",
        "required": ["events", "limit", "offset", "next_offset"],
        "properties": {
            "events": {"type": "array", "items": _EVENT},
            "limit": integer,
            "offset": integer,
            "next_offset": {"type": ["integer", "null"]},
        },
    }
    filters = [
        _text_param("institution", "query", "Institution code.", required=False),
        _text_param("action", "query", "Event action, e.g. item.create.", required=False),
        {
            "name": "outcome",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["ok", "failed", "skipped"]},
        },
        {
            "name": "since",
            "in": "query",
            "required": False,
            "description": "RFC 3339 date-time, inclusive.",
            "schema": {"type": "string", "format": "date-time"},
        },
        {
            "name": "until",
            "in": "query",
            "required": False,
            "description": "RFC 3339 date-time, exclusive.",
            "schema": {"type": "string", "format": "date-time"},
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_LIMIT,
                "default": DEFAULT_LIMIT,
            },
        },
        {
            "name": "offset",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        },
        {
            "name": "order",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
        },
    ]
    institution = _text_param("institution", "path", "Institution code.", required=True)
    return {
        "/ledger/items/{institution}/{barcode}": {
            "get": {
                "summary": "A member barcode's SCF mirror and its history.",
                "parameters": [
                    institution,
                    _text_param("barcode", "path", "Member barcode.", required=True),
                ],
                "responses": _admin({"200": record, "400": _BAD, "404": _NOT_FOUND}),
            }
        },
        "/ledger/requests/{institution}/{request_id}": {
            "get": {
                "summary": "A member request's forwarding and its history.",
                "parameters": [
                    institution,
                    _text_param("request_id", "path", "Member request id.", required=True),
                ],
                "responses": _admin({"200": record, "400": _BAD, "404": _NOT_FOUND}),
            }
        },
        "/ledger/events": {
            "get": {
                "summary": "The event log, filtered and paged.",
                "parameters": filters,
                "responses": _admin({"200": _json(events_page, "A page of events."), "400": _BAD}),
            }
        },
    }


def _limit(description: str) -> dict[str, Any]:
    return {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    }


def _run_paths() -> dict[str, Any]:
    """The batch runs (rule B1), as `almabridge runs --json` and `almabridge runs show --json`."""
    detail = {
        "type": "object",
        "required": [*_RUN_REQUIRED, "failures", "failures_limit"],
        "properties": {
            **_RUN_PROPERTIES,
            "failures": {"type": "array", "items": _RUN_RECORD},
            "failures_limit": {"type": "integer"},
        },
    }
    return {
        "/audit/runs": {
            "get": {
                "summary": "Batch runs (of one workflow), newest start first (B1).",
                "parameters": [
                    _text_param("workflow", "query", "Only this workflow's runs.", required=False),
                    _limit("At most this many runs."),
                    {
                        "name": "offset",
                        "in": "query",
                        "required": False,
                        "description": "Skip this many of the newest runs first.",
                        "schema": {
                            "type": "integer",
                            "minimum": 0,
                            "maximum": MAX_OFFSET,
                            "default": 0,
                        },
                    },
                ],
                "responses": _admin(
                    {
                        "200": _json({"type": "array", "items": _RUN}, "The runs."),
                        "400": _BAD,
                    }
                ),
            }
        },
        "/audit/runs/{run_id}": {
            "get": {
                "summary": "One run: counts, options, inputs and outputs with sha256, and its "
                "first failed records with their keys and reasons (B1).",
                "parameters": [
                    {
                        "name": "run_id",
                        "in": "path",
                        "required": True,
                        "description": "The run's id.",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_RUN_ID},
                    },
                    _limit("At most this many failed records."),
                ],
                "responses": _admin(
                    {
                        "200": _json(detail, "The run and its failed records."),
                        "400": _BAD,
                        "404": _json(_ERROR, "The ledger has no such run."),
                    }
                ),
            }
        },
    }


def _service_paths() -> dict[str, Any]:
    text = {"text/plain": {"schema": {"type": "string"}}}
    admin_object = _json(_JSON_OBJECT, "See the summary.")
    return {
        "/webhook": {
            "get": {
                "summary": "Answer Alma's webhook activation challenge (W1).",
                "security": [],
                "parameters": [
                    {
                        "name": "challenge",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"200": _json(_JSON_OBJECT, '{"challenge": value}, or {}.')},
            },
            "post": {
                "summary": "Receive an Alma webhook: verify, store, acknowledge (W2, W3).",
                "security": [],
                "parameters": [
                    {
                        "name": "X-Exl-Signature",
                        "in": "header",
                        "required": True,
                        "description": "base64(HMAC-SHA256(webhook secret, raw body)).",
                        "schema": {"type": "string"},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {}}},
                },
                "responses": {
                    "200": {"description": "Stored (or stored before).", "content": text},
                    "400": {"description": "Signed but empty; not stored.", "content": text},
                    "401": {"description": "Bad signature; not stored.", "content": text},
                    "413": {"description": "Body over the size limit.", "content": text},
                    "503": {"description": "Ledger unavailable; see Retry-After.", "content": text},
                },
            },
        },
        "/health": {
            "get": {
                "summary": "Database, worker, and each institution's last syncs.",
                "security": [],
                "responses": {
                    "200": _json(_JSON_OBJECT, "ok."),
                    "503": _json(_JSON_OBJECT, "degraded: the report says what is wrong."),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus text exposition (format 0.0.4).",
                "responses": _admin({"200": {"description": "Metrics.", "content": text}}),
            }
        },
        "/configuration": {
            "get": {
                "summary": "Reload the configuration; a failed reload keeps the running one (K2).",
                "responses": _admin(
                    {
                        "200": admin_object,
                        "422": _json(_JSON_OBJECT, "Invalid configuration: problems; kept."),
                        "502": _json(_JSON_OBJECT, "The configuration source could not be read."),
                    }
                ),
            }
        },
        "/logger": {
            "get": {
                "summary": "The root log level; sets it when level is given (as the Java app).",
                "parameters": [_level(required=False)],
                "responses": _admin({"200": admin_object, "400": _BAD}),
            },
            "put": {
                "summary": "Set the root log level.",
                "parameters": [_level(required=True)],
                "responses": _admin({"200": admin_object, "400": _BAD}),
            },
        },
    }


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _status_paths() -> dict[str, Any]:
    """The staff status page (HTML for people, described so the route list stays complete)."""
    closed = _html(f"The page is switched off ({ADMIN_TOKEN_ENV} not set).")
    sign_in = _html("Not signed in: the login form.")
    redirect = {"description": "Done; see Location (Post/Redirect/Get)."}
    too_big = {
        "description": "Form body over the size limit.",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
    csrf_form = {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"csrf": {"type": "string"}},
                    "required": ["csrf"],
                }
            }
        },
    }
    refused = _html(f"Bad or missing CSRF token, or {ADMIN_TOKEN_ENV} not set.")
    return {
        "/status": {
            "get": {
                "summary": "The staff status page: syncs, failures, waiting requests, dead "
                "messages, 30 days of work, 7 days by webhook and by file. Admin token as "
                "Bearer header or session cookie.",
                "parameters": [
                    {
                        "name": "flash",
                        "in": "query",
                        "required": False,
                        "description": "What a replay did, e.g. queued-42 (set by its redirect).",
                        "schema": {
                            "type": "string",
                            "pattern": "^(queued|refused|missing)-[0-9]{1,19}$",
                        },
                    }
                ],
                "responses": {
                    "200": _html("The page."),
                    "400": _html("An unknown flash value."),
                    "401": sign_in,
                    "403": closed,
                    "503": _html("The ledger did not answer."),
                },
            }
        },
        "/status/login": {
            "get": {
                "summary": "The staff page's login form.",
                "security": [],
                "responses": {"200": _html("The form."), "403": closed},
            },
            "post": {
                "summary": "Sign in with the admin token; sets the page's session cookie.",
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {"token": {"type": "string", "minLength": 1}},
                                "required": ["token"],
                            }
                        }
                    },
                },
                "responses": {
                    "303": redirect,
                    "401": _html("Not the admin token: the form again, with the error."),
                    "403": closed,
                    "413": too_big,
                },
            },
        },
        "/status/logout": {
            "post": {
                "summary": "End the page's cookie session.",
                "requestBody": csrf_form,
                "responses": {"303": redirect, "401": sign_in, "403": refused, "413": too_big},
            }
        },
        "/status/replay/{message_id}": {
            "post": {
                "summary": "Put a dead webhook message back in the inbox, as `almabridge replay "
                "message`; redirects to the page with the outcome.",
                "parameters": [
                    {
                        "name": "message_id",
                        "in": "path",
                        "required": True,
                        "description": "The inbox message id.",
                        "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
                    }
                ],
                "requestBody": csrf_form,
                "responses": {
                    "303": redirect,
                    "401": sign_in,
                    "403": refused,
                    "404": _html("Not a message id."),
                    "413": too_big,
                },
            }
        },
        "/status/static/{name}": {
            "get": {
                "summary": "The page's stylesheet and scripts (chart.umd.js is Chart.js, MIT).",
                "security": [],
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "enum": ["status.css", "status.js", "chart.umd.js", "favicon.svg"]
                        },
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The file.",
                        "content": {
                            "text/css": {"schema": {"type": "string"}},
                            "text/javascript": {"schema": {"type": "string"}},
                            "image/svg+xml": {"schema": {"type": "string"}},
                        },
                    },
                    "304": {"description": "Not modified since the ETag sent."},
                    "404": {
                        "description": "No such file.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                },
            }
        },
    }


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "almabridge",
            "version": "1",
            "description": (
                "Alma webhooks in, operators' admin and audit API out, and the staff status "
                "page (HTML) under /status. Every route but the webhook routes, /health, the "
                "status page's login and static files, and this document needs the admin token."
            ),
        },
        "components": {"securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}}},
        "security": [{"adminToken": []}],
        "paths": {**_service_paths(), **_ledger_paths(), **_run_paths(), **_status_paths()},
    }


_DOCUMENT = document()


async def openapi_json(_request: Request) -> Response:
    """The document, behind the admin token like the routes it describes."""
    return JSONResponse(_DOCUMENT)
