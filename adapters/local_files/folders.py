"""`LocalFiles` on the operating system's file system (rule B8)."""

from __future__ import annotations

import asyncio
import os
import stat
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from application.ports.local_files import LocalFile, LocalFiles


class LocalFolders:
    """Lists and removes files on this machine; blocking calls run in a worker thread."""

    async def is_folder(self, folder: str) -> bool:
        """Whether `folder` exists and is a folder (a symbolic link to one is not)."""
        return await asyncio.to_thread(_is_folder, folder)

    async def files_under(self, folder: str) -> list[LocalFile]:
        """Every regular file in `folder` and its sub-folders, by path; links not followed."""
        return await asyncio.to_thread(_files_under, folder)

    async def remove(self, path: str) -> None:
        """Remove one file; FileNotFoundError when it is already gone."""
        await asyncio.to_thread(os.remove, path)


def _is_folder(folder: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(folder).st_mode)
    except FileNotFoundError:
        return False


def _files_under(folder: str) -> list[LocalFile]:
    found: list[LocalFile] = []

    def refuse(error: OSError) -> None:
        # An unreadable sub-folder is the caller's failure to record, not a silent gap.
        raise error

    for directory, _folders, names in os.walk(folder, onerror=refuse, followlinks=False):
        for name in names:
            path = os.path.join(directory, name)
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue  # removed meanwhile: nothing left to clean
            if stat.S_ISREG(info.st_mode):
                modified = datetime.fromtimestamp(info.st_mtime, UTC)
                found.append(LocalFile(path=path, modified=modified, size=info.st_size))
    return sorted(found, key=lambda file: file.path)


if TYPE_CHECKING:

    def _satisfies_the_port(folders: LocalFolders) -> LocalFiles:
        return folders
