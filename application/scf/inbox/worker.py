"""The durable inbox worker: claims webhooks, runs them, retries, finishes them (W3–W5, W8).

Per message:

1. classify it (W4, W5) with the consortium in force now, not the one of the last reload;
2. dispatch it to the handlers; a failed job (COMPLETED_FAILED), a skipped and a rejected body
   are recorded as skipped and never retried;
3. on return, mark it done and append one `webhook.process` event in the same unit of work; on
   an exception, mark it failed for a retry after exponential backoff with jitter, or dead with
   its last error once `max_attempts` claims have failed, again with one event.

Claiming (`run_forever`). Several workers may share one inbox (`serve` and `almabridge worker`
on PostgreSQL), so a worker takes ONE message per claim and leaves the rest to the others. Up to
`batch` messages run at once. A worker with a long message in hand (a sync) takes only messages
that idle workers left waiting; one with only short ones (a member's record, W6, W7) claims the
next at once, so that webhooks are handled as they arrive (`claiming`). (`run_once` claims a
whole batch at once: it drains the inbox in tests and tools.)

Leases (W8, docs/adr/0003-inbox-leases.md). A claimed message is leased, and the lease renewed
while its handler runs; the handler is cancelled once the lease is lost or may have run out, and a
killed worker's messages are handed back (`leases`). Every write about a message is fenced by
its lease, so a worker that lost it records nothing (docs/adr/0005-lease-fence.md, `finishing`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.inbox.claiming import BUSY_GRACE_FACTOR, runs_long
from application.scf.inbox.dispatch import dispatch, institution_of
from application.scf.inbox.finishing import MessageFinishing
from application.scf.inbox.handlers import RetryBackoff, WebhookHandlers
from application.scf.inbox.leases import MessageLeases
from application.scf.inbox.records import (
    Details,
    Handled,
    classification_details,
    declare_worker_metrics,
    kind_of,
    webhook_facts,
)
from application.shared.ledger_records import InboxMessage
from application.shared.metrics import Metrics
from domain.scf.institutions import Consortium
from domain.scf.webhooks import WebhookEvent, classify_webhook

__all__ = ["InboxWorker", "RetryBackoff"]

log = logging.getLogger(__name__)


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
        self._metrics = metrics
        self.owner = owner
        self._lease = lease
        self._batch = batch
        self._leases = MessageLeases(
            ledger, clock, metrics, owner=owner, lease=lease, renew_every=renew_every
        )
        self._finishing = MessageFinishing(
            ledger,
            clock,
            metrics,
            self._leases,
            max_attempts=max_attempts,
            backoff=backoff or RetryBackoff(),
            secrets=secrets,
        )
        declare_worker_metrics(metrics)

    # ---- loops -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch and process every message of it; how many were claimed."""
        self._leases.beat()
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
        busy_grace: float | None = None,
        restart_when: Callable[[], bool] | None = None,
    ) -> None:
        """Claim and process messages, one claim at a time, until stop is set (or
        restart_when() says so); then finish the messages in hand and return.

        Up to `batch` messages run at once (`claiming`). With nothing long in hand, the worker
        claims again at once after a claim that found a message, and as soon as a message ends;
        else it looks for work every poll_interval. With a long message in hand it claims
        nothing for busy_grace (BUSY_GRACE_FACTOR × poll_interval by default) after claiming it,
        then only messages due for busy_grace, so that idle workers sharing the inbox go
        first. A claim that failed (the database unreachable)
        is tried again a poll_interval later. Every wait is on stop too, so stopping is
        immediate.
        """
        if busy_grace is None:
            busy_grace = BUSY_GRACE_FACTOR * poll_interval
        loop = asyncio.get_running_loop()
        running: set[asyncio.Task[None]] = set()
        long: set[asyncio.Task[None]] = set()
        stopping = asyncio.create_task(stop.wait())
        next_claim = loop.time()
        long_claimed = -busy_grace  # loop time of the last claim of a long message
        try:
            while not stop.is_set() and not (restart_when is not None and restart_when()):
                # With a long message in hand, nothing for busy_grace after claiming it either:
                # messages that waited before this worker started are no younger (ADR 0003).
                due = max(next_claim, long_claimed + busy_grace) if long else next_claim
                if len(running) < self._batch and loop.time() >= due:
                    waited = timedelta(seconds=busy_grace if long else 0.0)
                    started, started_long = await self._claim_one(waited)
                    running |= started
                    long |= started_long
                    if started_long:
                        long_claimed = loop.time()
                    again = started and not long  # more may be waiting: look at once
                    next_claim = loop.time() + (0.0 if again else poll_interval)
                    continue
                due = max(next_claim, long_claimed + busy_grace) if long else next_claim
                timeout = None if len(running) >= self._batch else due - loop.time()
                done, _ = await asyncio.wait(
                    {stopping, *running},
                    timeout=max(timeout, 0.0) if timeout is not None else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                ended = {task for task in running if task in done}
                for task in ended:
                    self._report(task)
                running -= ended
                long -= ended
                if ended:
                    next_claim = loop.time()  # a slot is free: look for work at once
        except asyncio.CancelledError:
            for task in running:  # a hard shutdown: each message is handed back
                task.cancel()
            raise
        finally:
            stopping.cancel()
            for result in await asyncio.gather(*running, return_exceptions=True):
                if isinstance(result, Exception):
                    self._unfinished(result)

    async def _claim_one(
        self, waited: timedelta
    ) -> tuple[set[asyncio.Task[None]], set[asyncio.Task[None]]]:
        """Claim one message due for `waited` and start processing it: the task, if any, and
        the same again if the message runs long (`claiming`)."""
        self._leases.beat()
        claimed_at = asyncio.get_running_loop().time()
        try:
            messages = await self._ledger.claim_inbox(self.owner, self._lease, 1, waited=waited)
        except Exception:
            log.exception("inbox worker %s: claiming failed; trying again", self.owner)
            return set(), set()
        started: set[asyncio.Task[None]] = set()
        started_long: set[asyncio.Task[None]] = set()
        consortium = self._consortium()
        for message in messages:
            task = asyncio.create_task(
                self._process(message, claimed_at), name=f"inbox message {message.id}"
            )
            started.add(task)
            if runs_long(message.body, consortium):
                started_long.add(task)
        return started, started_long

    def _report(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (failure := task.exception()) is not None:
            self._unfinished(failure)

    def _unfinished(self, failure: BaseException) -> None:
        # Recording failed (the ledger is down?): the lease expires and the message returns.
        log.error("inbox worker %s: a message was left unfinished", self.owner, exc_info=failure)

    async def release_dead(self, is_dead: Callable[[str], bool]) -> list[int]:
        """Hand back at once the messages whose owner is known dead (W8); their ids
        (`MessageLeases.release_dead`)."""
        return await self._leases.release_dead(is_dead)

    # ---- one message -----------------------------------------------------------------------

    async def _process(self, message: InboxMessage, claimed_at: float) -> None:
        """Run the handlers under the lease claimed at loop time claimed_at, then finish."""
        consortium = self._consortium()
        sender, facts = webhook_facts(message.body, consortium)
        attempt = _Attempt()
        work = asyncio.create_task(self._attempt(message, consortium, attempt))
        try:
            held_until = claimed_at + self._lease.total_seconds()
            kept = await self._leases.keep_lease(message, work, held_until)
        except asyncio.CancelledError:
            work.cancel()
            await asyncio.shield(self._finishing.release(message, work))
            raise
        if not kept:
            self._leases.lost(message)
            return
        if work.cancelled():  # by the handler itself, not by this worker: hand the message back
            await self._finishing.release(message, work)
            return
        details: Details = {**facts, "attempt": message.attempts}
        event = attempt.event
        if event is not None:
            details.update(classification_details(event))
        kind = "unclassified" if event is None else kind_of(event)
        institution = institution_of(event, sender)
        if attempt.handled is not None:
            details.update(attempt.handled.details)
            await self._finishing.finish(message, attempt.handled, institution, details, kind)
        else:
            assert attempt.failure is not None
            await self._finishing.fail(message, attempt.failure, institution, details, kind)

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
