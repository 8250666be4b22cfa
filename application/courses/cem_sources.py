"""Where the day's CEM file comes from (rule L1): the configured remote folder and glob, or the
file named by ``--cem``. The remote's file stays where it is; a copy is read.
"""

from __future__ import annotations

import asyncio
import fnmatch
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from application.courses.ports import CemInput, CemMissing
from application.ports.transfer import FileTransfer
from application.shared.files import TransferError

__all__ = ["LocalCemSource", "RemoteCemSource", "day_pattern"]

DAY_PLACEHOLDER = "{YYYYMMDD}"


def day_pattern(pattern: str, day: date) -> str:
    """The glob of one day: ``leganto_export_{YYYYMMDD}*`` -> ``leganto_export_20261206*``."""
    return pattern.replace(DAY_PLACEHOLDER, f"{day:%Y%m%d}")


class LocalCemSource:
    """``--cem FILE``: that file, whatever the day."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def description(self) -> str:
        return f"--cem {self._path}"

    async def fetch(self, day: date, name: str | None = None) -> CemInput:
        if name is not None and name != self._path.name:
            raise CemMissing(f"--cem {self._path} is not {name}, the file of the run resumed")
        try:
            content = await asyncio.to_thread(self._path.read_bytes)
        except FileNotFoundError:
            raise CemMissing(f"--cem {self._path}: no such file") from None
        except OSError as error:
            raise CemMissing(f"--cem {self._path} cannot be read ({error.strerror})") from None
        return CemInput(self._path.name, content)


class RemoteCemSource:
    """The newest file by name in ``folder`` whose name matches ``pattern`` for the day (L1)."""

    def __init__(
        self,
        connect: Callable[[], FileTransfer],
        folder: str,
        pattern: str,
        reference: str,
    ) -> None:
        self._connect = connect
        self._folder = folder.rstrip("/") or "/"
        self._pattern = pattern
        self._reference = reference

    @property
    def description(self) -> str:
        return self._reference

    async def fetch(self, day: date, name: str | None = None) -> CemInput:
        wanted = day_pattern(self._pattern, day) if name is None else name
        transfer = self._connect()
        try:
            listed = await transfer.list_files(self._folder)
            names = sorted(f.name for f in listed if fnmatch.fnmatchcase(f.name, wanted))
            if name is not None and name not in names:
                raise CemMissing(
                    f"{name}, the CEM file of the run resumed, is no longer in {self._folder} "
                    f"of {self._reference}"
                )
            if not names:
                raise CemMissing(
                    f"no CEM file for {day:%Y-%m-%d} in {self._reference}: nothing matches "
                    f"{wanted} in {self._folder}"
                )
            name = names[-1]
            content = await _download(transfer, f"{self._folder.rstrip('/')}/{name}")
        except TransferError as error:
            raise CemMissing(
                f"the CEM file for {day:%Y-%m-%d} cannot be fetched from {self._reference}: {error}"
            ) from None
        finally:
            await transfer.aclose()
        return CemInput(name, content)


async def _download(transfer: FileTransfer, remote_path: str) -> bytes:
    folder = await asyncio.to_thread(tempfile.mkdtemp, prefix="almabridge-cem-")
    local = Path(folder) / "cem.csv"
    try:
        await transfer.download(remote_path, local)
        return await asyncio.to_thread(local.read_bytes)
    finally:
        await asyncio.to_thread(_remove, Path(folder))


def _remove(folder: Path) -> None:
    for child in folder.iterdir():
        child.unlink(missing_ok=True)
    folder.rmdir()
