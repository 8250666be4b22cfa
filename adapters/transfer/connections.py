"""Connections reused within a batch: opened on first use, dropped when they break.

An SSH connection multiplexes requests, so every task shares one (:class:`SharedConnection`).
An FTP control connection carries one command at a time and aioftp's client is not safe for
concurrent use (the Java app's shared ``FTPClient`` was exactly that bug), so FTP leases each
connection to one task at a time from a small pool (:class:`ConnectionPool`).

Either way, an operation that fails with an exception ``is_broken`` accepts closes the
connection it used; the next lease connects again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

__all__ = ["ConnectionPool", "SharedConnection"]

C = TypeVar("C")


class SharedConnection(Generic[C]):
    """One lazily opened connection that concurrent tasks use together."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[C]],
        close: Callable[[C], Awaitable[None]],
        is_broken: Callable[[BaseException], bool],
    ) -> None:
        self._connect = connect
        self._close = close
        self._is_broken = is_broken
        self._current: C | None = None
        # Held while connecting, so that ten tasks starting together open one connection.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[C]:
        """The connection, opened if needed; closed after a failure that broke it."""
        async with self._lock:
            if self._current is None:
                self._current = await self._connect()
            connection = self._current
        try:
            yield connection
        except BaseException as exc:
            # Only the current connection is dropped: another task may have reconnected already.
            if self._is_broken(exc) and self._current is connection:
                self._current = None
                await self._close(connection)
            raise

    async def aclose(self) -> None:
        """Close the connection; a later lease opens a new one."""
        async with self._lock:
            connection, self._current = self._current, None
        if connection is not None:
            await self._close(connection)


class ConnectionPool(Generic[C]):
    """Up to ``size`` lazily opened connections, each leased to one task at a time."""

    def __init__(
        self,
        size: int,
        connect: Callable[[], Awaitable[C]],
        close: Callable[[C], Awaitable[None]],
        is_broken: Callable[[BaseException], bool],
    ) -> None:
        if size < 1:
            raise ValueError(f"a pool needs at least one connection, got {size}")
        self._connect = connect
        self._close = close
        self._is_broken = is_broken
        self._slots = asyncio.Semaphore(size)
        self._idle: list[C] = []

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[C]:
        """An idle connection or a new one, for this task alone until the block ends."""
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                yield connection
            except BaseException as exc:
                if self._is_broken(exc):
                    await self._close(connection)
                else:
                    self._idle.append(connection)
                raise
            self._idle.append(connection)

    async def aclose(self) -> None:
        """Close the idle connections; a later lease opens new ones."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await self._close(connection)
