"""Claimed transfer files in memory (rules I1, R1)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from adapters.ledger.memory.state import Workspace, utc
from application.ports.clock import Clock
from application.shared.ledger_records import (
    LedgerRecordNotFound,
    TransferFile,
    TransferKind,
    TransferStatus,
)


class MemoryTransferFileRepository:
    """Claimed files in memory."""

    def __init__(self, workspace: Workspace, clock: Clock) -> None:
        self._workspace = workspace
        self._clock = clock

    async def record_claim(
        self, institution: str, kind: TransferKind, remote_name: str, sha256: str, size: int
    ) -> TransferFile:
        """Record a freshly claimed file as claimed, not yet finished."""
        state = self._workspace.state
        file_id = state.next_id("files")
        state.files[file_id] = TransferFile(
            id=file_id,
            institution=institution,
            kind=TransferKind(kind),
            remote_name=remote_name,
            sha256=sha256,
            size=size,
            status=TransferStatus.CLAIMED,
            records_total=0,
            records_failed=0,
            failure_reason=None,
            claimed_at=utc(self._clock.now(), "clock"),
            finished_at=None,
        )
        return state.files[file_id]

    async def finish(
        self,
        file_id: int,
        status: TransferStatus,
        *,
        records_total: int = 0,
        records_failed: int = 0,
        failure_reason: str | None = None,
    ) -> TransferFile:
        """Mark a claimed file done or failed, with its record counts."""
        if TransferStatus(status) is TransferStatus.CLAIMED:
            raise ValueError("a file finishes as done or failed, not claimed")
        files = self._workspace.state.files
        if file_id not in files:
            raise LedgerRecordNotFound(f"no transfer file with id {file_id}")
        files[file_id] = replace(
            files[file_id],
            status=TransferStatus(status),
            records_total=records_total,
            records_failed=records_failed,
            failure_reason=failure_reason,
            finished_at=utc(self._clock.now(), "clock"),
        )
        return files[file_id]

    async def get(self, file_id: int) -> TransferFile | None:
        """The file with this id, if any."""
        return self._workspace.state.files.get(file_id)

    async def list_unfinished(self, institution: str, kind: TransferKind) -> list[TransferFile]:
        """Claimed files not yet finished, oldest claim first: resumed after a restart (I1)."""
        unfinished = [
            file
            for file in self._workspace.state.files.values()
            if file.institution == institution
            and file.kind == kind
            and file.status is TransferStatus.CLAIMED
        ]
        return sorted(unfinished, key=lambda file: (file.claimed_at, file.id))

    async def known_names(
        self, institution: str, kind: TransferKind, remote_names: Collection[str]
    ) -> set[str]:
        """Which of these claimed paths the ledger has recorded (to find claims a crash lost)."""
        wanted = set(remote_names)
        return {
            file.remote_name
            for file in self._workspace.state.files.values()
            if file.institution == institution and file.kind == kind and file.remote_name in wanted
        }
