"""The ledger audit API: a barcode's history, a request's record, the event log, and the batch
runs (rule B1: ``/audit/runs`` newest first, ``/audit/runs/{id}`` with its failed records) as JSON.

Read-only, behind the admin token. Datetimes are ISO-8601 with their UTC offset. A bad query
parameter is a 400 that names it; an item or request the ledger never saw is a 404.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from application.shared.ledger_records import LedgerEvent, Outcome
from application.shared.run_options import safe_options
from application.shared.run_records import JobRun, RunDetail, RunRecord
from entrypoints.http.state import service_of

# RFC 3339 date-time (OpenAPI's `date-time` format): the offset is required, no time is ambiguous.
_DATE_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})"
)
EVENT_FILTERS = frozenset(
    {"institution", "action", "outcome", "since", "until", "limit", "offset", "order"}
)
RUN_FILTERS = frozenset({"workflow", "limit", "offset"})
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_TEXT = 256
MAX_OFFSET = 10**9
MAX_RUN_ID = 2**63 - 1
"""The largest id the ledger's BIGINT can hold; no run has a larger one."""


class BadParameter(ValueError):
    """A query or path parameter that cannot be used; the message names it."""


def only_parameters(request: Request, allowed: frozenset[str]) -> None:
    """Refuse a query parameter the route does not know: a typo must not widen a query."""
    for name in request.query_params:
        if name not in allowed:
            raise BadParameter(f"{name[:40]!r} is not a parameter of this route")


async def item_history(request: Request) -> Response:
    """``/ledger/items/{inst}/{barcode}``: the mirror row and its events, oldest first."""
    only_parameters(request, frozenset())
    institution = _text(request.path_params["institution"], "institution")
    barcode = _text(request.path_params["barcode"], "barcode")
    history = await service_of(request).ledger.item_history(institution, barcode)
    if history.item is None and not history.events:
        return _not_found(f"the ledger knows nothing of barcode {barcode!r} of {institution}")
    return JSONResponse(
        {
            "institution": institution,
            "barcode": barcode,
            "item": _json(history.item),
            "events": [_json(event) for event in history.events],
        }
    )


async def request_record(request: Request) -> Response:
    """``/ledger/requests/{inst}/{request_id}``: the forwarding row and its events."""
    only_parameters(request, frozenset())
    institution = _text(request.path_params["institution"], "institution")
    request_id = _text(request.path_params["request_id"], "request_id")
    record = await service_of(request).ledger.request_record(institution, request_id)
    if record.request is None and not record.events:
        return _not_found(f"the ledger knows nothing of request {request_id!r} of {institution}")
    return JSONResponse(
        {
            "institution": institution,
            "request_id": request_id,
            "request": _json(record.request),
            "events": [_json(event) for event in record.events],
        }
    )


async def event_log(request: Request) -> Response:
    """``/ledger/events``: events matching every filter given, oldest first unless order=desc."""
    only_parameters(request, EVENT_FILTERS)
    query = request.query_params
    institution = _optional_text(query.get("institution"), "institution")
    action = _optional_text(query.get("action"), "action")
    outcome = _outcome(query.get("outcome"))
    since = _moment(query.get("since"), "since")
    until = _moment(query.get("until"), "until")
    limit = _integer(query.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _integer(query.get("offset"), "offset", 0, 0, MAX_OFFSET)
    order = query.get("order", "asc")
    if order not in ("asc", "desc"):
        raise BadParameter("order must be asc or desc")
    found: list[LedgerEvent] = await service_of(request).ledger.events(
        institution=institution,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
        newest_first=order == "desc",
    )
    return JSONResponse(
        {
            "events": [_json(event) for event in found],
            "limit": limit,
            "offset": offset,
            "next_offset": offset + len(found) if len(found) == limit else None,
        }
    )


async def run_list(request: Request) -> Response:
    """``/audit/runs``: batch runs (of one workflow), newest start first, as a JSON array (B1).

    The objects are those of `almabridge runs --json`; `limit` and `offset` page through them.
    """
    only_parameters(request, RUN_FILTERS)
    query = request.query_params
    workflow = _optional_text(query.get("workflow"), "workflow")
    limit = _integer(query.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _integer(query.get("offset"), "offset", 0, 0, MAX_OFFSET)
    async with service_of(request).ledger.unit_of_work() as uow:
        runs = await uow.runs.list_runs(workflow=workflow, limit=limit, offset=offset)
    return JSONResponse([_run_json(run) for run in runs])


async def run_detail(request: Request) -> Response:
    """``/audit/runs/{run_id}``: one run with its inputs and outputs (name and sha256) and its
    first `limit` failed records (B1), as `almabridge runs show ID --json`; 404 when unknown."""
    only_parameters(request, frozenset({"limit"}))
    raw = request.path_params["run_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        raise BadParameter("run_id must be a run's id, a positive integer")
    limit = _integer(request.query_params.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    run_id = int(raw)
    detail: RunDetail | None = None
    if 1 <= run_id <= MAX_RUN_ID:
        async with service_of(request).ledger.unit_of_work() as uow:
            detail = await uow.runs.run_with_failures(run_id, limit=limit)
    if detail is None:
        return _not_found(f"the ledger has no run {run_id}")
    return JSONResponse(
        {
            **_run_json(detail.run),
            "failures": [_record_json(record) for record in detail.failures],
            "failures_limit": limit,
        }
    )


def _run_json(run: JobRun) -> dict[str, Any]:
    """A run as JSON; its options once more without secrets, whoever wrote the row (B1)."""
    document: dict[str, Any] = _json(run)
    document["options"] = _json(safe_options(run.options))
    return document


def _record_json(record: RunRecord) -> dict[str, Any]:
    document: dict[str, Any] = _json(record)
    document["detail"] = _json(safe_options(record.detail))
    return document


def bad_parameter_response(error: BadParameter) -> Response:
    """The 400 answer naming the parameter."""
    return JSONResponse({"error": str(error)}, status_code=400)


def _not_found(message: str) -> Response:
    return JSONResponse({"error": message}, status_code=404)


def _text(value: str, name: str) -> str:
    # NUL cannot be stored in PostgreSQL text: refuse it here rather than fail in the database.
    if not value or "\x00" in value or len(value) > MAX_TEXT:
        raise BadParameter(f"{name} must be 1 to {MAX_TEXT} characters without NUL")
    return value


def _optional_text(value: str | None, name: str) -> str | None:
    return None if value is None or value == "" else _text(value, name)


def _outcome(value: str | None) -> Outcome | None:
    if value is None:
        return None
    try:
        return Outcome(value)
    except ValueError:
        allowed = ", ".join(o.value for o in Outcome)
        raise BadParameter(f"outcome must be one of {allowed}") from None


def _moment(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 date-time; fractions past microseconds are dropped."""
    if value is None:
        return None
    parts = _DATE_TIME.fullmatch(value.strip())
    if parts is None:
        raise BadParameter(f"{name} must be an RFC 3339 date-time, e.g. 2026-01-31T08:00:00Z")
    day, clock, fraction, offset = parts.groups()
    text = f"{day}T{clock}.{(fraction or '0')[:6]:0<6}{'+00:00' if offset in 'Zz' else offset}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(f"{name} is not a real date and time") from None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        # A valid RFC 3339 moment outside Python's years 1-9999 once in UTC: the edge it touches.
        return (
            datetime.min.replace(tzinfo=UTC)
            if moment.year < 2
            else datetime.max.replace(tzinfo=UTC)
        )


def _integer(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.strip().isdigit():
        raise BadParameter(f"{name} must be an integer from {low} to {high}")
    number = int(value.strip())
    if not low <= number <= high:
        raise BadParameter(f"{name} must be an integer from {low} to {high}")
    return number


def _json(value: Any) -> Any:
    """A ledger record as JSON: dataclasses as objects, datetimes ISO-8601, enums as values."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict | Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return str(value)
