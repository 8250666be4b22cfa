"""The file server: listing, fetching, claiming and putting files."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from application.shared.files import ClaimedFile, RemoteFile


class FileTransfer(Protocol):
    """The folder where Alma drops files and the bridge claims them (rules I1, R1).

    Paths are POSIX paths on the server. Failures raise `TransferError` (host and path named,
    never a password); transient ones are retried by the adapter first.
    """

    async def list_files(self, folder: str) -> list[RemoteFile]:
        """Plain files directly in `folder`, by name; `OLD/` and other folders are not listed."""
        ...

    async def claim(self, file: RemoteFile) -> ClaimedFile | None:
        """Atomically move the file into `{folder}/OLD/` (created when missing).

        None when another claimer moved it first: of two concurrent claimers exactly one wins.
        """
        ...

    async def download(self, remote_path: str, local_path: Path) -> int:
        """Stream a remote file into a local path; returns the bytes written."""
        ...

    async def put_back(self, claimed: ClaimedFile) -> None:
        """Undo a claim: move the file from `OLD/` back where it was (e.g. a failed download)."""
        ...

    async def upload(self, local_path: Path, remote_path: str) -> None:
        """Upload under a temporary name, then rename, so readers never see half a file."""
        ...

    async def rename(self, source: str, target: str) -> None:
        """Rename or move a remote file."""
        ...

    async def delete(self, remote_path: str) -> None:
        """Delete a remote file."""
        ...

    async def make_folders(self, folder: str) -> None:
        """Create a folder and its parents; no error when it exists."""
        ...

    async def aclose(self) -> None:
        """Close the connection this adapter reuses within a batch."""
        ...
