"""What every adapter shares: claims, put-backs, streamed downloads, uploads, retries.

A protocol supplies a few primitives (list, stat, mkdir, move, replace, remove, read, write) and
says which of its exceptions are transient; this class turns them into the port's operations with
the same semantics on every server. Claims never overwrite: a target that exists is skipped for
``OLD/{name}.1``, ``.2``, …, and a move whose source is gone lost the race to another claimer.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, Awaitable, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Literal, TypeVar

from adapters.transfer.errors import RemoteNotFound
from adapters.transfer.local_io import PartFile, read_chunks
from adapters.transfer.paths import (
    CLAIM_FOLDER,
    MAX_CLAIMS_OF_ONE_NAME,
    claim_targets,
    is_listed,
    join,
    upload_temporary,
)
from adapters.transfer.retry import Failure, RetryPolicy, retrying
from application.shared.files import ClaimedFile, RemoteFile, TransferError

__all__ = ["DEFAULT_CHUNK_SIZE", "BaseFileTransfer", "Kind", "Sink"]

logger = logging.getLogger("adapters.transfer")
T = TypeVar("T")

Kind = Literal["file", "folder", "other"]
# Receives each chunk read; returns False to stop reading early.
Sink = Callable[[bytes], Awaitable[bool]]
DEFAULT_CHUNK_SIZE = 256 * 1024


class _Moved(enum.Enum):
    DONE = "done"
    SOURCE_GONE = "source gone"
    TARGET_TAKEN = "target taken"


class BaseFileTransfer(ABC):
    """The port's operations over a protocol's primitives (see the module docstring)."""

    def __init__(
        self,
        *,
        retry: RetryPolicy,
        secret: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        self._retry = retry
        # Scrubbed from every reason, in case a server echoes it back in an error message.
        self._secret = secret
        self._chunk_size = chunk_size

    # -- what a protocol provides --------------------------------------------------------------

    @abstractmethod
    def where(self, path: str) -> str:
        """``path`` as errors and logs show it, e.g. ``sftp://user@host:22/path`` (no password)."""

    @abstractmethod
    def _failure(self, exc: Exception) -> Failure | None:
        """Transient or not, and why; None for an exception that is no I/O failure (a bug)."""

    @abstractmethod
    async def _entries(self, folder: str) -> list[RemoteFile]:
        """The plain files directly in ``folder``, in any order (dotfiles may be included)."""

    @abstractmethod
    async def _kind(self, path: str) -> Kind | None:
        """What is at ``path`` (a link is ``other``), or None when nothing is."""

    @abstractmethod
    async def _make_folders(self, folder: str) -> None:
        """Create ``folder`` and its parents; no error when another task created them first."""

    @abstractmethod
    async def _move(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target`` (the caller checked that ``target`` is free)."""

    @abstractmethod
    async def _replace(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``, replacing a file at ``target``."""

    @abstractmethod
    async def _remove(self, path: str) -> None:
        """Delete the file at ``path``."""

    @abstractmethod
    async def _read(self, path: str, sink: Sink) -> None:
        """Stream the file at ``path`` into ``sink`` until its end or until ``sink`` says stop."""

    @abstractmethod
    async def _write(self, path: str, chunks: AsyncIterable[bytes]) -> None:
        """Create or truncate the file at ``path`` with ``chunks``."""

    async def aclose(self) -> None:  # noqa: B027 - local and memory have nothing to close
        """Close the connections this adapter reuses; using it again reconnects."""

    # -- the port ------------------------------------------------------------------------------

    async def list_files(self, folder: str) -> list[RemoteFile]:
        """Plain files directly in ``folder``, by name: no folders (``OLD``), links or dotfiles."""
        entries = await self._attempt("list", folder, lambda: self._entries(folder))
        return sorted((entry for entry in entries if is_listed(entry.name)), key=_by_name)

    async def claim(self, file: RemoteFile) -> ClaimedFile | None:
        """Move ``file`` into ``{folder}/OLD/``; None when another claimer moved it first."""
        old = join(file.folder, CLAIM_FOLDER)
        await self._attempt("create folder", old, lambda: self._make_folders(old))
        for target in claim_targets(file.folder, file.name):
            moved = await self._move_checked(file.path, target)
            if moved is _Moved.DONE:
                logger.info("%s: claimed as %s", self.where(file.path), target)
                return ClaimedFile(folder=file.folder, name=file.name, claimed_path=target)
            if moved is _Moved.SOURCE_GONE:
                logger.info("%s: claimed by another claimer first", self.where(file.path))
                return None
        raise TransferError(
            self.where(old),
            f"{MAX_CLAIMS_OF_ONE_NAME} files named {file.name} are claimed already; "
            "clear out old claims before claiming more",
        )

    async def put_back(self, claimed: ClaimedFile) -> None:
        """Move a claimed file back where it was; it stays claimed if a new one took its place."""
        moved = await self._move_checked(claimed.claimed_path, claimed.original_path)
        if moved is _Moved.SOURCE_GONE:
            raise RemoteNotFound(
                self.where(claimed.claimed_path), "the claimed file is gone: nothing to put back"
            )
        if moved is _Moved.TARGET_TAKEN:
            raise TransferError(
                self.where(claimed.original_path),
                f"a new file of this name arrived after the claim; the claimed one stays at "
                f"{claimed.claimed_path}",
            )
        logger.info("%s: put back", self.where(claimed.original_path))

    async def download(self, remote_path: str, local_path: Path) -> int:
        """Stream ``remote_path`` into ``local_path`` (via ``.part``); the bytes written."""
        return await self._attempt(
            "download", remote_path, lambda: self._download_once(remote_path, local_path)
        )

    async def upload(self, local_path: Path, remote_path: str) -> None:
        """Upload to ``.{name}.uploading`` beside ``remote_path``, then rename over it."""
        temporary = upload_temporary(remote_path)
        try:
            await self._attempt(
                "upload", temporary, lambda: self._upload_once(local_path, temporary)
            )
            await self._attempt(
                "rename", remote_path, lambda: self._replace(temporary, remote_path)
            )
        except TransferError:
            await self._remove_quietly(temporary)
            raise

    async def rename(self, source: str, target: str) -> None:
        """Rename ``source`` to ``target``; an existing ``target`` is never overwritten."""
        moved = await self._move_checked(source, target)
        if moved is _Moved.SOURCE_GONE:
            raise RemoteNotFound(self.where(source), "no such file")
        if moved is _Moved.TARGET_TAKEN:
            raise TransferError(self.where(target), "exists already; not overwritten")

    async def delete(self, remote_path: str) -> None:
        """Delete a remote file."""
        await self._attempt("delete", remote_path, lambda: self._remove(remote_path))

    async def make_folders(self, folder: str) -> None:
        """Create ``folder`` and its parents; no error when it exists."""
        await self._attempt("create folder", folder, lambda: self._make_folders(folder))

    # -- beyond the port -----------------------------------------------------------------------

    async def read_bytes(self, remote_path: str, *, limit: int) -> bytes:
        """A small remote file in memory (a conf.json), at most ``limit + 1`` bytes of it.

        A result longer than ``limit`` says the file is larger; reading stops there.
        """

        async def once() -> bytes:
            data = bytearray()

            async def collect(chunk: bytes) -> bool:
                data.extend(chunk)
                return len(data) <= limit

            await self._read(remote_path, collect)
            return bytes(data[: limit + 1])

        return await self._attempt("read", remote_path, once)

    # -- shared machinery ----------------------------------------------------------------------

    async def _attempt(self, what: str, path: str, attempt: Callable[[], Awaitable[T]]) -> T:
        return await retrying(
            attempt, policy=self._retry, describe=self._describe, where=self.where(path), what=what
        )

    def _describe(self, exc: Exception) -> Failure | None:
        failure = self._failure(exc)
        if failure is None or not self._secret or self._secret not in failure.reason:
            return failure
        return Failure(
            failure.transient, failure.reason.replace(self._secret, "***"), failure.error
        )

    async def _download_once(self, remote_path: str, local_path: Path) -> int:
        part = await PartFile.open(local_path)
        try:

            async def write(chunk: bytes) -> bool:
                await part.write(chunk)
                return True

            await self._read(remote_path, write)
        except BaseException:
            await part.discard()
            raise
        return await part.finish()

    async def _upload_once(self, local_path: Path, temporary: str) -> None:
        async with aclosing(read_chunks(local_path, self._chunk_size)) as chunks:
            await self._write(temporary, chunks)

    async def _kind_of(self, path: str) -> Kind | None:
        return await self._attempt("stat", path, lambda: self._kind(path))

    async def _move_checked(self, source: str, target: str) -> _Moved:
        """Move without overwriting, and say what happened when the move fails.

        Servers differ when a rename fails (SFTP says "no such file" or a bare "failure", FTP a
        550 for either side), so the outcome is read off the server afterwards: source gone means
        another claimer won; target present means pick another name. After a dropped connection
        the move may have happened before the drop; a file at the target then is ours.
        """
        for number in range(1, self._retry.attempts + 1):
            if await self._kind_of(target) is not None:
                return _Moved.TARGET_TAKEN
            try:
                await self._move(source, target)
            except TransferError:
                raise
            except Exception as exc:
                failure = self._describe(exc)
                if failure is None:
                    raise
                source_there = await self._kind_of(source) is not None
                target_there = await self._kind_of(target) is not None
                if not source_there:
                    if failure.transient and target_there:
                        logger.warning(
                            "%s: the connection failed while moving it to %s, where it now is; "
                            "taking it as moved by this claimer",
                            self.where(source),
                            target,
                        )
                        return _Moved.DONE
                    return _Moved.SOURCE_GONE
                if target_there:
                    return _Moved.TARGET_TAKEN
                if not failure.transient or number == self._retry.attempts:
                    raise failure.error(
                        self.where(source), f"cannot move it to {target}: {failure.reason}"
                    ) from None
                await asyncio.sleep(self._retry.delay(number))
                continue
            return _Moved.DONE
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _remove_quietly(self, path: str) -> None:
        """Best-effort cleanup of a temporary file after a failure that is reported anyway."""
        try:
            await self._remove(path)
        except Exception as exc:
            logger.debug("%s: not removed (%s)", self.where(path), type(exc).__name__)


def _by_name(file: RemoteFile) -> str:
    return file.name
