"""SFTP over asyncssh: ``SftpFileTransfer``.

The server's host key must be in the configured known_hosts file or match the configured
``SHA256:`` fingerprint; any other key is refused with :class:`HostKeyRefused`, naming the host
and the fingerprint it offered, before the password is sent (the Java app accepted every key).
With neither configured every key is refused, and the error shows the fingerprint to pin.

One SSH connection with one SFTP session serves every task of the adapter: SFTP requests carry
ids, so concurrent requests are safe. A connection that breaks is dropped and the next request
reconnects. Plain SFTP ``rename`` never overwrites, which claims rely on.
"""

from __future__ import annotations

import asyncio
import stat
from collections.abc import AsyncIterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncssh

from adapters.transfer.base import BaseFileTransfer, Kind, Sink
from adapters.transfer.connections import SharedConnection
from adapters.transfer.errors import LoginRefused, RemoteNotFound
from adapters.transfer.retry import Failure, RetryPolicy
from application.shared.connections import Secret
from application.shared.files import HostKeyRefused, RemoteFile

__all__ = ["DEFAULT_BLOCK_SIZE", "SftpFileTransfer"]

# Bytes per SFTP read or write request.
DEFAULT_BLOCK_SIZE = 64 * 1024
_CLOSE_TIMEOUT = 5.0


@dataclass(frozen=True)
class _Session:
    connection: asyncssh.SSHClientConnection
    sftp: asyncssh.SFTPClient


class _HostKeyCheck(asyncssh.SSHClient):
    """Called by asyncssh for a host key not in known_hosts: accept it only if it is the pin."""

    def __init__(self, pin: str | None) -> None:
        self._pin = pin
        self.offered: asyncssh.SSHKey | None = None

    def validate_host_public_key(
        self, host: str, addr: str, port: int, key: asyncssh.SSHKey
    ) -> bool:
        self.offered = key
        return self._pin is not None and key.get_fingerprint("sha256") == self._pin


class SftpFileTransfer(BaseFileTransfer):
    """The port over one SFTP server."""

    def __init__(
        self,
        host: str,
        *,
        port: int = 22,
        user: str | None,
        password: Secret,
        known_hosts: str | Path | None = None,
        host_key_fingerprint: str | None = None,
        timeout: float = 30.0,
        block_size: int = DEFAULT_BLOCK_SIZE,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            retry=retry or RetryPolicy(),
            secret=password.reveal() or None,
            # Each read asks for four blocks at once; asyncssh sends them as parallel requests.
            chunk_size=block_size * 4,
        )
        self._host = host
        self._port = port
        self._user = user
        self._password = password
        self._known_hosts = str(known_hosts) if known_hosts else None
        # ssh-keygen prints no base64 padding; a pasted one with padding means the same key.
        self._pin = host_key_fingerprint.strip().rstrip("=") if host_key_fingerprint else None
        self._timeout = timeout
        self._block_size = block_size
        self._session = SharedConnection(self._connect, _close, _breaks_session)

    def where(self, path: str) -> str:
        user = f"{self._user}@" if self._user else ""
        host = f"[{self._host}]" if ":" in self._host else self._host
        # A relative path is relative to the login folder, written /~/ as in the sftp URI draft.
        shown = path if not path or path.startswith("/") else f"/~/{path}"
        return f"sftp://{user}{host}:{self._port}{shown}"

    async def aclose(self) -> None:
        await self._session.aclose()

    # -- connecting ----------------------------------------------------------------------------

    async def _trusted(self) -> asyncssh.SSHKnownHosts | tuple[list[str], list[str], list[str]]:
        if self._known_hosts is None:
            # Trust nothing up front (an empty tuple would mean ~/.ssh/known_hosts): every key
            # goes to _HostKeyCheck, which accepts only the pin.
            return ([], [], [])
        try:
            return await asyncio.to_thread(asyncssh.read_known_hosts, self._known_hosts)
        except (OSError, ValueError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise HostKeyRefused(
                self.where(""),
                f"cannot read the known_hosts file {self._known_hosts}: {detail}; "
                "refusing to connect without it",
            ) from None

    async def _connect(self) -> _Session:
        trusted = await self._trusted()
        checks: list[_HostKeyCheck] = []

        def client() -> _HostKeyCheck:
            checks.append(_HostKeyCheck(self._pin))
            return checks[-1]

        try:
            connection = await asyncssh.connect(
                self._host,
                self._port,
                username=self._user,
                password=self._password.reveal(),
                known_hosts=trusted,
                client_factory=client,
                # Password only: no keys, agent or ~/.ssh/config of whoever runs the bridge.
                client_keys=None,
                config=None,
                connect_timeout=self._timeout,
                login_timeout=self._timeout,
                keepalive_interval=self._timeout / 2,
                keepalive_count_max=2,
            )
        except asyncssh.HostKeyNotVerifiable as exc:
            offered = checks[-1].offered if checks else None
            raise HostKeyRefused(self.where(""), self._refusal(offered, exc.reason)) from None
        try:
            sftp = await connection.start_sftp_client()
        except BaseException:
            connection.abort()
            raise
        return _Session(connection, sftp)

    def _refusal(self, offered: asyncssh.SSHKey | None, detail: str) -> str:
        if offered is None:
            return f"host key is not trusted ({detail}); refusing to connect"
        because = []
        if self._known_hosts:
            because.append(f"is not in {self._known_hosts}")
        if self._pin:
            because.append(f"does not match host_key_fingerprint {self._pin}")
        if not because:
            because.append("cannot be checked: set known_hosts or host_key_fingerprint")
        return (
            f"host key is not trusted: {self._host}:{self._port} offered "
            f"{offered.get_algorithm()} {offered.get_fingerprint('sha256')}, which "
            f"{' and '.join(because)}; refusing to connect (unknown host keys are never accepted)"
        )

    # -- failures ------------------------------------------------------------------------------

    def _failure(self, exc: Exception) -> Failure | None:
        if isinstance(exc, asyncssh.SFTPNoSuchFile):
            return Failure(False, "no such file or folder", RemoteNotFound)
        if isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
            return Failure(True, f"connection lost: {exc.reason}")
        if isinstance(exc, asyncssh.SFTPFailure):
            # SFTP's catch-all status: a server-side read or write error, often passing.
            return Failure(True, f"the server failed: {exc.reason}")
        if isinstance(exc, asyncssh.SFTPError):
            return Failure(False, exc.reason)
        if isinstance(exc, asyncssh.PermissionDenied):
            return Failure(False, "login refused (user or password wrong)", LoginRefused)
        if isinstance(exc, asyncssh.ConnectionLost | asyncssh.ServiceNotAvailable):
            return Failure(True, f"connection lost: {exc.reason}")
        if isinstance(exc, asyncssh.ChannelOpenError):
            return Failure(True, f"cannot open the SFTP channel: {exc.reason}")
        if isinstance(exc, asyncssh.DisconnectError):
            return Failure(False, exc.reason)
        if isinstance(exc, TimeoutError):
            return Failure(True, f"no answer within {self._timeout:g} s")
        if isinstance(exc, OSError | EOFError):
            return Failure(True, f"connection failed: {_os_reason(exc)}")
        return None

    # -- primitives ----------------------------------------------------------------------------

    async def _entries(self, folder: str) -> list[RemoteFile]:
        async with self._session.lease() as session, asyncio.timeout(self._timeout):
            names = await session.sftp.readdir(folder)
        return [
            RemoteFile(
                folder=folder,
                name=str(name.filename),
                size=name.attrs.size,
                modified=_time(name.attrs.mtime),
            )
            for name in names
            if _kind_of(name.attrs) == "file"
        ]

    async def _kind(self, path: str) -> Kind | None:
        async with self._session.lease() as session, asyncio.timeout(self._timeout):
            try:
                attrs = await session.sftp.lstat(path)
            except asyncssh.SFTPNoSuchFile:
                return None
        return _kind_of(attrs)

    async def _make_folders(self, folder: str) -> None:
        async with self._session.lease() as session, asyncio.timeout(self._timeout):
            await session.sftp.makedirs(folder, exist_ok=True)

    async def _move(self, source: str, target: str) -> None:
        async with self._session.lease() as session, asyncio.timeout(self._timeout):
            await session.sftp.rename(source, target)

    async def _replace(self, source: str, target: str) -> None:
        async with self._session.lease() as session, asyncio.timeout(self._timeout):
            try:
                await session.sftp.posix_rename(source, target)
            except asyncssh.SFTPOpUnsupported:
                # Servers without the OpenSSH extension: not atomic, but the upload is complete.
                if await session.sftp.exists(target):
                    await session.sftp.remove(target)
                await session.sftp.rename(source, target)

    async def _remove(self, path: str) -> None:
        async with self._session.lease() as session, asyncio.timeout(self._timeout):
            await session.sftp.remove(path)

    async def _read(self, path: str, sink: Sink) -> None:
        async with self._session.lease() as session:
            async with asyncio.timeout(self._timeout):
                file = await session.sftp.open(path, "rb", block_size=self._block_size)
            try:
                while True:
                    async with asyncio.timeout(self._timeout):
                        chunk = await file.read(self._chunk_size)
                    if not chunk or not await sink(_bytes(chunk)):
                        return
            finally:
                await _close_quietly(file)

    async def _write(self, path: str, chunks: AsyncIterable[bytes]) -> None:
        async with self._session.lease() as session:
            async with asyncio.timeout(self._timeout):
                file = await session.sftp.open(path, "wb", block_size=self._block_size)
            try:
                async for chunk in chunks:
                    async with asyncio.timeout(self._timeout):
                        await file.write(chunk)
            except BaseException:
                await _close_quietly(file)
                raise
            async with asyncio.timeout(self._timeout):
                await file.close()


def _kind_of(attrs: asyncssh.SFTPAttrs) -> Kind:
    mode = attrs.permissions
    if mode is not None:
        if stat.S_ISREG(mode):
            return "file"
        return "folder" if stat.S_ISDIR(mode) else "other"
    if attrs.type == asyncssh.FILEXFER_TYPE_REGULAR:
        return "file"
    return "folder" if attrs.type == asyncssh.FILEXFER_TYPE_DIRECTORY else "other"


def _time(mtime: int | float | None) -> datetime | None:
    return None if mtime is None else datetime.fromtimestamp(mtime, UTC)


def _bytes(chunk: str | bytes) -> bytes:
    # Files are opened "rb", so asyncssh hands back bytes; this narrows its AnyStr for mypy.
    return chunk if isinstance(chunk, bytes) else chunk.encode()


def _os_reason(exc: OSError | EOFError) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _breaks_session(exc: BaseException) -> bool:
    """Whether the SSH connection is unusable after ``exc`` (an SFTP status is not)."""
    if isinstance(exc, asyncssh.SFTPConnectionLost | asyncssh.SFTPNoConnection):
        return True
    if isinstance(exc, asyncssh.SFTPError):
        return False
    return isinstance(exc, asyncssh.Error | OSError | EOFError | asyncio.IncompleteReadError)


async def _close(session: _Session) -> None:
    session.sftp.exit()
    session.connection.close()
    # A dead peer never answers the close; do not let it hold the batch up.
    with suppress(TimeoutError):
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await session.connection.wait_closed()


async def _close_quietly(file: asyncssh.SFTPClientFile) -> None:
    with suppress(asyncssh.Error, OSError, TimeoutError):
        async with asyncio.timeout(_CLOSE_TIMEOUT):
            await file.close()
