"""One rig per adapter for the contract suite: memory, a local directory, SFTP and FTP servers.

A rig opens adapters (each with its own connection, as two bridges would have) and seeds and
inspects the server's files directly, behind the adapters' backs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from adapters.transfer import (
    BaseFileTransfer,
    FtpFileTransfer,
    InMemoryFileTransfer,
    LocalFileTransfer,
    MemoryFiles,
    RetryPolicy,
    SftpFileTransfer,
)
from application.shared.connections import Secret
from tests.integration.files.servers import (
    PASSWORD,
    USER,
    Faults,
    SftpServer,
    ftp_server,
    sftp_server,
)

KINDS = ["memory", "local", "sftp", "ftp"]
SERVERS = ["sftp", "ftp"]
# Quick backoff: tests wait on retries, never on fixed sleeps.
FAST_RETRY = RetryPolicy(attempts=3, first_delay=0.01, max_delay=0.05)
SFTP_BLOCK = 16 * 1024  # small, so that a 1 MiB download takes many requests (anchors §3.1)
ITEMS = "/alma/01AAA_AB/items"


@dataclass
class Rig:
    """An adapter kind with its server, and direct access to the server's files."""

    kind: str
    root: Path  # the server's files on disk (unused by memory)
    local: Path  # where downloads go
    faults: Faults
    memory: MemoryFiles
    make: Callable[[], BaseFileTransfer]
    sftp: SftpServer | None = None
    ftp_port: int | None = None
    opened: list[BaseFileTransfer] = field(default_factory=list)

    def open(self) -> BaseFileTransfer:
        """A new adapter with its own connection; closed when the test ends."""
        adapter = self.make()
        self.opened.append(adapter)
        return adapter

    def _disk(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def put(self, path: str, data: bytes) -> None:
        if self.kind == "memory":
            self.memory.put(path, data)
        else:
            self._disk(path).parent.mkdir(parents=True, exist_ok=True)
            self._disk(path).write_bytes(data)

    def mkdir(self, path: str) -> None:
        if self.kind == "memory":
            self.memory.make_folders(path)
        else:
            self._disk(path).mkdir(parents=True, exist_ok=True)

    def read(self, path: str) -> bytes | None:
        if self.kind == "memory":
            return self.memory.files.get(path)
        disk = self._disk(path)
        return disk.read_bytes() if disk.is_file() else None

    def names(self, folder: str) -> list[str]:
        """Everything directly in ``folder`` on the server, folders and dotfiles included."""
        if self.kind == "memory":
            prefix = folder.rstrip("/") + "/"
            inside = {
                path[len(prefix) :].split("/")[0]
                for path in [*self.memory.files, *self.memory.folders]
                if path.startswith(prefix)
            }
            return sorted(inside)
        disk = self._disk(folder)
        return sorted(entry.name for entry in disk.iterdir()) if disk.is_dir() else []

    def fail_downloads(self, path: str, times: int) -> None:
        """The next ``times`` downloads of ``path`` (even once claimed) fail midway."""
        if self.kind == "memory":
            self.memory.fail_reads[Path(path).name] = times
        else:
            self.faults.failing_downloads[Path(path).name] = times

    async def close(self) -> None:
        for adapter in self.opened:
            await adapter.aclose()


@contextlib.asynccontextmanager
async def rig_for(kind: str, tmp_path: Path, retry: RetryPolicy = FAST_RETRY) -> AsyncIterator[Rig]:
    """A rig of ``kind`` over ``tmp_path/server``, its server running until the block ends."""
    root = tmp_path / "server"
    root.mkdir()
    faults = Faults()
    memory = MemoryFiles()
    local = tmp_path / "local"
    secret = Secret(PASSWORD)
    async with contextlib.AsyncExitStack() as stack:
        if kind == "memory":
            rig = Rig(
                kind,
                root,
                local,
                faults,
                memory,
                lambda: InMemoryFileTransfer(memory, retry=retry, chunk_size=64 * 1024),
            )
        elif kind == "local":
            rig = Rig(kind, root, local, faults, memory, lambda: LocalFileTransfer(root))
        elif kind == "sftp":
            server = await stack.enter_async_context(sftp_server(root, faults))
            known_hosts = tmp_path / "known_hosts"
            known_hosts.write_text(server.known_hosts_line())

            def sftp() -> BaseFileTransfer:
                return SftpFileTransfer(
                    "127.0.0.1",
                    port=server.port,
                    user=USER,
                    password=secret,
                    known_hosts=known_hosts,
                    block_size=SFTP_BLOCK,
                    timeout=10,
                    retry=retry,
                )

            rig = Rig(kind, root, local, faults, memory, sftp, sftp=server)
        elif kind == "ftp":
            port = await stack.enter_async_context(ftp_server(root, faults))

            def ftp() -> BaseFileTransfer:
                return FtpFileTransfer(
                    "127.0.0.1",
                    port=port,
                    user=USER,
                    password=secret,
                    timeout=10,
                    chunk_size=64 * 1024,
                    retry=retry,
                )

            rig = Rig(kind, root, local, faults, memory, ftp, ftp_port=port)
        else:
            raise ValueError(kind)
        try:
            yield rig
        finally:
            await rig.close()


@pytest.fixture(params=KINDS)
async def rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    """Each adapter in turn, over an empty server."""
    async with rig_for(request.param, tmp_path) as value:
        yield value


@pytest.fixture(params=SERVERS)
async def server_rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    """The adapters that talk to a real server over a connection: SFTP and FTP."""
    async with rig_for(request.param, tmp_path) as value:
        yield value


@pytest.fixture
async def transfer(rig: Rig) -> BaseFileTransfer:
    """An adapter of the rig."""
    return rig.open()
