"""HTTP plumbing shared by the route modules: format negotiation, answers, paging, bodies.

Alma answers XML unless asked for JSON; the fake answers JSON unless asked for XML, because
every client of this project speaks JSON and a browser or ``curl`` should see JSON. An
``Accept`` that names JSON wins; then ``format=``; then an ``Accept`` that names XML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.fake_alma import errors, marc, xml_render
from adapters.fake_alma.errors import TrackingIds
from adapters.fake_alma.faults import FaultInjector
from adapters.fake_alma.model import Institution
from adapters.fake_alma.state import FakeAlmaState

MAX_LIMIT = 100
DEFAULT_LIMIT = 10


@dataclass
class FakeAlma:
    """What the routes share: the state, the fault injector and tracking ids."""

    state: FakeAlmaState
    faults: FaultInjector
    tracking: TrackingIds


def fake(request: Request) -> FakeAlma:
    """The fake behind this app."""
    found: FakeAlma = request.app.state.fake_alma
    return found


def institution_code(request: Request) -> str:
    """The institution the gateway matched the API key to."""
    code: str = request.scope["state"]["institution"]
    return code


def institution(request: Request) -> Institution:
    """The institution record of the caller."""
    return fake(request).state.institution(institution_code(request))


def base_url(request: Request) -> str:
    """``{scheme}://{host}/almaws/v1``: the root that ``link`` values point at."""
    return str(request.base_url).rstrip("/") + "/almaws/v1"


def wants_xml(request: Request) -> bool:
    """Whether the client asked for XML rather than JSON."""
    accept = request.headers.get("accept", "").lower()
    if "json" in accept:
        return False
    fmt = request.query_params.get("format")
    if fmt:
        return fmt.lower() == "xml"
    return "xml" in accept


def answer(
    request: Request,
    body: Mapping[str, Any],
    *,
    root: str,
    list_key: str | None = None,
    status: int = 200,
) -> Response:
    """JSON, or XML under ``root`` when the client wants XML."""
    if wants_xml(request):
        return Response(
            xml_render.render(root, body, list_key),
            status_code=status,
            media_type="application/xml",
        )
    return JSONResponse(dict(body), status_code=status)


def error_answer(request: Request, error: errors.AlmaError, *, force_xml: bool = False) -> Response:
    """Alma's error envelope in the negotiated format, with a fresh tracking id."""
    ctx = fake(request)
    tracking_id = ctx.tracking.next(ctx.state.clock.now())
    return render_error(error, tracking_id, xml=force_xml or wants_xml(request))


def render_error(error: errors.AlmaError, tracking_id: str, *, xml: bool) -> Response:
    """The error response itself."""
    if xml:
        return Response(
            errors.error_xml(error, tracking_id),
            status_code=error.status,
            media_type="application/xml",
        )
    return JSONResponse(errors.error_json(error, tracking_id), status_code=error.status)


def paging(request: Request) -> tuple[int, int]:
    """``limit`` (0–100, default 10) and ``offset`` (≥ 0, default 0)."""
    raw_limit = request.query_params.get("limit", str(DEFAULT_LIMIT))
    raw_offset = request.query_params.get("offset", "0")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise errors.invalid_parameter("limit", raw_limit) from None
    try:
        offset = int(raw_offset)
    except ValueError:
        raise errors.invalid_parameter("offset", raw_offset) from None
    if not 0 <= limit <= MAX_LIMIT:
        raise errors.invalid_parameter("limit", raw_limit)
    if offset < 0:
        raise errors.invalid_parameter("offset", raw_offset)
    return limit, offset


def flag(request: Request, name: str) -> bool | None:
    """A ``true``/``false`` query parameter; None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    return raw.strip().lower() == "true"


async def json_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or Alma's error."""
    raw = await request.body()
    try:
        body = json.loads(raw.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.bad_body(f"invalid JSON ({exc.__class__.__name__})") from None
    if not isinstance(body, dict):
        raise errors.bad_body("a JSON object was expected")
    return body


async def text_body(request: Request) -> str:
    """The body as text (UTF-8)."""
    raw = await request.body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.bad_body("the body is not UTF-8") from None


def is_xml(request: Request, text: str) -> bool:
    """Whether a body is XML (by content type, else by its first character)."""
    content_type = request.headers.get("content-type", "").lower()
    if "xml" in content_type:
        return True
    if "json" in content_type:
        return False
    return text.lstrip().startswith("<")


def record_from_body(text: str) -> Any:
    """The ``<record>`` inside a ``<bib>`` or ``<holding>`` XML body, or None."""
    return marc.find_record(marc.parse_xml(text))
