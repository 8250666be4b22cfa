"""A local directory as the file server (tests, a mounted share): ``LocalFileTransfer``.

Remote paths are POSIX paths under ``root`` (``/alma/X/items`` is ``root/alma/X/items``); ``..``
is refused, so a path can never leave the root. Every disk call runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from adapters.transfer.base import DEFAULT_CHUNK_SIZE, BaseFileTransfer, Kind, Sink
from adapters.transfer.errors import RemoteNotFound
from adapters.transfer.retry import Failure, RetryPolicy
from application.shared.files import RemoteFile, TransferError

__all__ = ["LocalFileTransfer", "os_failure"]


def os_failure(exc: Exception) -> Failure | None:
    """A local (or simulated) file system error: final, except a dropped connection."""
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return Failure(False, "no such file or folder", RemoteNotFound)
    if isinstance(exc, ConnectionError | TimeoutError):
        return Failure(True, f"connection failed: {exc.strerror or exc or type(exc).__name__}")
    if isinstance(exc, OSError):
        return Failure(False, exc.strerror or str(exc) or type(exc).__name__)
    return None


class LocalFileTransfer(BaseFileTransfer):
    """The port over a directory on this machine."""

    def __init__(self, root: Path | str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        # A local disk has no transient failures worth retrying.
        super().__init__(retry=RetryPolicy(attempts=1), chunk_size=chunk_size)
        self._root = Path(root)

    def where(self, path: str) -> str:
        return str(self._root / path.lstrip("/"))

    def _real(self, path: str) -> Path:
        relative = PurePosixPath(path.lstrip("/"))
        if ".." in relative.parts:
            raise TransferError(self.where(path), "'..' is not allowed in a path")
        return self._root / relative

    def _failure(self, exc: Exception) -> Failure | None:
        return os_failure(exc)

    async def _entries(self, folder: str) -> list[RemoteFile]:
        real = self._real(folder)

        def scan() -> list[RemoteFile]:
            with os.scandir(real) as entries:
                return [
                    RemoteFile(
                        folder=folder,
                        name=entry.name,
                        size=info.st_size,
                        modified=datetime.fromtimestamp(info.st_mtime, UTC),
                    )
                    for entry in entries
                    if entry.is_file(follow_symlinks=False)
                    for info in (entry.stat(follow_symlinks=False),)
                ]

        return await asyncio.to_thread(scan)

    async def _kind(self, path: str) -> Kind | None:
        real = self._real(path)
        try:
            mode = (await asyncio.to_thread(os.lstat, real)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISREG(mode):
            return "file"
        return "folder" if stat.S_ISDIR(mode) else "other"

    async def _make_folders(self, folder: str) -> None:
        real = self._real(folder)
        await asyncio.to_thread(real.mkdir, parents=True, exist_ok=True)

    async def _move(self, source: str, target: str) -> None:
        # os.rename would replace a target created since the caller's check; the window is a
        # few microseconds and needs Alma to drop a second file of one name into it.
        await asyncio.to_thread(os.rename, self._real(source), self._real(target))

    async def _replace(self, source: str, target: str) -> None:
        await asyncio.to_thread(os.replace, self._real(source), self._real(target))

    async def _remove(self, path: str) -> None:
        await asyncio.to_thread(os.unlink, self._real(path))

    async def _read(self, path: str, sink: Sink) -> None:
        handle = await asyncio.to_thread(self._real(path).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, self._chunk_size):
                if not await sink(chunk):
                    return
        finally:
            await asyncio.to_thread(handle.close)

    async def _write(self, path: str, chunks: AsyncIterable[bytes]) -> None:
        handle = await asyncio.to_thread(self._real(path).open, "wb")
        try:
            async for chunk in chunks:
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
