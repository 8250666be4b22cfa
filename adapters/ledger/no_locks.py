"""No locks to hold: a ledger used by one process, whose own locks suffice (`HeldLocks`)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager, nullcontext


class _NoLocks:
    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        return nullcontext()

    def shared(self, name: str) -> AbstractAsyncContextManager[None]:
        return nullcontext()


NO_LOCKS = _NoLocks()
"""The `HeldLocks` of an SQLite or memory ledger's `lock_session`."""
