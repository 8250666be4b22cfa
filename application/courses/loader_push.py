"""The push of the loader file to the folder Alma's course loader reads (rule L7, B3).

Upstream put the file only when its name was not there and listed the folder afterwards; so do
we, through a temporary name and a rename (`FileTransfer.upload`), so the integration profile
never picks up half a file. A file of that name already there is never overwritten: the run is
failed, since nothing was delivered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from application.courses.ports import PushRefused
from application.ports.transfer import FileTransfer
from application.shared.files import TransferError

__all__ = ["RemoteLoaderPush"]

_LOADER_NAME = re.compile(r"(\d{14})\.txt\Z")


class RemoteLoaderPush:
    """Pushes into ``folder`` of the remote reached by ``connect()``; one connection a call."""

    def __init__(self, connect: Callable[[], FileTransfer], folder: str, target: str) -> None:
        self._connect = connect
        self._folder = folder.rstrip("/") or "/"
        self._target = target

    @property
    def target(self) -> str:
        return self._target

    async def push(self, path: Path) -> None:
        remote = f"{self._folder.rstrip('/')}/{path.name}"
        transfer = self._connect()
        try:
            await transfer.make_folders(self._folder)
            if path.name in await self._names(transfer):
                raise PushRefused(
                    f"{self._target} already holds {remote}; it was not overwritten, and this "
                    "run's loader file was not delivered"
                )
            await transfer.upload(path, remote)
            if path.name not in await self._names(transfer):
                raise PushRefused(
                    f"{remote} is not in the listing of {self._target} after the upload"
                )
        except TransferError as error:
            raise PushRefused(
                f"the loader file could not be pushed to {self._target}: {error}"
            ) from None
        finally:
            await transfer.aclose()

    async def last_push(self) -> datetime | None:
        transfer = self._connect()
        try:
            names = await self._names(transfer)
        except TransferError:
            return None
        finally:
            await transfer.aclose()
        stamps = sorted(m.group(1) for m in map(_LOADER_NAME.match, names) if m is not None)
        return datetime.strptime(stamps[-1], "%Y%m%d%H%M%S") if stamps else None

    async def _names(self, transfer: FileTransfer) -> set[str]:
        return {f.name for f in await transfer.list_files(self._folder)}
