"""Who may use the admin and audit routes: a Bearer token from ``ALMABRIDGE_ADMIN_TOKEN``.

The Java app left `/configuration` and `/logger` open to anyone who could reach the port. Here a
service without a token configured answers 403 on every admin route: closed, never open.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

ADMIN_TOKEN_ENV = "ALMABRIDGE_ADMIN_TOKEN"  # noqa: S105 (the variable's name, not a token)

Endpoint = Callable[[Request], Awaitable[Response]]


class AdminToken:
    """The configured token, compared in constant time; its value never leaves this object."""

    __slots__ = ("_token",)

    def __init__(self, token: str | None) -> None:
        cleaned = (token or "").strip()
        self._token = cleaned.encode("utf-8") if cleaned else None

    @property
    def configured(self) -> bool:
        """Whether admin routes can be used at all."""
        return self._token is not None

    def admits(self, authorization: str | None) -> bool:
        """Whether an ``Authorization`` header carries the token (``Bearer <token>``)."""
        if self._token is None or not authorization:
            return False
        scheme, _, presented = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        # Header values arrive as latin-1 text; surrogateescape keeps odd bytes comparable.
        given = presented.strip().encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self._token)

    def __repr__(self) -> str:
        return f"AdminToken(configured={self.configured})"


def refusal(token: AdminToken, request: Request) -> Response | None:
    """The 403 or 401 answer for a request the token does not admit, else None."""
    if not token.configured:
        return JSONResponse(
            {"error": f"the admin API is disabled: set {ADMIN_TOKEN_ENV} to enable it"},
            status_code=403,
        )
    if not token.admits(request.headers.get("authorization")):
        return JSONResponse(
            {"error": "missing or wrong admin token (Authorization: Bearer <token>)"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="almabridge"'},
        )
    return None


def admin_only(token: AdminToken, endpoint: Endpoint) -> Endpoint:
    """The endpoint behind the admin token."""

    async def guarded(request: Request) -> Response:
        refused = refusal(token, request)
        if refused is not None:
            return refused
        return await endpoint(request)

    guarded.__name__ = getattr(endpoint, "__name__", "guarded")
    guarded.__doc__ = endpoint.__doc__
    return guarded
