"""Event counts (per day; per path of arrival), bucketed and ordered the same way by the SQL
ledger and its in-memory twin."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime

from application.shared.ledger_records import DailyCount, ViaCount


def count_per_day(rows: Iterable[tuple[datetime, str | None, str]]) -> list[DailyCount]:
    """Count (occurred_at, institution, action) rows per UTC day, ordered by day."""
    counts: Counter[tuple[date, str | None, str]] = Counter(
        (at.astimezone(UTC).date(), institution, action) for at, institution, action in rows
    )
    return [
        DailyCount(day, institution, action, n)
        for (day, institution, action), n in sorted(
            counts.items(), key=lambda entry: (entry[0][0], entry[0][1] or "", entry[0][2])
        )
    ]


def sorted_via_counts(counts: Iterable[ViaCount]) -> list[ViaCount]:
    """By institution, family and via, None first (SQL backends order NULLs differently)."""

    def key(count: ViaCount) -> tuple[bool, str, str, bool, str]:
        return (
            count.institution is not None,
            count.institution or "",
            count.family,
            count.via is not None,
            count.via or "",
        )

    return sorted(counts, key=key)
