"""Keyed single-flight and bounded memo caches for the items sync (rules I7, I8).

Concurrent items of one bib must find or create its SCF bib and holding once: the Java app
raced here and duplicated both. A `KeyedLocks` serialises the work per key, so the second caller
waits for the first and then finds its result in the cache instead of creating another. A lock
per key (rather than one shared future) means a failed attempt is not shared: the next waiter
simply tries again, so one transient failure fails one item, not every item of the bib.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeyedLocks(Generic[K]):
    """One asyncio lock per key, dropped again when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[K, asyncio.Lock] = {}
        self._users: dict[K, int] = {}

    @asynccontextmanager
    async def hold(self, key: K) -> AsyncIterator[None]:
        """Hold the key's lock for the duration of the block."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                # Nobody else holds a reference: forget it, so a long batch does not keep a
                # lock per barcode or bib it ever saw.
                del self._users[key]
                del self._locks[key]


class BoundedCache(Generic[K, V]):
    """A least-recently-used dict of at most `capacity` entries.

    The batch caches (bibs, holdings, listings) stay bounded on a publishing file of any size;
    the items of one bib are adjacent in the file, so a few thousand entries are plenty, and a
    forgotten entry only costs one more lookup call, never a duplicate (the lookup finds it).
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value, marked as recently used; None when absent."""
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return self._entries[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def put(self, key: K, value: V) -> None:
        """Store a value, evicting the least recently used entry when full."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def values(self) -> list[V]:
        """Every value, least recently used first."""
        return list(self._entries.values())
