"""The durable inbox worker: claims verified webhooks, runs them, retries, finishes them (W3–W5).

One round (`run_once`) leases up to `batch` due messages to this worker's `owner` and processes
them concurrently (a slow items sync of one member does not hold up another member's webhook).
Per message:

1. classify it (W4, W5) with the consortium in force now, not the one of the last reload;
2. dispatch it to the handlers; a failed job (COMPLETED_FAILED), a skipped and a rejected body
   are recorded as skipped and never retried;
3. on return, mark it done and append one `webhook.process` event in the same unit of work; on
   an exception, mark it failed for a retry after exponential backoff with jitter, or dead with
   its last error once `max_attempts` claims have failed, again with one event.

While the handler runs, the lease is renewed every `renew_every` seconds (a third of the lease by
default), so no other worker reclaims a live message; a killed worker renews nothing and its
messages are claimed again once the lease expires. Finishing starts by renewing the lease inside
the finishing unit of work: if another worker took the message over meanwhile, the renewal fails,
nothing is marked, and the new owner's outcome is the one recorded (the work itself is safe to
redo: the ledger makes every use case idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import timedelta

from application.alma import AlmaError
from application.inbox_dispatch import dispatch, institution_of
from application.inbox_records import (
    INBOX_LEASES_LOST,
    INBOX_PROCESSED,
    WEBHOOK_PROCESS,
    WORKER_HEARTBEAT,
    Details,
    Handled,
    classification_details,
    declare_worker_metrics,
    error_text,
    kind_of,
    webhook_facts,
)
from application.ledger_records import InboxMessage, Outcome
from application.metrics import Metrics
from application.ports import Clock, Ledger, LedgerUnitOfWork
from application.webhook_handlers import RetryBackoff, WebhookHandlers, retry_delay
from domain.institutions import Consortium
from domain.webhooks import WebhookEvent, classify_webhook

__all__ = ["InboxWorker", "RetryBackoff"]

log = logging.getLogger(__name__)


class InboxWorker:
    """Drains the ledger's inbox through the webhook handlers."""

    def __init__(
        self,
        ledger: Ledger,
        handlers: WebhookHandlers,
        consortium: Callable[[], Consortium],
        clock: Clock,
        metrics: Metrics,
        *,
        owner: str,
        lease: timedelta,
        max_attempts: int = 8,
        backoff: RetryBackoff | None = None,
        batch: int = 5,
        renew_every: float | None = None,
        secrets: Callable[[], Iterable[str]] = tuple,
    ) -> None:
        if lease <= timedelta(0) or max_attempts < 1 or batch < 1:
            raise ValueError("lease, max_attempts and batch must be positive")
        self._ledger = ledger
        self._handlers = handlers
        self._consortium = consortium
        self._clock = clock
        self._metrics = metrics
        self.owner = owner
        self._lease = lease
        self._max_attempts = max_attempts
        self._backoff = backoff or RetryBackoff()
        self._batch = batch
        self._renew_every = renew_every or lease.total_seconds() / 3
        self._secrets = secrets
        declare_worker_metrics(metrics)

    # ---- loops -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and process every message of it; how many were claimed."""
        self._beat()
        messages = await self._ledger.claim_inbox(self.owner, self._lease, self._batch)
        results = await asyncio.gather(
            *(self._process(message) for message in messages), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:
            # Recording failed (the ledger is down?): the lease expires and the message returns.
            log.error(
                "inbox worker %s: a message was left unfinished", self.owner, exc_info=failure
            )
        if failures:
            raise failures[0]
        return len(messages)

    async def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Rounds until nothing is due (or max_rounds); how many messages were claimed."""
        total = 0
        for _ in range(max_rounds):
            claimed = await self.run_once()
            total += claimed
            if claimed == 0:
                break
        return total

    async def run_forever(
        self,
        stop: asyncio.Event,
        *,
        poll_interval: float = 1.0,
        restart_when: Callable[[], bool] | None = None,
    ) -> None:
        """Rounds until stop is set (or restart_when() says so, between rounds).

        An empty round waits on stop for poll_interval, so stopping is immediate; a round that
        failed (the database unreachable) waits the same, then tries again.
        """
        while not stop.is_set():
            if restart_when is not None and restart_when():
                return
            try:
                claimed = await self.run_once()
            except Exception:
                log.exception("inbox worker %s: round failed; trying again", self.owner)
                claimed = 0
            if claimed == 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_interval)

    # ---- one message -----------------------------------------------------------------------

    async def _process(self, message: InboxMessage) -> None:
        consortium = self._consortium()
        sender, facts = webhook_facts(message.body, consortium)
        event: WebhookEvent | None = None
        handled: Handled | None = None
        failure: Exception | None = None
        finished = asyncio.Event()
        keeper = asyncio.create_task(self._keep_lease(message, finished))
        try:
            event = classify_webhook(message.body, consortium)
            handled = await dispatch(self._handlers, self._metrics, event, message.id)
        except asyncio.CancelledError:
            finished.set()
            await asyncio.shield(self._release(message))
            raise
        except Exception as error:
            failure = error
        finally:
            finished.set()
            await keeper
        details: Details = {**facts, "attempt": message.attempts}
        if event is not None:
            details.update(classification_details(event))
        kind = "unclassified" if event is None else kind_of(event)
        institution = institution_of(event, sender)
        if handled is not None:
            details.update(handled.details)
            await self._finish(message, handled, institution, details, kind)
        else:
            assert failure is not None
            await self._fail(message, failure, institution, details, kind)

    # ---- finishing -------------------------------------------------------------------------

    async def _finish(
        self,
        message: InboxMessage,
        handled: Handled,
        institution: str | None,
        details: Details,
        kind: str,
    ) -> None:
        async with self._ledger.unit_of_work() as uow:
            if not await self._fence(uow, message):
                self._lost(message)
                return
            await uow.inbox.mark_done(message.id)
            await uow.events.append(
                WEBHOOK_PROCESS,
                handled.outcome,
                institution=handled.institution or institution,
                message=handled.message,
                inbox_id=message.id,
                details=details,
            )
            await uow.commit()
        self._metrics.inc(INBOX_PROCESSED, outcome=handled.outcome.value, kind=kind)

    async def _fail(
        self,
        message: InboxMessage,
        failure: Exception,
        institution: str | None,
        details: Details,
        kind: str,
    ) -> None:
        text = error_text(failure, self._secrets())
        dead = message.attempts >= self._max_attempts
        details["error_type"] = type(failure).__name__
        async with self._ledger.unit_of_work() as uow:
            if not await self._fence(uow, message):
                self._lost(message)
                return
            if dead:
                await uow.inbox.mark_dead(message.id, text)
                said = f"dead after {message.attempts} attempts: {text}"
            else:
                retry_at = self._clock.now() + retry_delay(failure, message.attempts, self._backoff)
                await uow.inbox.mark_failed(message.id, text, retry_at)
                details["retry_at"] = retry_at.isoformat()
                said = f"attempt {message.attempts} of {self._max_attempts} failed: {text}"
            details["dead"] = dead
            await uow.events.append(
                WEBHOOK_PROCESS,
                Outcome.FAILED,
                institution=institution,
                message=said,
                inbox_id=message.id,
                details=details,
                error_code=failure.error_code if isinstance(failure, AlmaError) else None,
            )
            await uow.commit()
        log.warning("inbox message %s: %s", message.id, said)
        self._metrics.inc(INBOX_PROCESSED, outcome="dead" if dead else "retry", kind=kind)

    async def _release(self, message: InboxMessage) -> None:
        """Cancelled mid-work (a hard shutdown): make the message due again at once."""
        try:
            async with self._ledger.unit_of_work() as uow:
                if await self._fence(uow, message):
                    stopped = "the worker was stopped while processing the message"
                    await uow.inbox.mark_failed(message.id, stopped, self._clock.now())
                    await uow.commit()
        except Exception:
            # The lease still expires, and the message is claimed again then.
            log.warning("inbox message %s: could not release its lease", message.id, exc_info=True)

    # ---- the lease -------------------------------------------------------------------------

    async def _keep_lease(self, message: InboxMessage, finished: asyncio.Event) -> None:
        """Renew the lease every renew_every seconds until the message is finished."""
        while not finished.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), self._renew_every)
            if finished.is_set():
                return
            try:
                async with self._ledger.unit_of_work() as uow:
                    kept = await self._fence(uow, message)
                    await uow.commit()
            except Exception:
                # A database hiccup: the lease has two more renewals before it runs out.
                log.warning("inbox message %s: lease renewal failed", message.id, exc_info=True)
                continue
            self._beat()  # a long job is a live worker, whatever /health reads
            if not kept:
                self._lost(message)
                return

    async def _fence(self, uow: LedgerUnitOfWork, message: InboxMessage) -> bool:
        """Renew the lease of this very claim; False once another claim has taken it."""
        until = self._clock.now() + self._lease
        return await uow.inbox.extend_lease(message.id, self.owner, until, attempt=message.attempts)

    def _lost(self, message: InboxMessage) -> None:
        log.warning(
            "inbox message %s: the lease of %s was taken over; its new owner finishes it",
            message.id,
            self.owner,
        )
        self._metrics.inc(INBOX_LEASES_LOST)

    def _beat(self) -> None:
        self._metrics.set(WORKER_HEARTBEAT, self._clock.now().timestamp())
