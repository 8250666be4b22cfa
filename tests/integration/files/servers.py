"""Real file servers for the contract suite, in-process on 127.0.0.1 random ports.

Recipes from ``anchors-style-reliability.md`` §3.1–3.2: an asyncssh SFTP server chrooted to a
directory, and an aioftp server over the same kind of directory. Both take a :class:`Faults`
that a test arms to make downloads fail midway or listings drop the connection, and both count
the connections they accept.
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioftp
import asyncssh

USER = "alma"
# Distinctive, so that a test scanning errors and logs for it cannot match by accident.
PASSWORD = "Pa55-w0rd-NEVER-shown-7f3c"


@dataclass
class Faults:
    """Failures a test arms; each counter is used up as its failure fires."""

    # Downloads of a file (by name) that fail once this many bytes were served, how many times.
    failing_downloads: dict[str, int] = field(default_factory=dict)
    fail_at: int = 600 * 1024
    # Whether such a failure drops the whole connection instead of answering with an error.
    drop_connection: bool = False
    # How many directory listings drop the whole connection.
    dropped_listings: int = 0
    # What happened, for assertions.
    connections: int = 0
    logins: int = 0  # password checks on the SFTP server
    listings_dropped: int = 0
    bytes_served_before_failure: int = 0
    doomed: set[Any] = field(default_factory=set)

    def doom(self, file: Any, path: str) -> None:
        name = posixpath.basename(path)
        if self.failing_downloads.get(name, 0) > 0:
            self.failing_downloads[name] -= 1
            self.doomed.add(file)

    def take_dropped_listing(self) -> bool:
        if self.dropped_listings <= 0:
            return False
        self.dropped_listings -= 1
        self.listings_dropped += 1
        return True


# -- SFTP ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SftpServer:
    port: int
    host_key: asyncssh.SSHKey

    def known_hosts_line(self, key: asyncssh.SSHKey | None = None) -> str:
        public = (key or self.host_key).export_public_key().decode().strip()
        return f"[127.0.0.1]:{self.port} {public}\n"


@contextlib.asynccontextmanager
async def sftp_server(root: Path, faults: Faults) -> AsyncIterator[SftpServer]:
    """An SFTP server on 127.0.0.1 serving ``root`` as ``/`` to USER/PASSWORD."""

    class PasswordServer(asyncssh.SSHServer):
        def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
            faults.connections += 1

        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            faults.logins += 1
            return (username, password) == (USER, PASSWORD)

    class FaultySftp(asyncssh.SFTPServer):
        def __init__(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
            super().__init__(chan, chroot=str(root).encode())

        def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
            file = super().open(path, pflags, attrs)
            if pflags & asyncssh.FXF_READ:
                faults.doom(file, path.decode())
            return file

        def read(self, file_obj: object, offset: int, size: int) -> bytes:
            if file_obj in faults.doomed and offset + size > faults.fail_at:
                if faults.drop_connection:
                    self.channel.get_connection().abort()
                raise asyncssh.SFTPFailure("read failed (injected)")
            data = super().read(file_obj, offset, size)
            assert isinstance(data, bytes)
            if file_obj in faults.doomed:
                faults.bytes_served_before_failure += len(data)
            return data

        async def scandir(self, path: bytes) -> AsyncIterator[asyncssh.SFTPName]:
            if faults.take_dropped_listing():
                # As a network cut would: the whole SSH connection goes, mid-request.
                self.channel.get_connection().abort()
                raise asyncssh.SFTPFailure("connection dropped (injected)")
            async for name in super().scandir(path):
                yield name

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        server_factory=PasswordServer,
        sftp_factory=FaultySftp,
    )
    try:
        yield SftpServer(acceptor.get_port(), host_key)
    finally:
        acceptor.close()
        await acceptor.wait_closed()


# -- FTP ----------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def ftp_server(root: Path, faults: Faults, *, block_size: int = 8192) -> AsyncIterator[int]:
    """An FTP server on 127.0.0.1 serving ``root`` as ``/`` to USER/PASSWORD; yields its port."""

    class FaultyPathIO(aioftp.PathIO):
        def list(self, path: Path) -> Any:
            if faults.take_dropped_listing():
                # Not a PathIOError, so aioftp drops the whole connection instead of replying.
                raise ConnectionAbortedError("connection dropped (injected)")
            return super().list(path)

        async def _open(self, path: Path, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
            file = await super()._open(path, mode, *args, **kwargs)  # type: ignore[arg-type]
            if "r" in mode:
                faults.doom(file, str(path))
            return file

        async def read(self, file: Any, n: int = -1) -> bytes:
            if file in faults.doomed and file.tell() >= faults.fail_at:
                if faults.drop_connection:
                    raise ConnectionAbortedError("connection dropped (injected)")
                # aioftp answers 451 and closes the data connection: a transfer cut midway.
                raise aioftp.PathIOError(reason=None)
            data = await super().read(file, n)
            if file in faults.doomed:
                faults.bytes_served_before_failure += len(data)
            return data

    class CountingServer(aioftp.Server):
        async def dispatcher(self, reader: Any, writer: Any) -> None:
            faults.connections += 1
            await super().dispatcher(reader, writer)

    server = CountingServer(
        [aioftp.User(USER, PASSWORD, base_path=root, home_path="/")],
        path_io_factory=FaultyPathIO,
        block_size=block_size,
    )
    await server.start(host="127.0.0.1", port=0)
    try:
        yield server.server_port
    finally:
        await server.close()
