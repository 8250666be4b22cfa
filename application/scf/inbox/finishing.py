"""How an inbox worker ends a message: done, failed for a retry, dead, or handed back (W3, W8).

On return, the message is marked done with one `webhook.process` event in the same unit of
work; on an exception, it is marked failed for a retry after exponential backoff with jitter,
or dead with its last error once `max_attempts` claims have failed, again with one event.

Finishing starts by renewing the lease inside the finishing unit of work (the fence,
docs/adr/0005-lease-fence.md): if another worker took the message over meanwhile, the renewal
fails, nothing is marked, and the new owner's outcome is the one recorded (the work itself is
safe to redo: the ledger makes every use case idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from application.ports.clock import Clock
from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.scf.inbox.handlers import RetryBackoff, retry_delay
from application.scf.inbox.leases import MessageLeases
from application.scf.inbox.records import (
    INBOX_PROCESSED,
    WEBHOOK_PROCESS,
    Details,
    Handled,
    error_text,
)
from application.shared.alma import AlmaFailure
from application.shared.ledger_records import InboxMessage, Outcome
from application.shared.metrics import Metrics

# The worker's messages keep the logger they had before the worker was split into modules.
log = logging.getLogger("application.scf.inbox.worker")


class MessageFinishing:
    """Records how each message of one worker ended, behind that worker's lease fence."""

    def __init__(
        self,
        ledger: Ledger,
        clock: Clock,
        metrics: Metrics,
        leases: MessageLeases,
        *,
        max_attempts: int,
        backoff: RetryBackoff,
        secrets: Callable[[], Iterable[str]],
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._metrics = metrics
        self._leases = leases
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._secrets = secrets

    async def finish(
        self,
        message: InboxMessage,
        handled: Handled,
        institution: str | None,
        details: Details,
        kind: str,
    ) -> None:
        async with self._ledger.unit_of_work() as uow:
            if not await self._still_held(uow, message):
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

    async def fail(
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
            if not await self._still_held(uow, message):
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
                error_code=failure.error_code if isinstance(failure, AlmaFailure) else None,
            )
            await uow.commit()
        log.warning("inbox message %s: %s", message.id, said)
        self._metrics.inc(INBOX_PROCESSED, outcome="dead" if dead else "retry", kind=kind)

    async def release(self, message: InboxMessage, work: asyncio.Task[None]) -> None:
        """Cancelled mid-work (a hard shutdown): once the handler has stopped, make the message
        due again at once."""
        await asyncio.wait({work})
        try:
            async with self._ledger.unit_of_work() as uow:
                if await self._leases.fence(uow, message):
                    stopped = "the worker was stopped while processing the message"
                    await uow.inbox.mark_failed(message.id, stopped, self._clock.now())
                    await uow.commit()
        except Exception:
            # The lease still expires, and the message is claimed again then.
            log.warning("inbox message %s: could not release its lease", message.id, exc_info=True)

    async def _still_held(self, uow: LedgerUnitOfWork, message: InboxMessage) -> bool:
        """The fence; a finish it refuses is a lost lease, logged and counted (ADR 0005)."""
        if await self._leases.fence(uow, message):
            return True
        self._leases.lost(message)
        return False
