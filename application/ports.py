"""Ports of the application: what the use cases need from the outside world, as Protocols.

Adapters satisfy these structurally; every port has an in-memory twin and a real adapter, held
together by one contract test suite per port.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The current time, so that leases, grace periods and reports are testable."""

    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class ConfigSource(Protocol):
    """Where the conf.json text comes from: a path, or an http(s), ftp or sftp URL (rule K1)."""

    def describe(self) -> str:
        """A description safe for logs and errors: never a password."""
        ...

    async def read(self) -> bytes:
        """The raw configuration bytes; raises ConfigSourceError naming the source on failure."""
        ...
