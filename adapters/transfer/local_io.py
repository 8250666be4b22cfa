"""The local side of transfers: every disk call runs in a worker thread, off the event loop.

A download is written to ``{local}.part`` and renamed over ``{local}`` only once complete, so a
failed download never leaves a partial or empty file behind (the Java app left empty ones, which
then broke extraction of the whole batch). Local disk errors are final: retrying the server
cannot fix a full disk.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import BinaryIO

from adapters.transfer.paths import part_path
from application.shared.files import TransferError

__all__ = ["PartFile", "read_chunks"]


def _disk_error(path: Path, exc: OSError) -> TransferError:
    return TransferError(str(path), f"local disk: {exc.strerror or exc}")


class PartFile:
    """A download in progress: ``{local}.part``, renamed to ``local`` by :meth:`finish`."""

    def __init__(self, local: Path, part: Path, handle: BinaryIO) -> None:
        self._local = local
        self._part = part
        self._handle = handle
        self.size = 0

    @classmethod
    async def open(cls, local: Path) -> PartFile:
        """Create (or truncate) the part file next to ``local``, creating its folder."""
        part = part_path(local)

        def create() -> BinaryIO:
            local.parent.mkdir(parents=True, exist_ok=True)
            return part.open("wb")

        try:
            handle = await asyncio.to_thread(create)
        except OSError as exc:
            raise _disk_error(part, exc) from None
        return cls(local, part, handle)

    async def write(self, chunk: bytes) -> None:
        """Append one chunk."""
        try:
            await asyncio.to_thread(self._handle.write, chunk)
        except OSError as exc:
            raise _disk_error(self._part, exc) from None
        self.size += len(chunk)

    async def finish(self) -> int:
        """Flush to disk and rename over ``local``; the bytes written."""

        def complete() -> None:
            self._handle.flush()
            # A crash after the rename must not leave a file that looks complete but is not.
            os.fsync(self._handle.fileno())
            self._handle.close()
            os.replace(self._part, self._local)

        try:
            await asyncio.to_thread(complete)
        except OSError as exc:
            await self.discard()
            raise _disk_error(self._local, exc) from None
        return self.size

    async def discard(self) -> None:
        """Close and delete the part file (a failed download leaves nothing)."""

        def remove() -> None:
            self._handle.close()
            self._part.unlink(missing_ok=True)

        await asyncio.to_thread(remove)


async def read_chunks(path: Path, chunk_size: int) -> AsyncGenerator[bytes, None]:
    """The bytes of a local file, a chunk at a time (use with ``contextlib.aclosing``)."""
    try:
        handle = await asyncio.to_thread(path.open, "rb")
    except OSError as exc:
        raise _disk_error(path, exc) from None
    try:
        while True:
            try:
                chunk = await asyncio.to_thread(handle.read, chunk_size)
            except OSError as exc:
                raise _disk_error(path, exc) from None
            if not chunk:
                return
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)
