"""The record of every call the fake answered: who, what, and with which status.

Tests and rehearsals read it to assert how a client behaved (retries, paging, rate). The API
key never enters it: an ``apikey`` query parameter is masked before the call is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

MASK = "***"


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call as the fake saw it."""

    time: datetime
    institution: str | None
    method: str
    path: str
    query: str
    status: int
    fault: str | None = None

    def param(self, name: str) -> str | None:
        """The first value of a query parameter, decoded."""
        for key, value in parse_qsl(self.query, keep_blank_values=True):
            if key == name:
                return value
        return None


def mask_query(query: str) -> str:
    """The query string with any ``apikey`` value replaced by ``***``."""
    if "apikey" not in query.lower():
        return query
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, MASK if k.lower() == "apikey" else v) for k, v in pairs])


class CallLog:
    """An append-only list of :class:`CallRecord` with a few filters."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []

    def append(self, record: CallRecord) -> None:
        """Record one call (the query must already be masked)."""
        self._records.append(record)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(list(self._records))

    def records(
        self,
        *,
        institution: str | None = None,
        method: str | None = None,
        path_prefix: str | None = None,
        status: int | None = None,
    ) -> list[CallRecord]:
        """Calls matching every given filter, oldest first."""
        return [
            r
            for r in self._records
            if (institution is None or r.institution == institution)
            and (method is None or r.method == method.upper())
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (status is None or r.status == status)
        ]

    def clear(self) -> None:
        """Forget every call (e.g. between phases of a rehearsal)."""
        self._records.clear()
