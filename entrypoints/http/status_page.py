"""The staff status page at ``/status``: server-rendered HTML over `StaffStatus` (issue 7) and
the last run of each batch workflow (`workflow_runs`, rule B1).

Who may look: whoever presents the admin token (``ALMABRIDGE_ADMIN_TOKEN``), either as the API's
``Authorization: Bearer`` header or by typing it once into the login form. The form's success
sets a session cookie that is an expiring HMAC signature keyed from the token, never the token
itself: HttpOnly, SameSite=Strict, Path=/status, Secure over https. Changing the token ends every
session. With no token configured the page is closed (403), like every admin route.

Every POST but the login carries a CSRF token derived by HMAC from the session; without the right
one the answer is 403 before anything happens. (SameSite=Strict already keeps the cookie off
cross-site requests; the CSRF token is the second lock.) The login itself needs none: forging it
would take the admin token, and whoever has that needs no forgery.

The page runs no inline script: its chart is drawn by ``status.js`` from a JSON block, with the
chart library served from the package (vendored from npm, see scripts/vendor_chart.sh), under a
Content-Security-Policy of ``default-src 'self'``. The workflow runs table has its numbers in a
JSON block of its own (``workflow-runs-data``) for scripts that read the page, as do each
member's last 7 days by webhook and by file (``arrivals-data``, issue 19).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from application.ports.clock import Clock
from application.scf.staff_status import (
    ARRIVAL_DAYS,
    FAILURE_DAYS,
    ReplayResult,
    StaffStatus,
    StatusSnapshot,
)
from application.shared.run_status import WorkflowRunsView, workflow_runs
from entrypoints.http.auth import ADMIN_TOKEN_ENV, AdminToken
from entrypoints.http.state import service_of

log = logging.getLogger("almabridge.http.status")

ASSETS = Path(__file__).resolve().parent / "status_assets"
SESSION_COOKIE = "almabridge_status_session"
SESSION_SECONDS = 12 * 3600
"""A login lasts a working day; after that the form asks again."""
FORM_LIMIT = 4096
"""Largest form body accepted: a token and a CSRF field fit many times over."""

STATIC_FILES = {
    "status.css": ("static/status.css", "text/css; charset=utf-8"),
    "status.js": ("static/status.js", "text/javascript; charset=utf-8"),
    "chart.umd.js": ("static/vendor/chart.umd.js", "text/javascript; charset=utf-8"),
    # Served so that browsers asking for /favicon.ico by default get an icon and no 404.
    "favicon.svg": ("static/favicon.svg", "image/svg+xml"),
}
"""The only files `/status/static/{name}` serves (no path is ever built from the request)."""

FLASH = re.compile(r"(queued|refused|missing)-([0-9]{1,19})")
"""The `flash` query parameter a replay redirects with: what happened to which message."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # The page shows who failed and why: no shared cache, and not kept in the browser's either.
    "Cache-Control": "no-store",
}

_SESSION_PREFIX = "v1"
_BEARER_IDENTITY = "bearer"
"""The CSRF identity of a request admitted by its Authorization header (no cookie session)."""


class StaffSession:
    """Signs the page's session cookies and CSRF tokens with a key derived from the admin token."""

    __slots__ = ("_key", "_token")

    def __init__(self, token: str | None) -> None:
        cleaned = (token or "").strip()
        self._token = cleaned.encode("utf-8") if cleaned else None
        # A key of its own, so that no value this class hands out is a MAC keyed by the token.
        self._key = (
            hmac.new(self._token, b"almabridge status page sessions", hashlib.sha256).digest()
            if self._token
            else b""
        )

    @property
    def configured(self) -> bool:
        """Whether the page can be used at all."""
        return self._token is not None

    def token_matches(self, presented: str) -> bool:
        """Whether the login form was given the admin token (compared in constant time)."""
        if self._token is None:
            return False
        given = presented.strip().encode("utf-8", "surrogateescape")
        return hmac.compare_digest(given, self._token)

    def new_cookie(self, now: datetime) -> str:
        """A session value good for `SESSION_SECONDS` from now."""
        payload = f"{_SESSION_PREFIX}.{int(now.timestamp()) + SESSION_SECONDS}"
        return f"{payload}.{self._sign('session', payload)}"

    def cookie_valid(self, value: str | None, now: datetime) -> bool:
        """Whether a cookie was made by `new_cookie` with this token and has not expired."""
        if self._token is None or not value:
            return False
        prefix, _, rest = value.partition(".")
        expires, _, signature = rest.partition(".")
        if prefix != _SESSION_PREFIX or not expires.isdigit() or len(expires) > 12:
            return False
        expected = self._sign("session", f"{prefix}.{expires}")
        if not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode()):
            return False
        return now.timestamp() < int(expires)

    def csrf_for(self, identity: str) -> str:
        """The CSRF token of a session (its cookie value, or the Bearer identity)."""
        return self._sign("csrf", identity)

    def csrf_valid(self, identity: str, presented: str | None) -> bool:
        """Whether a form carried the CSRF token of this session."""
        if not presented:
            return False
        given = presented.encode("ascii", "replace")
        return hmac.compare_digest(given, self.csrf_for(identity).encode())

    def _sign(self, purpose: str, payload: str) -> str:
        message = f"{purpose}|{payload}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"StaffSession(configured={self.configured})"


@dataclass(frozen=True)
class _Visitor:
    """Who is asking: the CSRF identity, and whether it came with a cookie (to offer logout)."""

    identity: str
    by_cookie: bool


def _templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ASSETS / "templates"),
        autoescape=True,  # every value from the ledger is text, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["utc"] = _utc
    environment.filters["iso"] = _iso
    return Jinja2Templates(env=environment)


def _utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M UTC")


def _iso(moment: datetime | date | None) -> str:
    return "" if moment is None else moment.isoformat()


class StatusPage:
    """The page's routes over one admin token."""

    def __init__(self, admin: AdminToken, token: str | None) -> None:
        self._admin = admin
        self._session = StaffSession(token)
        self._templates = _templates()
        self._static: dict[str, tuple[bytes, str, str]] = {}

    def routes(self) -> list[Route]:
        """The page's routes, for the application's route list."""
        return [
            Route("/status", self.status, methods=["GET"]),
            Route("/status/login", self.login, methods=["GET", "POST"], max_body_size=FORM_LIMIT),
            Route("/status/logout", self.logout, methods=["POST"], max_body_size=FORM_LIMIT),
            Route(
                "/status/replay/{message_id}",
                self.replay,
                methods=["POST"],
                max_body_size=FORM_LIMIT,
            ),
            Route("/status/static/{name}", self.static, methods=["GET"]),
        ]

    # ---- routes ----------------------------------------------------------------------------

    async def status(self, request: Request) -> Response:
        """The page itself; the login form (401) to a visitor without the token."""
        if not self._session.configured:
            return self._closed(request)
        visitor = self._visitor(request)
        if visitor is None:
            return self._login_form(request, error=None, status_code=401)
        flashes = request.query_params.getlist("flash")
        flash = FLASH.fullmatch(flashes[0]) if len(flashes) == 1 else None
        if flashes and flash is None:
            return self._message(
                request,
                400,
                "Unknown message",
                "The page was asked to show a notice it does not know.",
            )
        service = service_of(request)
        try:
            status = StaffStatus(service.ledger, service.settings.current, service.clock)
            snapshot = await status.snapshot()
            runs = await workflow_runs(service.ledger, service.workflow_names, service.next_due)
        except Exception as error:  # the staff see a page that says so, not a stack trace
            log.warning("status page: the ledger did not answer: %s", type(error).__name__)
            return self._message(
                request,
                503,
                "The ledger is not answering",
                "almabridge could not read its ledger database. Try again in a minute; if this "
                "persists, /health says more.",
            )
        return self._render(
            request,
            "status.html",
            {
                "s": snapshot,
                "chart": _chart(snapshot),
                "runs": runs,
                "runs_data": _runs_data(runs),
                "csrf": self._session.csrf_for(visitor.identity),
                "by_cookie": visitor.by_cookie,
                "flash": _flash_text(flash),
                "failure_days": FAILURE_DAYS,
                "arrival_days": ARRIVAL_DAYS,
                "arrivals": _arrivals_data(snapshot),
            },
        )

    async def login(self, request: Request) -> Response:
        """GET: the form. POST: check the token, set the session cookie, go to the page."""
        if not self._session.configured:
            return self._closed(request)
        if request.method == "GET":
            return self._login_form(request, error=None, status_code=200)
        form = await _form(request)
        if not self._session.token_matches(form.get("token", "")):
            log.info("status page: a login with a wrong token was refused")
            return self._login_form(
                request, error="That is not the admin token. Try again.", status_code=401
            )
        clock: Clock = service_of(request).clock
        response = RedirectResponse(self._base(request), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            self._session.new_cookie(clock.now()),
            max_age=SESSION_SECONDS,
            path=self._base(request),
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(self, request: Request) -> Response:
        """End the cookie session (the form's CSRF token required)."""
        refused = await self._post_refusal(request)
        if refused is not None:
            return refused
        response = RedirectResponse(f"{self._base(request)}/login", status_code=303)
        response.delete_cookie(
            SESSION_COOKIE,
            path=self._base(request),
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def replay(self, request: Request) -> Response:
        """Requeue one dead message (as `almabridge replay message`), then back to the page."""
        refused = await self._post_refusal(request)
        if refused is not None:
            return refused
        raw = request.path_params["message_id"]
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
            return self._message(request, 404, "No such message", "Message ids are numbers.")
        message_id = int(raw)
        service = service_of(request)
        status = StaffStatus(service.ledger, service.settings.current, service.clock)
        result = await status.replay(message_id)
        log.info("status page: replay of inbox message %s: %s", message_id, result.value)
        return RedirectResponse(
            f"{self._base(request)}?flash={result.value}-{message_id}#dead", status_code=303
        )

    async def static(self, request: Request) -> Response:
        """The page's stylesheet and scripts (public: nothing in them is secret)."""
        name = request.path_params["name"]
        if name not in STATIC_FILES:
            return Response("not found", status_code=404, media_type="text/plain")
        content, media_type, etag = self._asset(name)
        headers = {"ETag": etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        if etag in _etags(request.headers.get("if-none-match")):
            return Response(status_code=304, headers=headers)
        return Response(content, media_type=media_type, headers=headers)

    # ---- helpers ---------------------------------------------------------------------------

    def _visitor(self, request: Request) -> _Visitor | None:
        if self._admin.admits(request.headers.get("authorization")):
            return _Visitor(_BEARER_IDENTITY, by_cookie=False)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie and self._session.cookie_valid(cookie, service_of(request).clock.now()):
            return _Visitor(cookie, by_cookie=True)
        return None

    async def _post_refusal(self, request: Request) -> Response | None:
        """403 closed or bad CSRF, 401 not signed in; None when the POST may proceed."""
        if not self._session.configured:
            return self._closed(request)
        visitor = self._visitor(request)
        if visitor is None:
            return self._login_form(request, error=None, status_code=401)
        form = await _form(request)
        if not self._session.csrf_valid(visitor.identity, form.get("csrf")):
            log.warning(
                "status page: a %s without a valid CSRF token was refused", request.url.path
            )
            return self._message(
                request,
                403,
                "Form expired",
                "This form did not carry the page's security token. Reload the status page and "
                "try again.",
            )
        return None

    def _login_form(self, request: Request, *, error: str | None, status_code: int) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="almabridge"'} if status_code == 401 else {}
        return self._render(
            request, "login.html", {"error": error}, status_code=status_code, headers=headers
        )

    def _closed(self, request: Request) -> Response:
        return self._message(
            request,
            403,
            "The status page is switched off",
            f"No admin token is configured. Set {ADMIN_TOKEN_ENV} in the service's environment "
            "and restart it; the page then asks for that token.",
        )

    def _message(self, request: Request, status_code: int, title: str, text: str) -> Response:
        return self._render(
            request, "message.html", {"title": title, "text": text}, status_code=status_code
        )

    def _render(
        self,
        request: Request,
        template: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return self._templates.TemplateResponse(
            request,
            template,
            {**context, "base": self._base(request)},
            status_code=status_code,
            headers={**SECURITY_HEADERS, **(headers or {})},
        )

    @staticmethod
    def _base(request: Request) -> str:
        # Behind a proxy that mounts the service under a prefix, links must keep the prefix.
        root: str = request.scope.get("root_path", "")
        return f"{root.rstrip('/')}/status"

    def _asset(self, name: str) -> tuple[bytes, str, str]:
        if name not in self._static:
            relative, media_type = STATIC_FILES[name]
            content = (ASSETS / relative).read_bytes()
            etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
            self._static[name] = (content, media_type, etag)
        return self._static[name]


async def _form(request: Request) -> dict[str, str]:
    """The first value of each field of a urlencoded form; empty for any other body."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != (
        "application/x-www-form-urlencoded"
    ):
        return {}
    body = (await request.body()).decode("utf-8", "replace")
    try:
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=20)
    except ValueError:  # more fields than any of the page's forms has: not one of them
        return {}
    return {name: values[0] for name, values in fields.items()}


def _etags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {tag.strip().removeprefix("W/") for tag in header.split(",")}


def _flash_text(flash: re.Match[str] | None) -> str | None:
    if flash is None:
        return None
    outcome, message_id = ReplayResult(flash.group(1)), int(flash.group(2))
    if outcome is ReplayResult.QUEUED:
        return f"Message {message_id} queued for replay: the worker takes it at its next claim."
    if outcome is ReplayResult.REFUSED:
        return f"Message {message_id} was not replayed: it is done or being processed."
    return f"There is no inbox message {message_id}."


def _chart(snapshot: StatusSnapshot) -> dict[str, list[Any]]:
    """The chart's series for status.js (the table on the page has the same numbers)."""
    return {
        "days": [day.day.isoformat() for day in snapshot.series],
        "items": [day.items_mirrored for day in snapshot.series],
        "requests": [day.requests_forwarded for day in snapshot.series],
    }


def _arrivals_data(snapshot: StatusSnapshot) -> dict[str, Any]:
    """Each member's last days of work by webhook and by file, as JSON (the page's numbers),
    issue 19 (rules W6, W7)."""
    return {
        "since": snapshot.arrivals_since.isoformat(),
        "days": ARRIVAL_DAYS,
        "institutions": {
            inst.code: {
                "requests": {
                    "webhook": inst.arrivals.requests_by_webhook,
                    "file": inst.arrivals.requests_by_file,
                },
                "items": {
                    "webhook": inst.arrivals.items_by_webhook,
                    "file": inst.arrivals.items_by_file,
                },
            }
            for inst in snapshot.institutions
        },
    }


def _runs_data(view: WorkflowRunsView) -> list[dict[str, Any]]:
    """The workflow runs table as JSON (the same rows and numbers), rule B1."""
    rows: list[dict[str, Any]] = []
    for row in view.workflows:
        run = row.last_run
        rows.append(
            {
                "workflow": row.workflow,
                "run_id": None if run is None else run.id,
                "status": None if run is None else run.status.value,
                "trigger": None if run is None else run.trigger.value,
                "started": None if run is None else run.started.isoformat(),
                "ended": None if run is None or run.ended is None else run.ended.isoformat(),
                "counts": {
                    "ok": row.counts.ok,
                    "skipped": row.counts.skipped,
                    "failed": row.counts.failed,
                },
                "failures": [
                    {"kind": failure.kind, "key": failure.key, "reason": failure.reason}
                    for failure in row.failures
                ],
                "next_due": None if row.next_due is None else row.next_due.isoformat(),
            }
        )
    return rows
