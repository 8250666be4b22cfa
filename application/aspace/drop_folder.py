"""The remote folder Alma's import profile "ASpace to Alma" reads (rules AS1, AS6, B3).

Alma's import is not idempotent: a file loaded twice makes every item twice. So the day's run
first moves yesterday's file out of the way (remove ``MARC_out_old.xml``, then rename
``MARC_out.xml`` onto it, each only when present), before ArchivesSpace is asked anything: a
run that fails later leaves Alma no stale file (parity). The new file goes up under a temporary
name and is renamed (`FileTransfer.upload`), so the profile never sees half of it. The Saturday
run only removes ``MARC_out.xml``. One connection per operation, closed after it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from application.ports.transfer import FileTransfer
from application.shared.files import TransferError

__all__ = ["MARC_OUT", "MARC_OUT_OLD", "DropFolder", "DropFolderFailed"]

MARC_OUT: Final = "MARC_out.xml"
MARC_OUT_OLD: Final = "MARC_out_old.xml"


class DropFolderFailed(Exception):
    """The remote folder could not be changed; one sentence naming the remote and the file."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class DropFolder:
    """``folder`` of the remote reached by ``connect()``, known to operators as ``target``."""

    def __init__(self, connect: Callable[[], FileTransfer], folder: str, target: str) -> None:
        self._connect = connect
        self._folder = folder.rstrip("/") or "/"
        self._target = target

    @property
    def target(self) -> str:
        return self._target

    def _path(self, name: str) -> str:
        return f"{self._folder.rstrip('/')}/{name}"

    async def rotate(self) -> tuple[str, ...]:
        """AS1: remove the old file, then rename the current one onto it; says what it did."""
        done: list[str] = []
        transfer = self._connect()
        try:
            # A folder not made yet holds nothing to rotate; the upload would make it anyway.
            await transfer.make_folders(self._folder)
            names = {f.name for f in await transfer.list_files(self._folder)}
            if MARC_OUT_OLD in names:
                await transfer.delete(self._path(MARC_OUT_OLD))
                done.append(f"removed {MARC_OUT_OLD}")
            if MARC_OUT in names:
                await transfer.rename(self._path(MARC_OUT), self._path(MARC_OUT_OLD))
                done.append(f"renamed {MARC_OUT} to {MARC_OUT_OLD}")
        except TransferError as error:
            raise DropFolderFailed(
                f"{self._target}: the old files could not be moved out of Alma's way ({error}); "
                "nothing was fetched from ArchivesSpace"
            ) from None
        finally:
            await transfer.aclose()
        return tuple(done)

    async def remove_current(self) -> bool:
        """The Saturday run: remove ``MARC_out.xml`` when present; whether it was."""
        transfer = self._connect()
        try:
            await transfer.make_folders(self._folder)
            names = {f.name for f in await transfer.list_files(self._folder)}
            if MARC_OUT not in names:
                return False
            await transfer.delete(self._path(MARC_OUT))
            return True
        except TransferError as error:
            raise DropFolderFailed(
                f"{self._target}: {MARC_OUT} could not be removed ({error})"
            ) from None
        finally:
            await transfer.aclose()

    async def upload(self, path: Path) -> None:
        """AS6: ``path`` goes up as ``MARC_out.xml`` through a temporary name and a rename."""
        transfer = self._connect()
        try:
            await transfer.make_folders(self._folder)
            await transfer.upload(path, self._path(MARC_OUT))
        except TransferError as error:
            raise DropFolderFailed(
                f"{self._target}: {MARC_OUT} could not be uploaded ({error}); the local copy "
                f"is {path}"
            ) from None
        finally:
            await transfer.aclose()
