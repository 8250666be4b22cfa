"""MMS ids from a file named on the command line (rule H1): ``--mrc`` (ISO 2709, UTF-8 or
MARC-8), ``--marcxml`` or ``--ids`` (one id a line), read and parsed by `adapters.marc` in a
worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

from adapters.marc.id_lists import IdSourceKind, mms_ids_from_bytes
from application.west.ports import IdInput, IdSourceMissing

__all__ = ["FLAG_KINDS", "FileIdSource"]

FLAG_KINDS: Final[dict[str, IdSourceKind]] = {
    "--mrc": "iso2709",
    "--marcxml": "marcxml",
    "--ids": "list",
}
"""Each file flag of `almabridge run west-holdings` and the kind of file it names."""


class FileIdSource:
    """One id file, of the kind its flag names."""

    def __init__(self, path: Path, flag: str) -> None:
        if flag not in FLAG_KINDS:
            raise ValueError(f"{flag} is not one of {', '.join(FLAG_KINDS)}")
        self._path = path
        self._flag = flag

    @property
    def description(self) -> str:
        return f"{self._flag} {self._path}"

    async def read(self) -> IdInput:
        """The file's entries; `IdSourceMissing` when it cannot be read (B2)."""
        try:
            data = await asyncio.to_thread(self._path.read_bytes)
        except FileNotFoundError:
            raise IdSourceMissing(f"{self.description}: the file does not exist") from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise IdSourceMissing(f"{self.description}: cannot be read ({reason})") from None
        entries = await asyncio.to_thread(mms_ids_from_bytes, data, FLAG_KINDS[self._flag])
        return IdInput(self._path.name, data, entries)
