"""FTP over aioftp, passive mode: ``FtpFileTransfer``.

aioftp's client carries one command at a time on its control connection and is not safe for
concurrent use, so tasks lease clients from a small pool (one by default: one connection per
batch, as the server sees it). A client whose control connection may be out of step after a
failure (anything but a clean status reply) is closed rather than returned to the pool.

FTP reports most refusals as a bare ``550``, so claims read the outcome of a failed rename off
the server (see :mod:`adapters.transfer.base`). Replies with 4xx codes are transient and retried.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from datetime import UTC, datetime
from functools import partial

import aioftp

from adapters.transfer.base import DEFAULT_CHUNK_SIZE, BaseFileTransfer, Kind, Sink
from adapters.transfer.connections import ConnectionPool
from adapters.transfer.errors import LoginRefused, RemoteNotFound
from adapters.transfer.retry import Failure, RetryPolicy
from application.shared.connections import Secret
from application.shared.files import RemoteFile

__all__ = ["FtpFileTransfer"]


class _StoppedEarly(Exception):
    """The sink wanted no more bytes; the transfer is cut off and its client dropped."""


class FtpFileTransfer(BaseFileTransfer):
    """The port over one FTP server."""

    def __init__(
        self,
        host: str,
        *,
        port: int = aioftp.DEFAULT_PORT,
        user: str,
        password: Secret,
        timeout: float = 30.0,
        connections: int = 1,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            retry=retry or RetryPolicy(), secret=password.reveal() or None, chunk_size=chunk_size
        )
        self._host = host
        self._port = port
        self._user = user
        self._password = password
        self._timeout = timeout
        self._pool: ConnectionPool[aioftp.Client] = ConnectionPool(
            connections, self._connect, _close, _breaks_client
        )

    def where(self, path: str) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        # A relative path is relative to the login folder (RFC 1738); /~/ makes that visible.
        shown = path if not path or path.startswith("/") else f"/~/{path}"
        return f"ftp://{self._user}@{host}:{self._port}{shown}"

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def _connect(self) -> aioftp.Client:
        client = aioftp.Client(socket_timeout=self._timeout, connection_timeout=self._timeout)
        try:
            await client.connect(self._host, self._port)
            await client.login(self._user, self._password.reveal())
        except BaseException:
            client.close()
            raise
        return client

    def _failure(self, exc: Exception) -> Failure | None:
        if isinstance(exc, aioftp.StatusCodeError):
            answer = _answer(exc)
            codes = [str(code) for code in exc.received_codes]
            if "530" in codes:
                return Failure(False, f"login refused ({answer})", LoginRefused)
            if "550" in codes:
                # 550 is also "permission denied" on many servers; both mean "not for us".
                return Failure(
                    False,
                    f"no such file or folder ({answer})",
                    partial(RemoteNotFound, answer=answer),
                )
            transient = any(code.startswith("4") for code in codes)
            return Failure(transient, f"the server answered {answer}")
        if isinstance(exc, TimeoutError):
            return Failure(True, f"no answer within {self._timeout:g} s")
        if isinstance(exc, ConnectionResetError) and not str(exc):
            return Failure(True, "connection closed by the server")
        if isinstance(exc, OSError | EOFError):
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return Failure(True, f"connection failed: {reason or type(exc).__name__}")
        if isinstance(exc, aioftp.AIOFTPException):
            return Failure(False, f"{type(exc).__name__}: {exc}")
        return None

    # -- primitives ----------------------------------------------------------------------------

    async def _entries(self, folder: str) -> list[RemoteFile]:
        async with self._pool.lease() as client:
            listing = await client.list(folder)
        return [
            RemoteFile(
                folder=folder,
                name=path.name,
                size=_size(info.get("size")),
                modified=_modified(info.get("modify")),
            )
            for path, info in listing
            if info.get("type") == "file"
        ]

    async def _kind(self, path: str) -> Kind | None:
        async with self._pool.lease() as client:
            try:
                info = await client.stat(path)
            except aioftp.StatusCodeError as exc:
                if any(str(code) == "550" for code in exc.received_codes):
                    return None
                raise
        kind = info.get("type")
        if kind == "file":
            return "file"
        return "folder" if kind in ("dir", "cdir", "pdir") else "other"

    async def _make_folders(self, folder: str) -> None:
        async with self._pool.lease() as client:
            try:
                await client.make_directory(folder)
            except aioftp.StatusCodeError:
                # Another claimer created a folder between aioftp's check and its MKD: check
                # again, which skips what exists now.
                await client.make_directory(folder)

    async def _move(self, source: str, target: str) -> None:
        async with self._pool.lease() as client:
            await client.rename(source, target)

    async def _replace(self, source: str, target: str) -> None:
        # FTP has no atomic replace; the upload is complete before the old file goes.
        async with self._pool.lease() as client:
            if await client.exists(target):
                await client.remove_file(target)
            await client.rename(source, target)

    async def _remove(self, path: str) -> None:
        async with self._pool.lease() as client:
            await client.remove_file(path)

    async def _read(self, path: str, sink: Sink) -> None:
        try:
            async with self._pool.lease() as client, client.download_stream(path) as stream:
                async for block in stream.iter_by_block(self._chunk_size):
                    if not await sink(block):
                        # Leaving the stream unfinished leaves the reply unread: the client is
                        # dropped (see _breaks_client), the cheapest way to abort.
                        raise _StoppedEarly
        except _StoppedEarly:
            return

    async def _write(self, path: str, chunks: AsyncIterable[bytes]) -> None:
        async with self._pool.lease() as client, client.upload_stream(path) as stream:
            async for chunk in chunks:
                await stream.write(chunk)


def _answer(exc: aioftp.StatusCodeError) -> str:
    info = exc.info if isinstance(exc.info, str) else " ".join(exc.info)
    codes = ", ".join(str(code) for code in exc.received_codes)
    return f"{codes} {info.strip()}".strip()


def _size(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _modified(value: object) -> datetime | None:
    # MLSD's modify fact: YYYYMMDDHHMMSS[.sss], in UTC (RFC 3659).
    try:
        return datetime.strptime(str(value)[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _breaks_client(exc: BaseException) -> bool:
    """Whether the control connection may be out of step: anything but a status reply."""
    return not isinstance(exc, aioftp.StatusCodeError)


async def _close(client: aioftp.Client) -> None:
    client.close()
