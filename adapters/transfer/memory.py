"""The in-memory twin of the file server: ``InMemoryFileTransfer`` over shared ``MemoryFiles``.

Several adapters over one ``MemoryFiles`` behave like several connections to one server, so use
cases can test concurrent claimers. Failures are the local adapter's (``OSError``s), and
``fail_reads`` makes downloads of a path drop midway, to test retries and put-backs.
"""

from __future__ import annotations

import errno
import posixpath
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.transfer.base import DEFAULT_CHUNK_SIZE, BaseFileTransfer, Kind, Sink
from adapters.transfer.local import os_failure
from adapters.transfer.retry import Failure, RetryPolicy
from application.shared.files import RemoteFile

__all__ = ["InMemoryFileTransfer", "MemoryFiles"]


def _normal(path: str) -> str:
    if not path:
        return "."
    # normpath keeps a leading "//" (POSIX leaves its meaning open); one slash is the root here.
    return posixpath.normpath("/" + path.lstrip("/") if path.startswith("/") else path)


def _parent(path: str) -> str:
    return posixpath.dirname(path) or "."


def _missing(path: str) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, "no such file or folder", path)


@dataclass
class MemoryFiles:
    """The state of a simulated server: files, folders, and injected read failures."""

    files: dict[str, bytes] = field(default_factory=dict)
    modified: dict[str, datetime] = field(default_factory=dict)
    folders: set[str] = field(default_factory=lambda: {"/", "."})
    # file name -> how many more downloads of a file of that name (wherever it was moved)
    # drop the connection after their first chunk
    fail_reads: dict[str, int] = field(default_factory=dict)

    def put(self, path: str, data: bytes) -> None:
        """Store a file, creating its folders (for seeding tests)."""
        path = _normal(path)
        self.make_folders(_parent(path))
        self.files[path] = data
        self.modified[path] = datetime.now(UTC)

    def make_folders(self, folder: str) -> None:
        """Create ``folder`` and its parents."""
        folder = _normal(folder)
        while folder not in self.folders:
            if folder in self.files:
                raise FileExistsError(errno.EEXIST, "a file is in the way", folder)
            self.folders.add(folder)
            folder = _parent(folder)

    def kind(self, path: str) -> Kind | None:
        """What is at ``path``, if anything."""
        path = _normal(path)
        if path in self.files:
            return "file"
        return "folder" if path in self.folders else None

    def move(self, source: str, target: str, *, replace: bool) -> None:
        """Rename a file; refuses an existing target unless ``replace``."""
        source, target = _normal(source), _normal(target)
        if source not in self.files:
            raise _missing(source)
        if _parent(target) not in self.folders:
            raise _missing(target)
        if target in self.folders or (target in self.files and not replace):
            raise FileExistsError(errno.EEXIST, "exists already", target)
        self.files[target] = self.files.pop(source)
        self.modified[target] = self.modified.pop(source, datetime.now(UTC))


class InMemoryFileTransfer(BaseFileTransfer):
    """The port over :class:`MemoryFiles`; several instances may share one."""

    def __init__(
        self,
        files: MemoryFiles | None = None,
        *,
        retry: RetryPolicy | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        super().__init__(retry=retry or RetryPolicy(first_delay=0.0), chunk_size=chunk_size)
        self.files = files if files is not None else MemoryFiles()

    def where(self, path: str) -> str:
        return f"memory:{path}"

    def _failure(self, exc: Exception) -> Failure | None:
        return os_failure(exc)

    async def _entries(self, folder: str) -> list[RemoteFile]:
        wanted = _normal(folder)
        if wanted not in self.files.folders:
            raise _missing(folder)
        return [
            RemoteFile(
                folder=folder,
                name=posixpath.basename(path),
                size=len(data),
                modified=self.files.modified.get(path),
            )
            for path, data in self.files.files.items()
            if _parent(path) == wanted
        ]

    async def _kind(self, path: str) -> Kind | None:
        return self.files.kind(path)

    async def _make_folders(self, folder: str) -> None:
        self.files.make_folders(folder)

    async def _move(self, source: str, target: str) -> None:
        self.files.move(source, target, replace=False)

    async def _replace(self, source: str, target: str) -> None:
        self.files.move(source, target, replace=True)

    async def _remove(self, path: str) -> None:
        path = _normal(path)
        if path not in self.files.files:
            raise _missing(path)
        del self.files.files[path]
        self.files.modified.pop(path, None)

    async def _read(self, path: str, sink: Sink) -> None:
        path = _normal(path)
        if path not in self.files.files:
            raise _missing(path)
        data = self.files.files[path]
        name = posixpath.basename(path)
        failing = self.files.fail_reads.get(name, 0) > 0
        if failing:
            self.files.fail_reads[name] -= 1
        for start in range(0, len(data), self._chunk_size):
            if not await sink(data[start : start + self._chunk_size]):
                return
            if failing:  # after the first chunk, so that the download fails midway
                break
        if failing:
            raise ConnectionResetError(errno.ECONNRESET, "connection dropped (injected)")

    async def _write(self, path: str, chunks: AsyncIterable[bytes]) -> None:
        path = _normal(path)
        if _parent(path) not in self.files.folders:
            raise _missing(path)
        data = bytearray()
        async for chunk in chunks:
            data.extend(chunk)
        self.files.files[path] = bytes(data)
        self.files.modified[path] = datetime.now(UTC)
