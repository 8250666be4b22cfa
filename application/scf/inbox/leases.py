"""The leases of the messages an inbox worker holds, and the fence that guards them (W8).

Leases (W8, docs/adr/0003-inbox-leases.md). A claimed message is leased for `lease` (20 s in the
service) and renewed every `renew_every` (a quarter of it) while the handler runs, from a task
of its own: the handlers do their blocking work in threads, so the loop is free to renew. A
failed renewal (a database hiccup) is retried every `RENEW_RETRY` seconds while the lease lasts.
When the lease is lost (another claim took the message over) or may have run out (no renewal
succeeded in time), the handler is cancelled: two live workers never run one message at once.
A killed worker renews nothing: its messages are claimed again once the lease expires, or at
once by a worker starting on the same host, which sees that their owner's process is gone
(`release_dead`).

The fence (docs/adr/0005-lease-fence.md): every write about a message starts by renewing the
lease of that very claim (owner and attempt) in the same unit of work; when another claim has
taken the message over, the renewal fails and nothing is written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from application.ports.clock import Clock
from application.ports.ledger import Ledger, LedgerUnitOfWork
from application.scf.inbox.records import INBOX_LEASES_LOST, WORKER_HEARTBEAT
from application.shared.ledger_records import InboxMessage, InboxStatus
from application.shared.metrics import Metrics

# The worker's messages keep the logger they had before the worker was split into modules.
log = logging.getLogger("application.scf.inbox.worker")

RENEW_FRACTION = 4
"""The lease is renewed every lease/RENEW_FRACTION: three renewals may fail before it runs out."""
RENEW_RETRY = 1.0
"""Seconds between attempts at a renewal that failed (a database hiccup), while the lease lasts."""
LEASE_MARGIN = 0.1
"""The worker gives a message up when less than this share of its lease (at most
MAX_LEASE_MARGIN) is left unrenewed: before any other worker may claim it."""
MAX_LEASE_MARGIN = 2.0
RELEASE_SCAN_LIMIT = 1000
"""Messages in processing looked at by `release_dead` (a few per live worker in practice)."""
DIED = "the worker {owner} died while processing the message"


class MessageLeases:
    """The leases of one worker (`owner`): kept while handlers run, fenced, handed back."""

    def __init__(
        self,
        ledger: Ledger,
        clock: Clock,
        metrics: Metrics,
        *,
        owner: str,
        lease: timedelta,
        renew_every: float | None = None,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._metrics = metrics
        self.owner = owner
        self.lease = lease
        seconds = lease.total_seconds()
        self._renew_every = renew_every or seconds / RENEW_FRACTION
        self._margin = min(seconds * LEASE_MARGIN, MAX_LEASE_MARGIN)

    async def keep_lease(
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
                        kept = await self.fence(uow, message)
                        await uow.commit()
            except Exception:
                # A database hiccup: try again soon, while the lease lasts.
                log.warning("inbox message %s: lease renewal failed", message.id, exc_info=True)
                next_renewal = loop.time() + min(RENEW_RETRY, self._renew_every)
                continue
            if not kept:
                return await self._abandon(work)
            held_until = started + self.lease.total_seconds()
            next_renewal = started + self._renew_every
            self.beat()  # a long job is a live worker, whatever /health reads

    async def _abandon(self, work: asyncio.Task[None]) -> bool:
        """Stop the handler of a message this worker no longer holds; False."""
        work.cancel()
        await asyncio.wait({work})
        return False

    async def fence(self, uow: LedgerUnitOfWork, message: InboxMessage) -> bool:
        """Renew the lease of this very claim; False once another claim has taken it."""
        until = self._clock.now() + self.lease
        return await uow.inbox.extend_lease(message.id, self.owner, until, attempt=message.attempts)

    def lost(self, message: InboxMessage) -> None:
        log.warning(
            "inbox message %s: the lease of %s was lost; the message is left to its next owner",
            message.id,
            self.owner,
        )
        self._metrics.inc(INBOX_LEASES_LOST)

    def beat(self) -> None:
        self._metrics.set(WORKER_HEARTBEAT, self._clock.now().timestamp())

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
