"""Where one reconciliation run stands: what it checked and found, its progress, whether the
daily quota stopped it, and how many barcodes or requests it checks at once (issue 7)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from application.scf.reconcile.report import ProgressCallback, ReconcileProgress
from application.shared.alma import QuotaExhausted

# The run's messages keep the logger they had before the run was split into modules.
log = logging.getLogger("application.scf.reconcile.reconciliation")
K = TypeVar("K")


class RunState:
    """The counts and the stop of one run, shared by its item and request checks."""

    def __init__(self, institution: str, limit: int, progress: ProgressCallback | None) -> None:
        self.institution = institution
        self._limit = limit
        self._progress = progress
        self.stopped: str | None = None
        self.findings = 0
        self.items_checked = 0
        self.requests_checked = 0

    def stop(self, error: Exception) -> None:
        if self.stopped is None:
            log.warning("reconcile %s stopped: %s", self.institution, error)
            self.stopped = str(error)

    def tell(self, phase: str, done: int, total: int, repaired: int = 0, failed: int = 0) -> None:
        if self._progress is not None:
            self._progress(ReconcileProgress(phase, done, total, self.findings, repaired, failed))

    async def bounded(self, keys: Iterable[K], work: Callable[[K], Awaitable[None]]) -> None:
        """Run `work` for every key, at most `max_number_of_threads` at once; the daily quota
        stops taking new keys and is reported, never raised."""
        pending = iter(keys)

        async def worker() -> None:
            for key in pending:
                if self.stopped is not None:
                    return
                try:
                    await work(key)
                except QuotaExhausted as error:
                    self.stop(error)
                    return

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self._limit):
                    group.create_task(worker())
        except BaseExceptionGroup as failure:
            # A ledger or programming failure, not a barcode's: surface the first as itself.
            raise failure.exceptions[0] from failure
