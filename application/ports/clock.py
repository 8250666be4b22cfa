"""The clock the use cases read, so that tests can move time."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The current time, so that leases, grace periods and reports are testable."""

    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...
