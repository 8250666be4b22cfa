"""The one HTTP client of the process: pooled connections, the only retry layer, throttles.

Rules: A1 key in the Authorization header; A2 typed errors; A3 retry 5xx, timeouts and
connection errors with exponential backoff and jitter inside a budget, pause on a per-second 429,
never retry a daily-quota 429; A4 one throttle per institution; A5 every path segment encoded.

Writes that are not safe to repeat (`repeat_safe=False`: creating a holding or a bib, which Alma
does not refuse a second time, rules I7 and I8) are retried only while Alma cannot have applied
them. Per failure of such a write:

* connection never made (`ConnectError`, `ConnectTimeout`, `PoolTimeout`): nothing was sent,
  retried as any call;
* sent, then no complete answer (`ReadError`, `ReadTimeout`, `WriteError`, `WriteTimeout`,
  `RemoteProtocolError`, any other transport error): `AlmaOutcomeUnknown`, not retried;
* 502 or 504: a proxy in front of Alma lost or gave up waiting for the answer while Alma may
  have gone on to create the record: `AlmaOutcomeUnknown`, not retried;
* 500 (Alma's own error envelope: Alma answered that it failed, the create rolled back) and 503
  (refused before Alma took the call on): not applied, retried as any call;
* 429 per-second: refused by the API gateway before Alma took the call on, retried after a pause.

A per-second 429 is not a failure of the call but Alma's window being full (A3, A4): the call is
sent again once the window moves on without counting against `attempts`, which bound the real
failures (5xx, timeouts, resets), only against the budget. Otherwise a burst of refusals from a
busy window would spend a call's attempts before one 5xx more ended it.

The caller (`ScfCatalog`) looks for the record after an `AlmaOutcomeUnknown` and creates again
only when it is absent; that look-then-create is the only repetition of such a write, so there is
still one retry layer per call (A3). Every other call keeps the rules above unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import stamina

from adapters.alma_http.error_envelope import error_class_for, parse_envelope
from adapters.alma_http.throttle import InstitutionThrottle, LocalStartSchedules, StartSchedules
from application.shared.alma import (
    AlmaFailure,
    AlmaOutcomeUnknown,
    AlmaUnavailable,
    RateLimited,
    TransientAlmaError,
)
from application.shared.connections import Secret

log = logging.getLogger(__name__)

API_ROOT = "/almaws/v1/"
MAX_REDIRECTS = 5
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before any byte of the request left: Alma cannot have seen it."""
SENDING_HEADERS = "send_request_headers.started"
"""httpcore's trace event (prefixed `http11.` or `http2.`) just before a request's headers are
written to its connection: where the throttle admits a call (`AlmaHttpClient._admitted`)."""
ANSWER_LOST = frozenset({502, 504})
"""Gateway statuses that may stand in front of a write Alma carried out (see the module text)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long one Alma call may keep trying before its error reaches the caller."""

    attempts: int = 8
    budget_seconds: float = 120.0
    wait_initial: float = 0.2
    wait_max: float = 10.0
    wait_jitter: float = 0.5
    rate_limit_pause: float = 1.0
    """The longest pause after a per-second 429; the pause itself lasts until Alma's window moves
    on (`throttle.pause_until`), usually much less."""


def alma_path(segments: Sequence[str]) -> str:
    """`/almaws/v1/a/b` with every segment percent-encoded, `/` included (rule A5)."""
    return API_ROOT + "/".join(quote(str(segment), safe="") for segment in segments)


class AlmaHttpClient:
    """Sends Alma calls for every institution through one `httpx.AsyncClient`."""

    def __init__(
        self,
        gateway_url: str,
        *,
        rate_per_second: int = 25,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        schedules: StartSchedules | None = None,
    ) -> None:
        """`schedules` books each institution's call starts: by default in memory, for this
        process only; the service passes the ledger's shared ones when several processes may
        call Alma (A4, ADR 0004). The client closes them with itself."""
        self._http = httpx.AsyncClient(
            base_url=gateway_url.rstrip("/"),
            transport=transport,
            # Redirects are followed by `call`, so that each hop passes the throttle: Alma counts
            # the 302 of item-by-barcode and the item fetch as two calls.
            follow_redirects=False,
            timeout=timeout or httpx.Timeout(30.0, connect=10.0),
            headers={"Accept": "application/json"},
        )
        self._rate = rate_per_second
        self._admit_on_the_wire = transport is None or isinstance(
            transport, httpx.AsyncHTTPTransport
        )
        self._retry = retry or RetryPolicy()
        self._schedules = schedules or LocalStartSchedules()
        self._throttles: dict[str, InstitutionThrottle] = {}
        self.retries = 0

    def throttle(self, institution: str) -> InstitutionThrottle:
        """The throttle of an institution, created on first use."""
        key = institution.casefold()
        if key not in self._throttles:
            schedule = self._schedules.for_institution(key, self._rate)
            self._throttles[key] = InstitutionThrottle(self._rate, schedule=schedule)
        return self._throttles[key]

    async def aclose(self) -> None:
        """Close pooled connections, the schedules' included."""
        try:
            await self._http.aclose()
        finally:
            await self._schedules.aclose()

    async def call(
        self,
        institution: str,
        api_key: Secret,
        method: str,
        path: Sequence[str],
        *,
        operation: str,
        params: Mapping[str, str | int | bool] | None = None,
        json_body: Any = None,
        xml_body: str | None = None,
        subject: Mapping[str, str] | None = None,
        repeat_safe: bool = True,
    ) -> httpx.Response:
        """One logical Alma call, retried as rule A3 says; returns a 2xx response or raises.

        `repeat_safe=False` marks a write Alma would carry out twice if sent twice: once it may
        have reached Alma, its failure is `AlmaOutcomeUnknown`, never retried here.
        """
        throttle = self.throttle(institution)
        headers = {"Authorization": f"apikey {api_key.reveal()}"}
        content: bytes | None = None
        if xml_body is not None:
            headers["Content-Type"] = "application/xml"
            content = xml_body.encode("utf-8")
        query = {k: _query_value(v) for k, v in (params or {}).items()}
        url = alma_path(path)
        about = dict(subject or {})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._retry.budget_seconds

        async for attempt in stamina.retry_context(
            on=_is_transient,
            attempts=self._retry.attempts,
            timeout=self._retry.budget_seconds,
            wait_initial=self._retry.wait_initial,
            wait_max=self._retry.wait_max,
            wait_jitter=self._retry.wait_jitter,
        ):
            with attempt:
                if attempt.num > 1:
                    self.retries += 1
                while True:
                    request = self._http.build_request(
                        method,
                        url,
                        params=query,
                        json=json_body if xml_body is None else None,
                        content=content,
                        headers=headers,
                    )
                    response = await self._send(
                        request, throttle, institution, operation, about, repeat_safe=repeat_safe
                    )
                    if response.is_success:
                        return response
                    error = _error_from(
                        response, institution, operation, about, repeat_safe=repeat_safe
                    )
                    if not isinstance(error, RateLimited):
                        raise error
                    await throttle.pause(self._retry.rate_limit_pause)
                    if loop.time() >= deadline:
                        raise error
                    # Refused before Alma took the call on: sent again after the pause without
                    # spending one of the attempts, which are for failures (module text).
                    self.retries += 1
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    async def _send(
        self,
        request: httpx.Request,
        throttle: InstitutionThrottle,
        institution: str,
        operation: str,
        subject: Mapping[str, str],
        *,
        repeat_safe: bool,
    ) -> httpx.Response:
        """Send one request and follow Alma's redirects, each hop admitted by the throttle."""
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                response = await self._admitted(request, throttle)
            except httpx.TransportError as exc:
                if not repeat_safe and not isinstance(exc, NOT_SENT):
                    # The request may have reached Alma: what it did is unknown (module text).
                    raise AlmaOutcomeUnknown(
                        institution,
                        operation,
                        error_message=f"{type(exc).__name__}: {exc}",
                        subject=dict(subject),
                        method=request.method,
                        path=request.url.path,
                    ) from None
                # httpx's message names the URL only; the key travels in a header.
                raise AlmaUnavailable(
                    institution,
                    operation,
                    error_message=f"{type(exc).__name__}: {exc}",
                    subject=dict(subject),
                ) from None
            throttle.record_remaining(response.headers.get("X-Exl-Api-Remaining"))
            log.debug(
                "alma %s %s %s -> %s",
                institution,
                request.method,
                request.url.path,
                response.status_code,
            )
            if not response.has_redirect_location:
                return response
            await response.aclose()
            location = request.url.join(response.headers["Location"])
            headers = dict(request.headers)
            if location.host != request.url.host:
                # The key is only ever sent to the configured gateway host.
                headers.pop("authorization", None)
            request = self._http.build_request("GET", location, headers=headers)
        raise AlmaUnavailable(
            institution, operation, error_message="too many redirects", subject=dict(subject)
        )

    async def _admitted(
        self, request: httpx.Request, throttle: InstitutionThrottle
    ) -> httpx.Response:
        """Send one request once the throttle admits it, as late as possible (A4).

        On the network transport the admission waits inside httpcore's `trace` hook, when a
        connection is ready and the request's headers are about to be written: time spent
        opening a connection, or waiting for one, would otherwise pass between the booked
        start and the call reaching Alma, and squeeze it against the starts booked after it
        (measured in the A4 e2e test: 26 calls in one of Alma's seconds about every other run
        with the admission before `send`). Other transports (the tests' ASGI one) have no such
        hook: they are admitted before sending.
        """
        if not self._admit_on_the_wire:
            await throttle.admit()
            return await self._http.send(request)
        admitted = False

        async def trace(event: str, info: Mapping[str, Any]) -> None:
            nonlocal admitted
            if event.endswith(SENDING_HEADERS) and not admitted:
                admitted = True
                await throttle.admit()

        request.extensions["trace"] = trace
        return await self._http.send(request)


def _is_transient(exc: Exception) -> bool | float:
    """Stamina's backoff hook: retry transient failures; a per-second 429 at once (0 s of
    backoff), because the throttle already holds the call until Alma's window moves on."""
    if isinstance(exc, RateLimited):
        return 0.0
    # An unknown outcome is transient to the caller, who looks before repeating (module text),
    # but this layer must not repeat it blindly.
    return isinstance(exc, TransientAlmaError) and not isinstance(exc, AlmaOutcomeUnknown)


def _query_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _error_from(
    response: httpx.Response,
    institution: str,
    operation: str,
    subject: Mapping[str, str],
    *,
    repeat_safe: bool,
) -> AlmaFailure:
    envelope = parse_envelope(response.content, response.headers.get("content-type"))
    facts: dict[str, Any] = {
        "http_status": response.status_code,
        "error_code": envelope.error_code,
        "error_message": envelope.error_message,
        "tracking_id": envelope.tracking_id,
        "subject": dict(subject),
    }
    if not repeat_safe and response.status_code in ANSWER_LOST:
        return AlmaOutcomeUnknown(
            institution,
            operation,
            method=response.request.method,
            path=response.request.url.path,
            **facts,
        )
    error_class: type[AlmaFailure]
    if response.status_code >= 500:
        error_class = AlmaUnavailable
    else:
        error_class = error_class_for(response.status_code, envelope, operation)
    return error_class(institution, operation, **facts)
