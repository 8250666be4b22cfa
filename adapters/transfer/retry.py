"""Bounded retries with backoff for transient failures (a dropped connection, a 4xx reply).

Each adapter says which of its exceptions are transient (:class:`Failure`); everything else
fails at once. An attempt that fails on a broken connection has already dropped that connection
(see :mod:`adapters.transfer.connections`), so the next attempt reconnects.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from application.shared.files import TransferError

__all__ = ["Failure", "RetryPolicy", "retrying"]

logger = logging.getLogger("adapters.transfer")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a transient failure is retried.

    ``attempts`` counts the first try; delays double from ``first_delay`` up to ``max_delay``,
    with jitter so that several bridges cut off together do not reconnect in step.
    """

    attempts: int = 4
    first_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after ``failed_attempts`` failures."""
        ceiling = min(self.max_delay, self.first_delay * 2.0 ** (failed_attempts - 1))
        # Jitter only spreads reconnects; it protects nothing, so `random` is the right tool.
        return ceiling * random.uniform(0.5, 1.0)  # noqa: S311


@dataclass(frozen=True)
class Failure:
    """What an adapter makes of one exception: transient or not, and why, in words safe to show."""

    transient: bool
    reason: str
    # Builds the final error from (where, reason): TransferError or a typed subclass.
    error: Callable[[str, str], TransferError] = TransferError


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    describe: Callable[[Exception], Failure | None],
    where: str,
    what: str,
) -> T:
    """Await ``attempt()`` until it succeeds, a failure is permanent, or the attempts run out.

    A :class:`TransferError` raised by the attempt is final already and passes through; an
    exception ``describe`` does not know (a bug, not an I/O failure) propagates unchanged.
    """
    for number in range(1, policy.attempts + 1):
        try:
            return await attempt()
        except TransferError:
            raise
        except Exception as exc:
            failure = describe(exc)
            if failure is None:
                raise
            if not failure.transient or number == policy.attempts:
                reason = failure.reason
                if failure.error is TransferError:
                    # Typed failures (no such file, login refused) say it all; others say what.
                    reason = f"{what} failed: {reason}"
                if number > 1:
                    reason = f"{reason} (after {number} attempts)"
                # `from None`: the library's exception adds nothing the reason lacks, and its
                # text is not ours to vouch for.
                raise failure.error(where, reason) from None
            delay = policy.delay(number)
            logger.warning(
                "%s: %s failed (%s); attempt %d of %d in %.2f s",
                where,
                what,
                failure.reason,
                number + 1,
                policy.attempts,
                delay,
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")
