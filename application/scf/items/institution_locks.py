"""One items sync per institution at a time; different institutions run in parallel.

Two JOB_END webhooks for one member (or a webhook and an operator's rerun) must not process the
same files and barcodes at once; the Java app went further and serialised every institution
behind one `synchronized` method. Locks are kept per event loop, because an asyncio lock belongs
to the loop that first waits on it (each test runs its own loop). Across processes sharing a
PostgreSQL ledger, the same exclusion is `Ledger.exclusive(items_sync_lock(code))`.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class InstitutionLocks:
    """A lock per institution code (case-insensitive), per running event loop."""

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def _lock(self, institution: str) -> asyncio.Lock:
        locks = self._by_loop.setdefault(asyncio.get_running_loop(), {})
        return locks.setdefault(institution.casefold(), asyncio.Lock())

    def busy(self, institution: str) -> bool:
        """Whether a sync of this institution is running now."""
        return self._lock(institution).locked()

    @asynccontextmanager
    async def hold(self, institution: str) -> AsyncIterator[None]:
        """Wait for the institution's turn and keep it for the block."""
        async with self._lock(institution):
            yield


ITEM_SYNC_LOCKS = InstitutionLocks()
"""The process-wide locks of the items sync."""


def items_sync_lock(institution: str) -> str:
    """The name of a member's items-sync lock among the processes sharing a ledger
    (`Ledger.exclusive`)."""
    return f"items sync {institution.casefold()}"
