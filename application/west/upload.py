"""The optional upload of the three WEST outputs to a configured remote folder (rules H5, B3).

Each file goes to a temporary name beside its final one and is then renamed over any file of the
same name (`FileTransfer.upload`), so WEST never sees half a file. One connection per upload,
closed after it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from application.ports.transfer import FileTransfer
from application.shared.files import TransferError

__all__ = ["OutputUpload", "RemoteFolderUpload", "UploadFailed"]


class UploadFailed(Exception):
    """The files could not all be uploaded; the message names the server path, never a
    password."""


class OutputUpload(Protocol):
    """Where a run's outputs are sent when the configuration says so (H5, B3)."""

    @property
    def target(self) -> str:
        """The configured reference, for messages: ``drop:west``."""
        ...

    async def upload(self, files: Sequence[Path]) -> None:
        """Send every file, each under its own name; `UploadFailed` when one cannot be."""
        ...


class RemoteFolderUpload:
    """Uploads into ``folder`` of a file server reached by ``connect()`` (SFTP, FTP, local)."""

    def __init__(self, connect: Callable[[], FileTransfer], folder: str, target: str) -> None:
        self._connect = connect
        self._folder = folder.rstrip("/") or "/"
        self._target = target

    @property
    def target(self) -> str:
        return self._target

    async def upload(self, files: Sequence[Path]) -> None:
        transfer = self._connect()
        try:
            await transfer.make_folders(self._folder)
            for path in files:
                await transfer.upload(path, f"{self._folder.rstrip('/')}/{path.name}")
        except TransferError as error:
            raise UploadFailed(str(error)) from None
        finally:
            await transfer.aclose()
