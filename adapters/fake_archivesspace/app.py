"""The Starlette app of the fake ArchivesSpace backend: every call goes to
`FakeArchivesSpace.serve`; a small control API under ``/_fake_archivesspace`` reads the call log.

A reset is a response that starts (status and headers, part of the body) and then raises:
under uvicorn the connection is dropped and the client sees an incomplete answer; through
``httpx.ASGITransport`` the raised `InjectedReset` (a `ConnectionResetError`) reaches the client.

The control API has no authentication: serve the fake on a loopback or private address.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from adapters.fake_archivesspace.core import FakeArchivesSpace, InjectedReset
from adapters.fake_archivesspace.faults import FaultInjector
from adapters.fake_archivesspace.state import FakeArchivesSpaceState

__all__ = ["SESSION_HEADER", "create_fake_archivesspace_app"]

SESSION_HEADER = "X-ArchivesSpace-Session"
_METHODS = ["GET", "POST", "PUT", "DELETE"]


class _ResetResponse(Response):
    """Starts an answer, then drops the connection."""

    def __init__(self, reason: str) -> None:
        super().__init__(status_code=200, media_type="application/json")
        self.reason = reason

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"response":', "more_body": True})
        raise InjectedReset(self.reason)


def _fake(request: Request) -> FakeArchivesSpace:
    found: FakeArchivesSpace = request.app.state.fake_archivesspace
    return found


async def _form(request: Request) -> dict[str, str]:
    """A url-encoded body's fields (the login's password); read by hand, so the fake needs no
    multipart parser."""
    if request.method != "POST":
        return {}
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    body = await request.body()
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))


async def _api(request: Request) -> Response:
    fake = _fake(request)
    try:
        reply = await fake.serve(
            request.method,
            request.url.path,
            query=dict(request.query_params),
            form=await _form(request),
            token=request.headers.get(SESSION_HEADER),
        )
    except InjectedReset as reset:
        return _ResetResponse(str(reset))
    return Response(reply.body, status_code=reply.status, media_type=reply.media_type)


async def _calls(request: Request) -> Response:
    """``GET /_fake_archivesspace/calls``: the call log (never a password or a token) and the
    most calls that were ever in flight at once."""
    state = _fake(request).state
    calls = [dataclasses.asdict(record) for record in state.call_log]
    return JSONResponse({"calls": calls, "total": len(calls), "max_in_flight": state.max_in_flight})


def create_fake_archivesspace_app(
    state: FakeArchivesSpaceState,
    faults: FaultInjector | None = None,
    *,
    control_api: bool = True,
) -> Starlette:
    """The fake backend over ``state`` (faults none unless given)."""
    fake = FakeArchivesSpace(state, faults or FaultInjector())
    routes = [Route("/_fake_archivesspace/calls", _calls, methods=["GET"])] if control_api else []
    routes.append(Route("/{path:path}", _api, methods=_METHODS))
    app = Starlette(routes=routes)
    app.state.fake_archivesspace = fake
    return app
