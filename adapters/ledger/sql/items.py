"""Mirrored items in SQL: the current SCF copy of each member barcode (rules I13, R7)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import and_, case, null, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.ledger.sql import rows as sql_rows
from adapters.ledger.sql.support import upsert_insert
from adapters.ledger.tables import mirrored_items
from application.ports.clock import Clock
from application.shared.ledger_records import MirroredItem, MirrorState


class SqlMirroredItemRepository:
    """Mirrored items in SQL, upserted with INSERT … ON CONFLICT DO UPDATE (rule I13)."""

    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def get(self, institution: str, barcode: str) -> MirroredItem | None:
        """The mirror row of a member barcode, mirrored or deleted, if any."""
        query = select(mirrored_items).where(
            mirrored_items.c.institution == institution, mirrored_items.c.barcode == barcode
        )
        row = (await self._conn.execute(query)).one_or_none()
        return None if row is None else sql_rows.mirrored_item(row)

    async def upsert(
        self,
        institution: str,
        barcode: str,
        *,
        scf_mms_id: str,
        scf_holding_id: str,
        scf_item_pid: str,
        member_mms_id: str | None = None,
        nz_mms_id: str | None = None,
        member_item_pid: str | None = None,
        fingerprint: str | None = None,
        state: MirrorState = MirrorState.MIRRORED,
    ) -> MirroredItem:
        """Record the barcode as mirrored (or LENDING: its I10 loan still owed); loan facts
        survive only while the SCF pid is the same."""
        now = self._clock.now()
        insert = upsert_insert(self._conn, mirrored_items).values(
            institution=institution,
            barcode=barcode,
            scf_mms_id=scf_mms_id,
            scf_holding_id=scf_holding_id,
            scf_item_pid=scf_item_pid,
            member_mms_id=member_mms_id,
            nz_mms_id=nz_mms_id,
            member_item_pid=member_item_pid,
            fingerprint=fingerprint,
            state=state.value,
            loaned_at=None,
            loan_returned_at=None,
            first_synced_at=now,
            last_synced_at=now,
        )
        # The transit loan of rule R7 belongs to one SCF item: a re-created copy starts afresh.
        same_copy = and_(
            mirrored_items.c.state == MirrorState.MIRRORED.value,
            mirrored_items.c.scf_item_pid == insert.excluded.scf_item_pid,
        )
        kept = ("institution", "barcode", "first_synced_at", "loaned_at", "loan_returned_at")
        updates: dict[str, object] = {
            column.name: insert.excluded[column.name]
            for column in mirrored_items.c
            if column.name not in kept
        }
        updates["loaned_at"] = case((same_copy, mirrored_items.c.loaned_at), else_=null())
        updates["loan_returned_at"] = case(
            (same_copy, mirrored_items.c.loan_returned_at), else_=null()
        )
        statement = insert.on_conflict_do_update(
            index_elements=["institution", "barcode"], set_=updates
        ).returning(*mirrored_items.c)
        return sql_rows.mirrored_item((await self._conn.execute(statement)).one())

    async def mark_deleted(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record that the SCF copy was deleted; None when the barcode was never mirrored."""
        return await self._set(
            institution, barcode, state=MirrorState.DELETED.value, last_synced_at=self._clock.now()
        )

    async def mark_loan(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record the bridge's own transit loan of the SCF copy (rule I10)."""
        return await self._set(
            institution, barcode, loaned_at=self._clock.now(), loan_returned_at=None
        )

    async def mark_loan_returned(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record a LOAN_RETURNED of the SCF copy (rules C1, R7)."""
        return await self._set(institution, barcode, loan_returned_at=self._clock.now())

    async def list_for(
        self, institution: str, *, states: Collection[MirrorState] | None = None
    ) -> list[MirroredItem]:
        """Every mirror row of an institution (in these states), by barcode."""
        query = select(mirrored_items).where(mirrored_items.c.institution == institution)
        if states is not None:
            query = query.where(mirrored_items.c.state.in_([MirrorState(s).value for s in states]))
        query = query.order_by(mirrored_items.c.barcode)
        return [sql_rows.mirrored_item(row) for row in await self._conn.execute(query)]

    async def _set(self, institution: str, barcode: str, **values: object) -> MirroredItem | None:
        statement = (
            update(mirrored_items)
            .where(mirrored_items.c.institution == institution, mirrored_items.c.barcode == barcode)
            .values(**values)
            .returning(*mirrored_items.c)
        )
        row = (await self._conn.execute(statement)).one_or_none()
        return None if row is None else sql_rows.mirrored_item(row)
