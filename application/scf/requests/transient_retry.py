"""The in-run retries of requests that failed only because Alma was unavailable (R7, A3).

A request whose call used up the adapter's own retries (A3) on a transient error is tried again
at the end of the run, after a short pause, up to `TransientRetry.passes` more times; each try
is a ledger attempt and event, with its `pass`. A transient failure never cancels anything (R7).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from application.scf.requests.outcomes import ForwardingSummary, RequestOutcome
from application.scf.requests.processing import RequestProcessor
from domain.scf.requests.routing import RemoteStorageRequest

# The run's messages keep the logger they had before forwarding was split into modules.
log = logging.getLogger("application.scf.requests.forwarding")


@dataclass(frozen=True)
class TransientRetry:
    """How a run tries again the requests that failed only because Alma was unavailable.

    Such a request (its call used up the adapter's retries on 5xx, timeouts, dropped connections
    or 429 `PER_SECOND_THRESHOLD`s) is tried again once the run's other requests are done, up to
    `passes` more times. Before the n-th extra pass the run waits `wait_initial * 2**(n-1)`
    seconds, at most `wait_max`, plus up to `wait_jitter` (spreading the workers that met the
    same outage). Each try plans the request afresh, so what an earlier try may have placed is
    found, not placed twice (R6). A refusal is not retried, a spent daily quota stops the run.
    """

    passes: int = 2
    wait_initial: float = 1.0
    wait_max: float = 10.0
    wait_jitter: float = 0.5
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.passes < 0 or min(self.wait_initial, self.wait_max, self.wait_jitter) < 0:
            raise ValueError("passes and waits cannot be negative")

    def pause(self, retry: int) -> float:
        """Seconds to wait before the retry-th extra pass (1-based)."""
        exponent = min(max(retry - 1, 0), 64)
        base = min(self.wait_max, self.wait_initial * 2.0**exponent)
        return base + self.wait_jitter * self.random()


@dataclass
class TriedRequest:
    """One request of the run and its latest outcome."""

    request: RemoteStorageRequest
    file_id: int | None
    outcome: RequestOutcome
    malformed: bool = False
    withheld: tuple[str, ...] = ()
    """The patron contact fields a request rebuilt from the ledger lacks (P2)."""


async def retry_transient(
    processor: RequestProcessor,
    retry: TransientRetry,
    institution: str,
    tried: list[TriedRequest],
    summary: ForwardingSummary,
) -> None:
    """Up to `TransientRetry.passes` more tries of the requests that failed transiently,
    each pass after its pause (see `TransientRetry`); stops on a spent daily quota."""
    for extra in range(1, retry.passes + 1):
        due = [t for t in tried if t.outcome.retry_later and not t.outcome.quota_exhausted]
        if not due:
            return
        pause = retry.pause(extra)
        log.info(
            "%s: %d requests failed transiently; pass %d of the run in %.1f s",
            institution,
            len(due),
            extra + 1,
            pause,
        )
        await asyncio.sleep(pause)
        for entry in due:
            outcome = await processor.from_file(
                institution,
                entry.request,
                entry.file_id,
                malformed=entry.malformed,
                run_pass=extra + 1,
                withheld=entry.withheld,
            )
            summary.retried(entry.outcome, outcome)
            entry.outcome = outcome
            if outcome.quota_exhausted:
                summary.stopped = outcome.reason
                return
