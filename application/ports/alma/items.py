"""Items: one role of an institution's Alma API."""

from __future__ import annotations

from typing import Protocol

from application.shared.alma import (
    AlmaItem,
    AlmaJson,
    Page,
)


class ItemsPort(Protocol):
    """Items: found by barcode or id, listed per bib, created, updated, deleted, scanned in
    (I3–I12, C1). Failures raise the typed errors of `application.shared.alma`."""

    institution: str

    async def item_by_barcode(self, barcode: str) -> AlmaItem:
        """The item with this barcode; `ItemNotFound` (401689) when there is none."""
        ...

    async def get_item(self, mms_id: str, holding_id: str, item_pid: str) -> AlmaItem:
        """An item by its ids."""
        ...

    async def list_items(
        self, mms_id: str, holding_id: str = "ALL", *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaItem]:
        """One page of a bib's items (of one holding, or `ALL`)."""
        ...

    async def create_item(self, mms_id: str, holding_id: str, item: AlmaJson) -> AlmaItem:
        """Create an item under a holding from Alma item JSON."""
        ...

    async def update_item(
        self, mms_id: str, holding_id: str, item_pid: str, item: AlmaJson
    ) -> AlmaItem:
        """Replace an item with this Alma item JSON."""
        ...

    async def delete_item(
        self, mms_id: str, holding_id: str, item_pid: str, *, override: bool = False
    ) -> None:
        """Delete an item; Alma refuses (an `AlmaError`) e.g. while it is on loan."""
        ...

    async def scan_in(
        self, mms_id: str, holding_id: str, item_pid: str, *, library: str, circ_desk: str
    ) -> AlmaItem:
        """Scan an item in at a library and desk, completing its transit (`op=scan&done=true`)."""
        ...
