"""The inbox worker's retry schedule: first retries within seconds, then minutes, at most an hour
(issue 13; application/scf/inbox/handlers.py `RetryBackoff`, `retry_delay`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.scf.inbox.handlers import QUOTA_RETRY, RetryBackoff, RetryLater, retry_delay
from application.shared.alma import QuotaExhausted

DEFAULT_ATTEMPTS = 8
"""The worker's default `max_attempts`: seven waits, then the eighth failure is dead."""


def plain(backoff: RetryBackoff, attempts: int) -> list[float]:
    """The waits in seconds after the first `attempts` failures, jitter drawn as 0."""
    return [backoff.delay(n).total_seconds() for n in range(1, attempts + 1)]


def test_the_first_retries_come_within_seconds() -> None:
    waits = plain(RetryBackoff(random=lambda: 0.0), DEFAULT_ATTEMPTS - 1)
    assert waits[:3] == [2.0, 8.0, 32.0]
    # With the largest jitter too: the first retry within 2.5 s, the second within 10 s.
    assert RetryBackoff(random=lambda: 1.0).delay(1) == timedelta(seconds=2.5)
    assert RetryBackoff(random=lambda: 1.0).delay(2) == timedelta(seconds=10)


def test_the_schedule_grows_to_an_hour_and_spans_over_an_hour_and_a_half_of_failing() -> None:
    waits = plain(RetryBackoff(random=lambda: 0.0), DEFAULT_ATTEMPTS - 1)
    assert waits == [2.0, 8.0, 32.0, 128.0, 512.0, 2048.0, 3600.0]
    # An Alma outage shorter than this kills no message (the old schedule: about 64 min).
    assert timedelta(seconds=sum(waits)) > timedelta(hours=1, minutes=45)
    assert RetryBackoff(random=lambda: 0.0).delay(10_000) == timedelta(hours=1)


@pytest.mark.parametrize("attempt", [1, 2, 5, 9])
def test_the_jitter_only_adds_up_to_its_share(attempt: int) -> None:
    low = RetryBackoff(random=lambda: 0.0).delay(attempt)
    high = RetryBackoff(random=lambda: 0.999).delay(attempt)
    assert low <= high < low * 1.25


def test_a_retry_later_waits_at_least_its_own_time_and_the_quota_an_hour() -> None:
    backoff = RetryBackoff(random=lambda: 0.0)
    later = RetryLater("files open", retry_after=timedelta(minutes=5))
    assert retry_delay(later, 1, backoff) == timedelta(minutes=5)
    assert retry_delay(RetryLater("files open"), 1, backoff) == timedelta(seconds=2)
    quota = QuotaExhausted("01AAA_AB", "GET /almaws/v1/items", http_status=429)
    assert retry_delay(quota, 1, backoff) == QUOTA_RETRY
    assert retry_delay(RuntimeError("boom"), 2, backoff) == timedelta(seconds=8)
