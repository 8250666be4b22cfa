"""Alma's webhook routes: the challenge, and the durable receiver (rules W1, W2, W3).

The receiver does as little as it can before answering, because Alma gives up after 5 s: read the
raw body (capped at the route), check its signature over those exact bytes, store it in the inbox
with its event in one transaction, answer ``Got message``. The worker does the rest. A duplicate
delivery is answered the same way and stored once; a database that cannot store it gets 503 and
``Retry-After``, so Alma delivers it again instead of the bridge losing it.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from domain.scf.signature import SIGNATURE_HEADER, verify
from domain.scf.webhooks import challenge_answer, dedupe_key, inbox_body
from entrypoints.http.state import HttpService, service_of

log = logging.getLogger("almabridge.http.webhooks")

ACKNOWLEDGEMENT = "Got message"
RETRY_AFTER_SECONDS = 30

RECEIVED = "almabridge_webhooks_received_total"
DUPLICATES = "almabridge_webhooks_duplicate_total"
REJECTED = "almabridge_webhooks_rejected_total"


def declare_webhook_metrics(service: HttpService) -> None:
    """Name the webhook counters so that /metrics shows them before the first webhook."""
    metrics = service.metrics
    metrics.declare(RECEIVED, "counter", "Verified webhooks stored in the inbox (first delivery).")
    metrics.declare(DUPLICATES, "counter", "Verified webhooks already in the inbox (redelivery).")
    metrics.declare(REJECTED, "counter", "Webhooks refused, by reason.")
    for reason in ("signature", "too_large", "unavailable"):
        metrics.inc(REJECTED, 0, reason=reason)
    metrics.inc(RECEIVED, 0)
    metrics.inc(DUPLICATES, 0)


async def webhook(request: Request) -> Response:
    """``/webhook``: GET is Alma's challenge, POST a webhook (one route, so 405 lists both)."""
    if request.method == "POST":
        return await receive(request)
    return await challenge(request)


async def challenge(request: Request) -> Response:
    """W1: echo Alma's activation challenge; ``{}`` without one, as the Java app answered."""
    value = request.query_params.get("challenge")
    return JSONResponse({} if value is None else challenge_answer(value))


async def receive(request: Request) -> Response:
    """W2, W3: verify, store once, acknowledge."""
    service = service_of(request)
    metrics = service.metrics
    try:
        body = await request.body()
    except HTTPException as too_large:  # raised by the route's body limit
        if too_large.status_code == 413:
            metrics.inc(REJECTED, reason="too_large")
        raise
    settings = service.settings.current
    if settings.verifies_webhooks:
        secret = settings.webhook_secret
        signed = secret is not None and verify(
            secret.reveal(), body, request.headers.get(SIGNATURE_HEADER)
        )
    else:
        # Only reachable when the configuration says allow_unsigned_webhooks (the service refuses
        # to start otherwise); a reload that dropped both still fails closed here.
        signed = settings.allow_unsigned_webhooks
    if not signed:
        metrics.inc(REJECTED, reason="signature")
        log.warning("webhook refused: missing or wrong %s (%d bytes)", SIGNATURE_HEADER, len(body))
        return PlainTextResponse("Invalid signature", status_code=401)
    if not body:
        # Signed, but nothing to do: not worth a row the worker would only skip.
        return PlainTextResponse("Empty body", status_code=400)
    key = dedupe_key(body)
    try:
        # The key is the raw body's (W3); the stored body keeps no patron data (P2).
        is_new = await service.inbox.store(key, inbox_body(body))
    except (SQLAlchemyError, OSError) as error:
        metrics.inc(REJECTED, reason="unavailable")
        log.error("webhook not stored, asking Alma to retry: %s", type(error).__name__)
        return PlainTextResponse(
            "Ledger unavailable, retry later",
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    metrics.inc(RECEIVED if is_new else DUPLICATES)
    # The key, never the body: bodies carry patron ids (the Java app logged them whole).
    log.debug("webhook %s stored (%s)", key, "new" if is_new else "duplicate")
    return PlainTextResponse(ACKNOWLEDGEMENT)
