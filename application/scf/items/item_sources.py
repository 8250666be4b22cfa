"""Where an items sync gets its files: claimed through `FileBatches`, or only looked at (I1).

A real sync claims every new file (moved into `OLD/`, recorded in the ledger) and resumes files a
crash left unfinished, in claim order, which is name order for new files. A dry run must change
nothing, so it claims nothing: it lists the folder, adds the claimed-but-unfinished files the
ledger knows (a read), and downloads each into a scratch folder that is removed afterwards.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.file_batches import FileBatches, FileToProcess
from application.shared.ledger_records import TransferKind


@dataclass(frozen=True)
class ItemFile:
    """A publishing file to read, claimed (`claimed` set) or, in a dry run, not."""

    name: str
    remote_path: str
    claimed: FileToProcess | None = None


class ItemSources:
    """The files of one institution's `items/` folder for one sync."""

    def __init__(
        self,
        ledger: Ledger,
        files: FileTransfer,
        work_dir: Path,
        main_folder: str,
        institution: str,
        *,
        dry_run: bool,
    ) -> None:
        self._ledger = ledger
        self._files = files
        self._institution = institution
        self._dry_run = dry_run
        kind = TransferKind.ITEMS
        self.batches = FileBatches(ledger, files, work_dir, main_folder, institution, kind)
        base = work_dir / institution / kind.value
        self._scratch = base / f"dry-run-{uuid.uuid4().hex}" if dry_run else base / "unpacked"

    async def files(self) -> list[ItemFile]:
        """The files to read now, in the order to read them."""
        if not self._dry_run:
            return [
                ItemFile(f.name, f.record.remote_name, f) for f in await self.batches.claim_all()
            ]
        async with self._ledger.unit_of_work() as uow:
            unfinished = await uow.files.list_unfinished(self._institution, TransferKind.ITEMS)
        # FileToProcess knows the archive's own name behind a claim like `OLD/x.tar.gz.2`.
        found = [ItemFile(FileToProcess(u, Path()).name, u.remote_name) for u in unfinished]
        for remote in await self._files.list_files(self.batches.folder):
            found.append(ItemFile(remote.name, remote.path))
        return found

    def unpack_dir(self, file: ItemFile, position: int) -> Path:
        """A folder of the file's own for its extracted XML (rule I2)."""
        tag = str(file.claimed.record.id) if file.claimed else str(position)
        return self._scratch / tag

    async def local_copy(self, file: ItemFile, position: int) -> Path:
        """The file on the local disk: FileBatches' copy, or a scratch download in a dry run."""
        if file.claimed is not None:
            return await self.batches.local_copy(file.claimed)
        local = self._scratch / f"download-{position}" / file.name
        await asyncio.to_thread(local.parent.mkdir, parents=True, exist_ok=True)
        await self._files.download(file.remote_path, local)
        return local

    async def discard(self, path: Path) -> None:
        """Remove a local folder this sync made (unpacked XML, dry-run downloads)."""
        await asyncio.to_thread(shutil.rmtree, path, True)

    async def close(self) -> None:
        """A dry run leaves nothing behind."""
        if self._dry_run:
            await self.discard(self._scratch)
