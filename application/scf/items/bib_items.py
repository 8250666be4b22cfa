"""Items read per bib instead of per barcode: one call per 100 items (efficiency, rules I9, I11).

`GET /items?item_barcode=` costs two calls (Alma answers a 302, then the item). The items of one
published record share a bib, so listing the bib's items once (`/bibs/{mms}/holdings/ALL/items`,
100 per page) serves all of them. The same listing of an SCF bib tells which mirrors already
exist without asking barcode by barcode. A bib with very many items, of which a file names few,
would make listing dearer than asking: past `MAX_PAGES` pages the listing stops and the caller
falls back to the barcode.

`MemberItems` keeps the listings of one batch for a member institution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from application.ports.alma.items import ItemsPort
from application.shared.alma import (
    AlmaError,
    AlmaItem,
    ItemNotFound,
    TransientAlmaError,
)
from application.shared.single_flight import BoundedCache, KeyedLocks

PAGE_SIZE = 100
MAX_PAGES = 5
CACHED_BIBS = 512


@dataclass(frozen=True)
class BibItems:
    """The items of a bib by barcode; `complete` is False when the listing stopped early."""

    by_barcode: Mapping[str, AlmaItem]
    complete: bool

    def get(self, barcode: str) -> AlmaItem | None:
        """The listed item with this barcode, if it was listed."""
        return self.by_barcode.get(barcode)


EMPTY = BibItems({}, complete=True)


def is_refusal(error: AlmaError) -> bool:
    """A business answer from Alma (not found, invalid…), as opposed to "try later"."""
    return not isinstance(error, TransientAlmaError)


async def list_bib_items(gateway: ItemsPort, mms_id: str) -> BibItems:
    """Up to `MAX_PAGES` pages of a bib's items. A bib Alma does not know has none."""
    found: dict[str, AlmaItem] = {}
    offset: int | None = 0
    pages = 0
    try:
        while offset is not None and pages < MAX_PAGES:
            page = await gateway.list_items(mms_id, "ALL", limit=PAGE_SIZE, offset=offset)
            pages += 1
            for item in page.records:
                if item.barcode is not None:
                    found[item.barcode] = item
            offset = page.next_offset
    except AlmaError as error:
        if not is_refusal(error):
            raise
        # 401688 "Search failed" for a bib that is gone: the caller asks by barcode instead.
        return BibItems(found, complete=False)
    return BibItems(found, complete=offset is None)


class MemberItems:
    """A member's items, listed once per bib within a batch, single-flight per bib."""

    def __init__(self, gateway: ItemsPort, capacity: int = CACHED_BIBS) -> None:
        self._gateway = gateway
        self._listings: BoundedCache[str, BibItems] = BoundedCache(capacity)
        self._locks: KeyedLocks[str] = KeyedLocks()

    async def _listing(self, mms_id: str) -> BibItems:
        async with self._locks.hold(mms_id):
            cached = self._listings.get(mms_id)
            if cached is None:
                cached = await list_bib_items(self._gateway, mms_id)
                self._listings.put(mms_id, cached)
            return cached

    async def item(self, member_mms_id: str, barcode: str) -> AlmaItem | None:
        """The member item with this barcode (from its bib's listing, else by barcode);
        None when Alma has no item with that barcode."""
        listed = (await self._listing(member_mms_id)).get(barcode)
        if listed is not None:
            return listed
        # Not under the published bib (moved, or the listing stopped early): ask directly.
        try:
            return await self._gateway.item_by_barcode(barcode)
        except ItemNotFound:
            return None

    async def item_by_pid(self, member_mms_id: str, item_pid: str) -> AlmaItem | None:
        """The member item with this pid among its bib's listed items, whatever its barcode is
        now (reconciliation finds a barcode changed at the member this way); None when the
        listing does not hold it."""
        listing = await self._listing(member_mms_id)
        return next((item for item in listing.by_barcode.values() if item.pid == item_pid), None)
