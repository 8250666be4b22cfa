"""The machine's own folders of generated files, as the `cleanup` run sees them (rule B8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

__all__ = ["LocalFile", "LocalFiles"]


@dataclass(frozen=True)
class LocalFile:
    """A regular file under a folder: its path, last modification (aware UTC) and size."""

    path: str
    modified: datetime
    size: int


class LocalFiles(Protocol):
    """Lists and removes generated files (caches, logs, loader files, reports) on this machine.

    Failures raise OSError (its `strerror` and file name say why); symbolic links are neither
    followed nor listed, so a cleanup never reaches outside its folders.
    """

    async def is_folder(self, folder: str) -> bool:
        """Whether `folder` exists and is a folder."""
        ...

    async def files_under(self, folder: str) -> list[LocalFile]:
        """Every regular file in `folder` and its sub-folders, by path."""
        ...

    async def remove(self, path: str) -> None:
        """Remove one file; FileNotFoundError when it is already gone."""
        ...
