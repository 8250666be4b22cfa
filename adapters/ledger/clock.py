"""The real clock: aware UTC time from the operating system."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Satisfies the Clock port with the wall clock."""

    def now(self) -> datetime:
        """An aware UTC datetime."""
        return datetime.now(UTC)
