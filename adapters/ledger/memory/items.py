"""Mirrored items in memory (rules I13, R7)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any

from adapters.ledger.memory.state import Workspace, utc
from application.ports.clock import Clock
from application.shared.ledger_records import MirroredItem, MirrorState


class MemoryMirroredItemRepository:
    """Mirrored items in memory."""

    def __init__(self, workspace: Workspace, clock: Clock) -> None:
        self._workspace = workspace
        self._clock = clock

    async def get(self, institution: str, barcode: str) -> MirroredItem | None:
        """The mirror row of a member barcode, mirrored or deleted, if any."""
        return self._workspace.state.items.get((institution, barcode))

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
        now = utc(self._clock.now(), "clock")
        items = self._workspace.state.items
        old = items.get((institution, barcode))
        # The transit loan of rule R7 belongs to one SCF item: a re-created copy starts afresh.
        same_copy = (
            old is not None
            and old.state is MirrorState.MIRRORED
            and old.scf_item_pid == scf_item_pid
        )
        items[(institution, barcode)] = MirroredItem(
            institution=institution,
            barcode=barcode,
            scf_mms_id=scf_mms_id,
            scf_holding_id=scf_holding_id,
            scf_item_pid=scf_item_pid,
            member_mms_id=member_mms_id,
            nz_mms_id=nz_mms_id,
            member_item_pid=member_item_pid,
            fingerprint=fingerprint,
            state=state,
            loaned_at=old.loaned_at if same_copy and old else None,
            loan_returned_at=old.loan_returned_at if same_copy and old else None,
            first_synced_at=old.first_synced_at if old else now,
            last_synced_at=now,
        )
        return items[(institution, barcode)]

    async def mark_deleted(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record that the SCF copy was deleted; None when the barcode was never mirrored."""
        now = utc(self._clock.now(), "clock")
        return self._set(institution, barcode, state=MirrorState.DELETED, last_synced_at=now)

    async def mark_loan(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record the bridge's own transit loan of the SCF copy (rule I10)."""
        now = utc(self._clock.now(), "clock")
        return self._set(institution, barcode, loaned_at=now, loan_returned_at=None)

    async def mark_loan_returned(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record a LOAN_RETURNED of the SCF copy (rules C1, R7)."""
        now = utc(self._clock.now(), "clock")
        return self._set(institution, barcode, loan_returned_at=now)

    async def list_for(
        self, institution: str, *, states: Collection[MirrorState] | None = None
    ) -> list[MirroredItem]:
        """Every mirror row of an institution (in these states), by barcode."""
        wanted = None if states is None else {MirrorState(s) for s in states}
        rows = [
            row
            for (owner, _barcode), row in self._workspace.state.items.items()
            if owner == institution and (wanted is None or row.state in wanted)
        ]
        return sorted(rows, key=lambda row: row.barcode)

    def _set(self, institution: str, barcode: str, **values: Any) -> MirroredItem | None:
        items = self._workspace.state.items
        old = items.get((institution, barcode))
        if old is None:
            return None
        items[(institution, barcode)] = replace(old, **values)
        return items[(institution, barcode)]
