"""Claiming an institution's files and keeping track of them until they are done (rules I1, R1).

Order of work for each new file: claim it (atomic move into `OLD/`), download it, hash it, and
record the claim in the ledger. A download that fails puts the file back where it was. A crash
between the claim and the record would leave a file in `OLD/` that nobody processes, so each
batch first looks in `OLD/` for files the ledger does not know and records them too. Files that
are recorded but not finished (a crash mid-file) are offered again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.shared.files import ClaimedFile, FileError
from application.shared.ledger_records import Outcome, TransferFile, TransferKind, TransferStatus

log = logging.getLogger(__name__)

CLAIMED_FOLDER = "OLD"


@dataclass(frozen=True)
class FileToProcess:
    """A claimed file recorded in the ledger, and where its local copy is."""

    record: TransferFile
    local_path: Path

    @property
    def name(self) -> str:
        return _base_name(self.record.remote_name)


def _base_name(remote_path: str) -> str:
    """The file's own name: a claim under `OLD/x.tar.gz.2` (an earlier `x.tar.gz` was there)
    is still the archive `x.tar.gz`."""
    name = remote_path.rsplit("/", 1)[-1]
    stem, dot, counter = name.rpartition(".")
    if dot and counter.isdigit() and stem.lower().endswith(_KNOWN_SUFFIXES):
        return stem
    return name


_KNOWN_SUFFIXES = (".tar.gz", ".tgz", ".xml")


def _move_into_place(staging: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    staging.replace(final)


def _sha256_and_size(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def member_folder(main_folder: str, institution: str, kind: TransferKind) -> str:
    """`{main_folder}/{INST}/items` or `/requests` (rules I1, R1)."""
    return f"{main_folder.rstrip('/')}/{institution}/{kind.value}"


class FileBatches:
    """Claims, records, fetches and finishes the files of one institution and kind."""

    def __init__(
        self,
        ledger: Ledger,
        files: FileTransfer,
        work_dir: Path,
        main_folder: str,
        institution: str,
        kind: TransferKind,
    ) -> None:
        self._ledger = ledger
        self._files = files
        self._work_dir = work_dir
        self.institution = institution
        self.kind = kind
        self.folder = member_folder(main_folder, institution, kind)

    def _local_path(self, name: str, tag: str) -> Path:
        folder = self._work_dir / self.institution / self.kind.value / tag
        return folder / name

    async def claim_all(self) -> list[FileToProcess]:
        """Every file to process now: lost claims, new files, then unfinished ones, oldest first."""
        await self._recover_lost_claims()
        for remote in await self._files.list_files(self.folder):
            claimed = await self._files.claim(remote)
            if claimed is None:
                continue  # another worker claimed it first
            await self._download_and_record(claimed.claimed_path, remote.name, claimed)
        async with self._ledger.unit_of_work() as uow:
            unfinished = await uow.files.list_unfinished(self.institution, self.kind)
        return [
            FileToProcess(record, self._local_path(_base_name(record.remote_name), str(record.id)))
            for record in unfinished
        ]

    async def _recover_lost_claims(self) -> None:
        claimed_folder = f"{self.folder}/{CLAIMED_FOLDER}"
        try:
            in_old = await self._files.list_files(claimed_folder)
        except FileError:
            return  # no OLD/ yet: nothing was ever claimed here
        async with self._ledger.unit_of_work() as uow:
            known = await uow.files.known_names(
                self.institution, self.kind, [f.path for f in in_old]
            )
        for remote in in_old:
            if remote.path not in known:
                await self._download_and_record(
                    remote.path, _base_name(remote.path), None, recovered=True
                )

    async def _download_and_record(
        self,
        claimed_path: str,
        name: str,
        claim: ClaimedFile | None,
        *,
        recovered: bool = False,
    ) -> None:
        staging = self._local_path(name, "incoming")
        try:
            await self._files.download(claimed_path, staging)
        except FileError as error:
            if claim is not None:
                await self._files.put_back(claim)
            await self._event(
                "file.claim",
                Outcome.FAILED,
                f"{claimed_path}: download failed, file put back: {error}",
            )
            return
        sha256, size = await asyncio.to_thread(_sha256_and_size, staging)
        async with self._ledger.unit_of_work() as uow:
            record = await uow.files.record_claim(
                self.institution, self.kind, claimed_path, sha256, size
            )
            await uow.events.append(
                "file.claim",
                Outcome.OK,
                institution=self.institution,
                message=(
                    f"recovered {claimed_path}, claimed earlier but never recorded"
                    if recovered
                    else f"claimed {claimed_path}"
                ),
                file_id=record.id,
                details={"sha256": sha256, "size": size, "kind": self.kind.value},
            )
            await uow.commit()
        await asyncio.to_thread(_move_into_place, staging, self._local_path(name, str(record.id)))

    async def local_copy(self, file: FileToProcess) -> Path:
        """The local copy, downloaded again when a restart lost it."""
        if not await asyncio.to_thread(file.local_path.exists):
            await self._files.download(file.record.remote_name, file.local_path)
        return file.local_path

    async def finish(
        self,
        file: FileToProcess,
        *,
        records_total: int,
        records_failed: int,
        failure_reason: str | None = None,
    ) -> TransferFile:
        """Mark the file done, or failed with the reason, and say so in the event log."""
        status = TransferStatus.FAILED if failure_reason else TransferStatus.DONE
        async with self._ledger.unit_of_work() as uow:
            record = await uow.files.finish(
                file.record.id,
                status,
                records_total=records_total,
                records_failed=records_failed,
                failure_reason=failure_reason,
            )
            await uow.events.append(
                "file.finish",
                Outcome.FAILED if failure_reason else Outcome.OK,
                institution=self.institution,
                message=failure_reason
                or f"{file.name}: {records_total} records, {records_failed} failed",
                file_id=file.record.id,
            )
            await uow.commit()
        return record

    async def _event(self, action: str, outcome: Outcome, message: str) -> None:
        log.warning("%s %s: %s", self.institution, action, message)
        async with self._ledger.unit_of_work() as uow:
            await uow.events.append(action, outcome, institution=self.institution, message=message)
            await uow.commit()
