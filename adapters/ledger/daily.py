"""Per-day event counts, bucketed the same way by the SQL ledger and its in-memory twin."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime

from application.shared.ledger_records import DailyCount


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
