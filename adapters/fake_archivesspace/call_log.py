"""Every call the fake ArchivesSpace answered (or cut off), for tests to count and assert on.

The password is never in it: the login's form body is not recorded, and a ``password`` query
parameter (ArchivesSpace accepts one) is masked before the call is recorded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

MASK = "***"
ResourceKey = tuple[int, int]
"""(repository id, resource id)."""


@dataclass(frozen=True)
class CallRecord:
    """One call: ``resource`` is the resource it concerns (a MARC export, or a container search
    on ``collection_uri_u_sstr``), ``status`` 0 when the connection was reset."""

    method: str
    path: str
    query: str
    resource: ResourceKey | None
    status: int
    fault: str | None = None

    @property
    def is_login(self) -> bool:
        """Whether this is ``POST /users/{user}/login``."""
        return (
            self.method == "POST"
            and self.path.startswith("/users/")
            and (self.path.endswith("/login"))
        )


def masked_query(query: Mapping[str, str]) -> str:
    """The query string with any ``password`` value replaced by ``***``."""
    return urlencode([(k, MASK if k.lower() == "password" else v) for k, v in query.items()])


class CallLog:
    """An append-only list of `CallRecord`, oldest first, with the counts tests need."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []

    def append(self, record: CallRecord) -> None:
        """Record one call."""
        self._records.append(record)

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[CallRecord]:
        return iter(list(self._records))

    def records(
        self,
        *,
        method: str | None = None,
        path_prefix: str | None = None,
        resource: ResourceKey | None = None,
        fault: str | None = None,
    ) -> list[CallRecord]:
        """Calls matching every given filter."""
        return [
            r
            for r in self._records
            if (method is None or r.method == method.upper())
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (resource is None or r.resource == resource)
            and (fault is None or r.fault == fault)
        ]

    def count(self, resource: ResourceKey) -> int:
        """Calls about one resource (its MARC export and its container searches)."""
        return len(self.records(resource=resource))

    def logins(self) -> int:
        """Login calls, refused ones included."""
        return sum(1 for r in self._records if r.is_login)

    def clear(self) -> None:
        """Forget every call."""
        self._records.clear()
