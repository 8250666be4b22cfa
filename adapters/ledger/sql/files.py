"""Claimed transfer files in SQL (rules I1, R1)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.ledger.sql import rows as sql_rows
from adapters.ledger.tables import transfer_files
from application.ports.clock import Clock
from application.shared.ledger_records import (
    LedgerRecordNotFound,
    TransferFile,
    TransferKind,
    TransferStatus,
)


class SqlTransferFileRepository:
    """Claimed files in SQL (rules I1, R1)."""

    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def record_claim(
        self, institution: str, kind: TransferKind, remote_name: str, sha256: str, size: int
    ) -> TransferFile:
        """Record a freshly claimed file as claimed, not yet finished."""
        statement = (
            transfer_files.insert()
            .values(
                institution=institution,
                kind=TransferKind(kind).value,
                remote_name=remote_name,
                sha256=sha256,
                size=size,
                status=TransferStatus.CLAIMED.value,
                records_total=0,
                records_failed=0,
                claimed_at=self._clock.now(),
            )
            .returning(*transfer_files.c)
        )
        return sql_rows.transfer_file((await self._conn.execute(statement)).one())

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
        statement = (
            update(transfer_files)
            .where(transfer_files.c.id == file_id)
            .values(
                status=TransferStatus(status).value,
                records_total=records_total,
                records_failed=records_failed,
                failure_reason=failure_reason,
                finished_at=self._clock.now(),
            )
            .returning(*transfer_files.c)
        )
        row = (await self._conn.execute(statement)).one_or_none()
        if row is None:
            raise LedgerRecordNotFound(f"no transfer file with id {file_id}")
        return sql_rows.transfer_file(row)

    async def get(self, file_id: int) -> TransferFile | None:
        """The file with this id, if any."""
        query = select(transfer_files).where(transfer_files.c.id == file_id)
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else sql_rows.transfer_file(row)

    async def list_unfinished(self, institution: str, kind: TransferKind) -> list[TransferFile]:
        """Claimed files not yet finished, oldest claim first: resumed after a restart (I1)."""
        query = (
            select(transfer_files)
            .where(
                transfer_files.c.institution == institution,
                transfer_files.c.kind == TransferKind(kind).value,
                transfer_files.c.status == TransferStatus.CLAIMED.value,
            )
            .order_by(transfer_files.c.claimed_at, transfer_files.c.id)
        )
        return [sql_rows.transfer_file(row) for row in await self._conn.execute(query)]

    async def known_names(
        self, institution: str, kind: TransferKind, remote_names: Collection[str]
    ) -> set[str]:
        """Which of these claimed paths the ledger has recorded (to find claims a crash lost)."""
        known: set[str] = set()
        names = sorted(set(remote_names))
        # In slices: an IN list of thousands of OLD/ names would hit parameter limits.
        for start in range(0, len(names), 500):
            query = select(transfer_files.c.remote_name).where(
                transfer_files.c.institution == institution,
                transfer_files.c.kind == TransferKind(kind).value,
                transfer_files.c.remote_name.in_(names[start : start + 500]),
            )
            known.update(row[0] for row in await self._conn.execute(query))
        return known
