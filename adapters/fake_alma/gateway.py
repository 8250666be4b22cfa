"""Alma's API gateway in front of the routes: API key → institution, thresholds, faults,
``X-Exl-Api-Remaining`` and the call log.

A pure ASGI middleware (not ``BaseHTTPMiddleware``) so that an injected dropped connection
can cut a response after its headers, which is what a reset looks like to a client.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.fake_alma import errors
from adapters.fake_alma.call_log import CallRecord, mask_query
from adapters.fake_alma.faults import Decision
from adapters.fake_alma.web import FakeAlma, render_error, wants_xml

API_PREFIX = "/almaws/v1"
REMAINING_HEADER = "X-Exl-Api-Remaining"
_HTML_5XX = {
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ConnectionDropped(Exception):
    """Raised after a partial response to make the server abort the connection."""


def api_key(request: Request) -> str | None:
    """The key from ``Authorization: apikey KEY`` or the ``apikey`` query parameter."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "apikey" and value.strip():
        return value.strip()
    raw: bytes = request.scope.get("query_string", b"")
    for key, value in parse_qsl(raw.decode("latin-1")):
        if key.lower() == "apikey" and value:
            return value
    return None


class AlmaGatewayMiddleware:
    """Wraps the routes of the fake; paths outside ``/almaws/v1`` pass straight through."""

    def __init__(self, app: ASGIApp, fake: FakeAlma) -> None:
        self.app = app
        self.fake = fake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        state = self.fake.state
        faults = self.fake.faults
        started = state.clock.now()
        path = str(scope["path"])
        query = mask_query(scope.get("query_string", b"").decode("latin-1"))
        method = str(scope["method"])

        def log(institution: str | None, status: int, fault: str | None = None) -> None:
            state.call_log.append(
                CallRecord(started, institution, method, path, query, status, fault)
            )

        institution = state.institution_for_key(api_key(request))
        if institution is None:
            xml = faults.config.gateway_errors_as_xml or wants_xml(request)
            tracking_id = self.fake.tracking.next(started)
            await render_error(errors.unauthorized(), tracking_id, xml=xml)(scope, receive, send)
            log(None, 400)
            return

        decision = faults.admit(institution, path)
        remaining = str(decision.remaining)
        if decision.kind in ("daily", "per_second"):
            error = (
                errors.daily_threshold()
                if decision.kind == "daily"
                else errors.per_second_threshold()
            )
            await self._send(self._error(request, error), remaining, scope, receive, send)
            log(institution, 429, decision.kind)
            return

        await faults.delay(decision)
        if decision.kind == "error":
            await self._send(self._server_error(request, decision), remaining, scope, receive, send)
            log(institution, decision.status, "error")
            return
        if decision.kind == "drop":
            log(institution, 0, "drop")
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"bib_data":', "more_body": True})
            raise ConnectionDropped("injected connection drop")

        scope.setdefault("state", {})["institution"] = institution
        status_seen = 500

        async def send_with_header(message: Message) -> None:
            nonlocal status_seen
            if message["type"] == "http.response.start":
                status_seen = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REMAINING_HEADER.lower().encode(), remaining.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_header)
        finally:
            log(institution, status_seen, decision.kind)

    def _error(self, request: Request, error: errors.AlmaError) -> Response:
        tracking_id = self.fake.tracking.next(self.fake.state.clock.now())
        return render_error(error, tracking_id, xml=wants_xml(request))

    def _server_error(self, request: Request, decision: Decision) -> Response:
        if decision.status in _HTML_5XX:
            # Load balancers in front of Alma answer these with HTML, not Alma's envelope.
            reason = _HTML_5XX[decision.status]
            html = f"<html><head><title>{decision.status} {reason}</title></head><body>"
            html += f"<h1>{decision.status} {reason}</h1></body></html>"
            return Response(html, status_code=decision.status, media_type="text/html")
        error = errors.server_error()
        error.status = decision.status
        return self._error(request, error)

    @staticmethod
    async def _send(
        response: Response, remaining: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        response.headers[REMAINING_HEADER] = remaining
        await response(scope, receive, send)
