"""Who may work on a member's items (or requests) at once, inside one process (I1, W6, W7).

* A file sync (or a reconciliation, or a requests run) has the member to itself: `hold`. Two
  JOB_END webhooks for one member (or a webhook and an operator's rerun) must not process the
  same files and barcodes at once; the Java app went further and serialised every institution
  behind one `synchronized` method. Different members run in parallel.
* A member's webhooks run alongside each other (`share`), never alongside its file sync, and
  one record at a time (`one_at_a_time`: a barcode, a request id, an SCF bib being created).
  A sync waiting for its turn goes before webhooks that arrive after it (aiorwlock prefers
  writers), so a stream of webhooks never starves the nightly file.

Locks are kept per event loop, because an asyncio lock belongs to the loop that first waits on it
(each test runs its own loop). Across processes sharing a PostgreSQL ledger the same exclusion is
`Ledger.exclusive(items_sync_lock(code))` (or `requests_sync_lock`) beside `hold`, and a
`Ledger.lock_session`'s `shared` of that name, then `exclusive(record_lock(...))`, beside
`share` and `one_at_a_time`.
"""

from __future__ import annotations

import weakref
from asyncio import AbstractEventLoop, get_running_loop
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiorwlock import RWLock

from application.ports.ledger import HeldLocks, Ledger
from application.shared.single_flight import KeyedLocks


@dataclass
class _LoopLocks:
    members: dict[str, RWLock] = field(default_factory=dict)
    records: KeyedLocks[tuple[str, str]] = field(default_factory=KeyedLocks)


class InstitutionLocks:
    """A shared/exclusive lock per institution code (case-insensitive) and a lock per record,
    per running event loop."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[AbstractEventLoop, _LoopLocks] = (
            weakref.WeakKeyDictionary()
        )

    def _locks(self) -> _LoopLocks:
        return self._by_loop.setdefault(get_running_loop(), _LoopLocks())

    def _member(self, institution: str) -> RWLock:
        return self._locks().members.setdefault(institution.casefold(), RWLock())

    def busy(self, institution: str) -> bool:
        """Whether a sync of this institution is running now."""
        return self._member(institution).writer.locked

    @asynccontextmanager
    async def hold(self, institution: str) -> AsyncIterator[None]:
        """Wait until nothing else works on the institution, and keep it alone for the block."""
        async with self._member(institution).writer:
            yield

    @asynccontextmanager
    async def share(self, institution: str) -> AsyncIterator[None]:
        """Wait while a sync holds the institution; then work beside the other sharers."""
        async with self._member(institution).reader:
            yield

    @asynccontextmanager
    async def one_at_a_time(self, institution: str, record: str) -> AsyncIterator[None]:
        """One holder of this institution's record (a barcode, a request, a bib) at a time."""
        async with self._locks().records.hold((institution.casefold(), record)):
            yield

    @asynccontextmanager
    async def alone(self, ledger: Ledger, institution: str, sync_lock: str) -> AsyncIterator[None]:
        """A sync's hold of the member, here (`hold`) and across the processes sharing the
        ledger (`sync_lock`, e.g. `items_sync_lock(code)`, exclusive)."""
        async with self.hold(institution), ledger.exclusive(sync_lock):
            yield

    @asynccontextmanager
    async def one_record(
        self, ledger: Ledger, institution: str, sync_lock: str, record: str
    ) -> AsyncIterator[HeldLocks]:
        """A webhook's share of the member and hold of its record, here (`share`,
        `one_at_a_time`) and across processes (`sync_lock` shared, `record_lock` exclusive, on
        one connection); the lock session, for more locks of the same work."""
        async with (
            self.share(institution),
            self.one_at_a_time(institution, record),
            ledger.lock_session() as held,
            held.shared(sync_lock),
            held.exclusive(record_lock(institution, record)),
        ):
            yield held


ITEM_SYNC_LOCKS = InstitutionLocks()
"""The process-wide locks of the items sync."""


def items_sync_lock(institution: str) -> str:
    """The name of a member's items-sync lock among the processes sharing a ledger
    (`Ledger.exclusive`, `Ledger.shared`)."""
    return f"items sync {institution.casefold()}"


def requests_sync_lock(institution: str) -> str:
    """The name of a member's requests-sync lock among the processes sharing a ledger."""
    return f"requests sync {institution.casefold()}"


def record_lock(institution: str, record: str) -> str:
    """The name of one of a member's records (`InstitutionLocks.one_at_a_time`) among the
    processes sharing a ledger (`Ledger.exclusive`)."""
    return f"records of {institution.casefold()}: {record}"
