"""The durable inbox worker: claims webhooks, runs them, retries, finishes them (W3–W5, W8).

Per message:

1. classify it (W4, W5) with the consortium in force now, not the one of the last reload;
2. dispatch it to the handlers; a failed job (COMPLETED_FAILED), a skipped and a rejected body
   are recorded as skipped and never retried;
3. on return, mark it done and append one `webhook.process` event in the same unit of work; on
   an exception, mark it failed for a retry after exponential backoff with jitter, or dead with
   its last error once `max_attempts` claims have failed, again with one event.

Claiming (`run_forever`). Several workers may share one inbox (`serve` and `almabridge worker`
on PostgreSQL), so a worker takes ONE message per claim and leaves the rest to the others: an
idle worker looks for work every `poll_interval`, and again at once when its last message ends;
a busy one (up to `batch` messages at once) claims its next message only `busy_poll_interval`
after its last claim, so an idle worker, polling more often, takes a waiting message first.
(`run_once` claims a whole batch at once: it drains the inbox in tests and tools.)

Leases (W8, docs/adr/0003-inbox-leases.md). A claimed message is leased for `lease` (20 s in the
service) and renewed every `renew_every` (a quarter of it) while the handler runs, from a task
of its own: the handlers do their blocking work in threads, so the loop is free to renew. A
failed renewal (a database hiccup) is retried every `RENEW_RETRY` seconds while the lease lasts.
When the lease is lost (another claim took the message over) or may have run out (no renewal
succeeded in time), the handler is cancelled: two live workers never run one message at once.
A killed worker renews nothing: its messages are claimed again once the lease expires, or at
once by a worker starting on the same host, which sees that their owner's process is gone
(`release_dead`). Finishing starts by renewing the lease inside the finishing unit of work: if
another worker took the message over meanwhile, the renewal fails, nothing is marked, and the
new owner's outcome is the one recorded (the work itself is safe to redo: the ledger makes every
use case idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from application.ports.clock import Clock
from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.scf.inbox.dispatch import dispatch, institution_of
from application.scf.inbox.handlers import RetryBackoff, WebhookHandlers, retry_delay
from application.scf.inbox.records import (
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
from application.shared.alma import AlmaError
from application.shared.ledger_records import InboxMessage, InboxStatus, Outcome
from application.shared.metrics import Metrics
from domain.scf.institutions import Consortium
from domain.scf.webhooks import WebhookEvent, classify_webhook

__all__ = ["InboxWorker", "RetryBackoff"]

log = logging.getLogger(__name__)

RENEW_FRACTION = 4
"""The lease is renewed every lease/RENEW_FRACTION: three renewals may fail before it runs out."""
RENEW_RETRY = 1.0
"""Seconds between attempts at a renewal that failed (a database hiccup), while the lease lasts."""
LEASE_MARGIN = 0.1
"""The worker gives a message up when less than this share of its lease (at most
MAX_LEASE_MARGIN) is left unrenewed: before any other worker may claim it."""
MAX_LEASE_MARGIN = 2.0
BUSY_POLL_FACTOR = 3.0
"""A busy worker claims its next message busy_poll_interval = this × poll_interval after its
last claim: an idle worker sharing the inbox takes a waiting message first."""
RELEASE_SCAN_LIMIT = 1000
"""Messages in processing looked at by `release_dead` (a few per live worker in practice)."""
DIED = "the worker {owner} died while processing the message"


@dataclass
class _Attempt:
    """What one run of the handlers gave: the classification, and the outcome or the error."""

    event: WebhookEvent | None = None
    handled: Handled | None = None
    failure: Exception | None = None


class OtherMessages(Protocol):
    """Messages the inbox carries that are not Alma webhooks (a scheduled workflow run, B6):
    they share the inbox's leases, retries and fence, and are handled outside this context."""

    async def handle(self, body: bytes, message_id: int) -> Handled | None:
        """Handle the message and say how it ended, or None when it is not one of these."""
        ...


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
        other_messages: OtherMessages | None = None,
    ) -> None:
        if lease <= timedelta(0) or max_attempts < 1 or batch < 1:
            raise ValueError("lease, max_attempts and batch must be positive")
        self._ledger = ledger
        self._handlers = handlers
        self._other_messages = other_messages
        self._consortium = consortium
        self._clock = clock
        self._metrics = metrics
        self.owner = owner
        self._lease = lease
        self._max_attempts = max_attempts
        self._backoff = backoff or RetryBackoff()
        self._batch = batch
        seconds = lease.total_seconds()
        self._renew_every = renew_every or seconds / RENEW_FRACTION
        self._margin = min(seconds * LEASE_MARGIN, MAX_LEASE_MARGIN)
        self._secrets = secrets
        declare_worker_metrics(metrics)

    # ---- loops -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and process every message of it; how many were claimed."""
        self._beat()
        claimed_at = asyncio.get_running_loop().time()
        messages = await self._ledger.claim_inbox(self.owner, self._lease, self._batch)
        results = await asyncio.gather(
            *(self._process(message, claimed_at) for message in messages), return_exceptions=True
        )
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:
            self._unfinished(failure)
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
        busy_poll_interval: float | None = None,
        restart_when: Callable[[], bool] | None = None,
    ) -> None:
        """Claim and process messages, one claim at a time, until stop is set (or
        restart_when() says so); then finish the messages in hand and return.

        Up to `batch` messages run at once. Idle, the worker looks for work every
        poll_interval and as soon as its last message ends; busy, every busy_poll_interval
        (BUSY_POLL_FACTOR × poll_interval by default), so that idle workers sharing the inbox
        go first. A claim that failed (the database unreachable) is tried again a
        poll_interval later. Every wait is on stop too, so stopping is immediate.
        """
        if busy_poll_interval is None:
            busy_poll_interval = BUSY_POLL_FACTOR * poll_interval
        loop = asyncio.get_running_loop()
        running: set[asyncio.Task[None]] = set()
        stopping = asyncio.create_task(stop.wait())
        next_claim = loop.time()
        try:
            while not stop.is_set() and not (restart_when is not None and restart_when()):
                if len(running) < self._batch and loop.time() >= next_claim:
                    running |= await self._claim_one()
                    next_claim = loop.time() + (busy_poll_interval if running else poll_interval)
                    continue
                timeout = None if len(running) >= self._batch else next_claim - loop.time()
                done, _ = await asyncio.wait(
                    {stopping, *running},
                    timeout=max(timeout, 0.0) if timeout is not None else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                ended = {task for task in running if task in done}
                for task in ended:
                    self._report(task)
                running -= ended
                if ended and not running:
                    next_claim = loop.time()  # idle again: look for work at once
        except asyncio.CancelledError:
            for task in running:  # a hard shutdown: each message is handed back
                task.cancel()
            raise
        finally:
            stopping.cancel()
            for result in await asyncio.gather(*running, return_exceptions=True):
                if isinstance(result, Exception):
                    self._unfinished(result)

    async def _claim_one(self) -> set[asyncio.Task[None]]:
        """Claim one due message and start processing it; the task, if any."""
        self._beat()
        claimed_at = asyncio.get_running_loop().time()
        try:
            messages = await self._ledger.claim_inbox(self.owner, self._lease, 1)
        except Exception:
            log.exception("inbox worker %s: claiming failed; trying again", self.owner)
            return set()
        return {
            asyncio.create_task(
                self._process(message, claimed_at), name=f"inbox message {message.id}"
            )
            for message in messages
        }

    def _report(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (failure := task.exception()) is not None:
            self._unfinished(failure)

    def _unfinished(self, failure: BaseException) -> None:
        # Recording failed (the ledger is down?): the lease expires and the message returns.
        log.error("inbox worker %s: a message was left unfinished", self.owner, exc_info=failure)

    async def release_dead(self, is_dead: Callable[[str], bool]) -> list[int]:
        """Hand back at once the messages whose owner is known dead (W8); their ids.

        Called when a worker starts: a message leased under this worker's own name belongs to
        a predecessor with the same name (a restarted container is often pid 1 again), and
        `is_dead(owner)` says whether another owner is gone (a process of this host no longer
        alive). Each release is fenced like a renewal, so a message another worker has just
        claimed stays that worker's. Others' messages wait for their lease to run out.
        """
        released: list[int] = []
        async with self._ledger.unit_of_work() as uow:
            held = await uow.inbox.list_by_status(InboxStatus.PROCESSING, limit=RELEASE_SCAN_LIMIT)
            now = self._clock.now()
            for message in held:
                owner = message.lock_owner
                if owner is None or (owner != self.owner and not is_dead(owner)):
                    continue
                # The fence: still that owner's very claim (and row-locked until commit).
                if await uow.inbox.extend_lease(message.id, owner, now, attempt=message.attempts):
                    await uow.inbox.mark_failed(message.id, DIED.format(owner=owner), now)
                    released.append(message.id)
            await uow.commit()
        for message_id in released:
            log.warning("inbox message %s: its worker died; handed back at once", message_id)
        return released

    # ---- one message -----------------------------------------------------------------------

    async def _process(self, message: InboxMessage, claimed_at: float) -> None:
        """Run the handlers under the lease claimed at loop time claimed_at, then finish."""
        consortium = self._consortium()
        sender, facts = webhook_facts(message.body, consortium)
        attempt = _Attempt()
        work = asyncio.create_task(self._attempt(message, consortium, attempt))
        try:
            kept = await self._keep_lease(message, work, claimed_at + self._lease.total_seconds())
        except asyncio.CancelledError:
            work.cancel()
            await asyncio.shield(self._release(message, work))
            raise
        if not kept:
            self._lost(message)
            return
        if work.cancelled():  # by the handler itself, not by this worker: hand the message back
            await self._release(message, work)
            return
        details: Details = {**facts, "attempt": message.attempts}
        event = attempt.event
        if event is not None:
            details.update(classification_details(event))
        kind = "unclassified" if event is None else kind_of(event)
        institution = institution_of(event, sender)
        if attempt.handled is not None:
            details.update(attempt.handled.details)
            await self._finish(message, attempt.handled, institution, details, kind)
        else:
            assert attempt.failure is not None
            await self._fail(message, attempt.failure, institution, details, kind)

    async def _attempt(
        self, message: InboxMessage, consortium: Consortium, attempt: _Attempt
    ) -> None:
        """Classify and dispatch; the outcome or the error lands in attempt."""
        try:
            if self._other_messages is not None:
                handled = await self._other_messages.handle(message.body, message.id)
                if handled is not None:
                    attempt.handled = handled
                    return
            attempt.event = classify_webhook(message.body, consortium)
            attempt.handled = await dispatch(
                self._handlers, self._metrics, attempt.event, message.id
            )
        except Exception as error:
            attempt.failure = error

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

    async def _release(self, message: InboxMessage, work: asyncio.Task[None]) -> None:
        """Cancelled mid-work (a hard shutdown): once the handler has stopped, make the message
        due again at once."""
        await asyncio.wait({work})
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

    async def _keep_lease(
        self, message: InboxMessage, work: asyncio.Task[None], held_until: float
    ) -> bool:
        """Renew the lease until work ends; True then. False once the lease is lost or may
        have run out (held_until, loop time, less the margin), with work cancelled and ended.

        held_until is counted from before the claim or renewal that set it, so this worker
        always believes its lease ends no later than the ledger says.
        """
        loop = asyncio.get_running_loop()
        next_renewal = loop.time() + self._renew_every
        while True:
            give_up_at = held_until - self._margin
            wake = min(next_renewal, give_up_at)
            await asyncio.wait({work}, timeout=max(wake - loop.time(), 0.0))
            if work.done():
                return True
            if loop.time() >= give_up_at:
                log.warning(
                    "inbox message %s: the lease of %s could not be renewed in time",
                    message.id,
                    self.owner,
                )
                return await self._abandon(work)
            started = loop.time()
            try:
                # A renewal that hangs must not outlast the lease it is renewing.
                async with asyncio.timeout_at(give_up_at):
                    async with self._ledger.unit_of_work() as uow:
                        kept = await self._fence(uow, message)
                        await uow.commit()
            except Exception:
                # A database hiccup: try again soon, while the lease lasts.
                log.warning("inbox message %s: lease renewal failed", message.id, exc_info=True)
                next_renewal = loop.time() + min(RENEW_RETRY, self._renew_every)
                continue
            if not kept:
                return await self._abandon(work)
            held_until = started + self._lease.total_seconds()
            next_renewal = started + self._renew_every
            self._beat()  # a long job is a live worker, whatever /health reads

    async def _abandon(self, work: asyncio.Task[None]) -> bool:
        """Stop the handler of a message this worker no longer holds; False."""
        work.cancel()
        await asyncio.wait({work})
        return False

    async def _fence(self, uow: LedgerUnitOfWork, message: InboxMessage) -> bool:
        """Renew the lease of this very claim; False once another claim has taken it."""
        until = self._clock.now() + self._lease
        return await uow.inbox.extend_lease(message.id, self.owner, until, attempt=message.attempts)

    def _lost(self, message: InboxMessage) -> None:
        log.warning(
            "inbox message %s: the lease of %s was lost; the message is left to its next owner",
            message.id,
            self.owner,
        )
        self._metrics.inc(INBOX_LEASES_LOST)

    def _beat(self) -> None:
        self._metrics.set(WORKER_HEARTBEAT, self._clock.now().timestamp())
