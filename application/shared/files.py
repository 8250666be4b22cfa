"""What the application sees of files: remote entries, claims, and typed file errors.

Errors name the host, folder, file and position they are about, never a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RemoteFile:
    """A plain file in a remote folder (directories and links are never listed)."""

    folder: str
    name: str
    size: int | None = None
    modified: datetime | None = None

    @property
    def path(self) -> str:
        return f"{self.folder.rstrip('/')}/{self.name}"


@dataclass(frozen=True)
class ClaimedFile:
    """A file this process moved into ``{folder}/OLD/`` and now owns (rule I1)."""

    folder: str
    name: str
    claimed_path: str

    @property
    def original_path(self) -> str:
        return f"{self.folder.rstrip('/')}/{self.name}"


@dataclass
class FileError(Exception):
    """A file could not be moved, read or understood; says which and why."""

    where: str
    reason: str

    def __post_init__(self) -> None:
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class TransferError(FileError):
    """The file server refused or dropped an operation (after the adapter's own retries)."""


class HostKeyRefused(TransferError):
    """The SFTP server's host key is not the configured one; nothing was sent to it."""


class ArchiveRefused(FileError):
    """A publishing archive is unsafe or broken (absolute path, `..`, link, device, too big,
    truncated); nothing of it is used (rule I2)."""


@dataclass
class MalformedFile(FileError):
    """A publishing or request file cannot be parsed; ``position`` is the record number or the
    line where reading stopped (rules I2, R2)."""

    position: str = ""

    def __str__(self) -> str:
        at = f" at {self.position}" if self.position else ""
        return f"{self.where}{at}: {self.reason}"
