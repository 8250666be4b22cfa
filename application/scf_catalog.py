"""The SCF side of one items batch: bibs, holdings, locations and existing mirrors (I6–I8).

Everything here is found once per batch and single-flight per key, so concurrent items of one
bib never create it twice (the Java app did, across files), and holdings are found and created by
the *resolved* location (I8), so the default-location fallback is reused instead of duplicated.

* Bib key: the NZ id (`bibs_by_nz_id`, else `create_bib_from_nz`) or, without one, the N4
  other-system id `({INST}){mms}` (`bibs_by_other_system_id`, else `create_local_bib`).
* Holdings of a bib are listed once; a bib created in this batch has none, so it costs no call.
* Mirrors: the items of the SCF bib(s), listed once, say which `{b}X` exist without asking
  barcode by barcode. A bib created in this batch has no items but the ones this batch made,
  and those are in the ledger.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from application.alma import AlmaError, AlmaItem
from application.bib_items import EMPTY, BibItems, is_refusal, list_bib_items
from application.item_outcomes import CannotMirror
from application.ports import AlmaGateway
from application.single_flight import BoundedCache, KeyedLocks
from domain.holdings import ScfLocation, holding_matches
from domain.institutions import RemoteStorage
from domain.naming import other_system_id
from domain.published import PublishedItem

CACHED_BIBS = 4096


@dataclass(frozen=True)
class _Holding:
    holding_id: str
    library: str | None
    location: str | None


@dataclass(frozen=True)
class BibKey:
    """How an SCF bib is found: by NZ id, or by the member's other-system id (I7, N4)."""

    kind: str
    value: str

    @classmethod
    def of(cls, item: PublishedItem) -> BibKey:
        if item.nz_mms_id:
            return cls("nz_mms_id", item.nz_mms_id)
        return cls("other_system_id", other_system_id(item.institution, item.member_mms_id))


class ScfCatalog:
    """Per-batch, single-flight find-or-create of SCF bibs and holdings for one member."""

    def __init__(self, scf: AlmaGateway, remote_storage: RemoteStorage) -> None:
        self._scf = scf
        self._rs = remote_storage
        self._bibs: BoundedCache[BibKey, tuple[str, ...]] = BoundedCache(CACHED_BIBS)
        self._bib_locks: KeyedLocks[BibKey] = KeyedLocks()
        self._created: set[str] = set()
        self._holdings: BoundedCache[str, list[_Holding]] = BoundedCache(CACHED_BIBS)
        self._holding_locks: KeyedLocks[str] = KeyedLocks()
        self._listings: BoundedCache[str, BibItems] = BoundedCache(CACHED_BIBS)
        self._listing_locks: KeyedLocks[str] = KeyedLocks()
        self._forgotten: set[str] = set()
        self._location_codes: frozenset[str] | None = None
        self._location_lock = asyncio.Lock()

    # ---- bibs (I7) -------------------------------------------------------------------------

    async def _lookup(self, key: BibKey) -> tuple[str, ...]:
        if key.kind == "nz_mms_id":
            bibs = await self._scf.bibs_by_nz_id(key.value)
        else:
            bibs = await self._scf.bibs_by_other_system_id(key.value)
        return tuple(b.mms_id for b in bibs if b.mms_id)

    async def find_bibs(self, item: PublishedItem) -> tuple[str, ...]:
        """The SCF bibs of a published record (usually one; the Java app left duplicates)."""
        key = BibKey.of(item)
        async with self._bib_locks.hold(key):
            found = self._bibs.get(key)
            if found is None:
                found = await self._lookup(key)
                self._bibs.put(key, found)
            return found

    async def bib_for(self, item: PublishedItem) -> str:
        """The SCF bib to mirror into: the first found, else a new one, created once (I7)."""
        key = BibKey.of(item)
        async with self._bib_locks.hold(key):
            found = self._bibs.get(key)
            if found is None:
                found = await self._lookup(key)
            if not found:
                found = (await self._create_bib(key, item),)
            self._bibs.put(key, found)
            return found[0]

    async def _create_bib(self, key: BibKey, item: PublishedItem) -> str:
        try:
            if key.kind == "nz_mms_id":
                bib = await self._scf.create_bib_from_nz(key.value)
            elif item.local_bib_marcxml:
                bib = await self._scf.create_local_bib(item.local_bib_marcxml)
            else:
                raise CannotMirror("the record has neither an NZ id nor a local bib to create")
        except AlmaError as error:
            # Another process may have created it since we looked (Alma: "already linked").
            if not is_refusal(error):
                raise
            again = await self._lookup(key)
            if not again:
                raise
            return again[0]
        if not bib.mms_id:
            raise CannotMirror("Alma created the SCF bib but returned no mms_id")
        self._created.add(bib.mms_id)
        return bib.mms_id

    # ---- holdings (I8) ---------------------------------------------------------------------

    async def location_codes(self) -> frozenset[str]:
        """The SCF holding library's location codes, read once per batch (I8)."""
        async with self._location_lock:
            if self._location_codes is None:
                locations = await self._scf.locations(self._rs.holding_library)
                self._location_codes = frozenset(loc.code for loc in locations if loc.code)
            return self._location_codes

    async def _holdings_of(self, mms_id: str) -> list[_Holding]:
        cached = self._holdings.get(mms_id)
        if cached is not None:
            return cached
        if mms_id in self._created:
            cached = []
        else:
            cached = [
                _Holding(h.holding_id, h.library, h.location)
                for h in await self._scf.list_holdings(mms_id)
                if h.holding_id
            ]
        self._holdings.put(mms_id, cached)
        return cached

    async def holding_for(self, mms_id: str, resolved: ScfLocation) -> str:
        """The holding at the resolved library and location, created once per (bib, location)."""
        # One lock per bib, stricter than per (bib, location): the bib's holdings are listed once
        # and two locations of one bib never race on that list.
        async with self._holding_locks.hold(mms_id):
            holdings = await self._holdings_of(mms_id)
            for holding in holdings:
                if holding_matches(holding.library, holding.location, resolved):
                    return holding.holding_id
            created = await self._scf.create_holding(mms_id, resolved.library, resolved.location)
            if not created.holding_id:
                raise CannotMirror("Alma created the SCF holding but returned no holding_id")
            holdings.append(_Holding(created.holding_id, resolved.library, resolved.location))
            return created.holding_id

    # ---- existing mirrors (I6) -------------------------------------------------------------

    async def _listing(self, mms_id: str) -> BibItems:
        async with self._listing_locks.hold(mms_id):
            cached = self._listings.get(mms_id)
            if cached is None:
                cached = (
                    EMPTY if mms_id in self._created else await list_bib_items(self._scf, mms_id)
                )
                self._listings.put(mms_id, cached)
            return cached

    async def existing_mirror(self, item: PublishedItem) -> AlmaItem | None:
        """The SCF item `{b}X` when one of the record's SCF bibs holds it (I6)."""
        scf_barcode = item.scf_barcode
        if scf_barcode is None or scf_barcode in self._forgotten:
            return None
        for mms_id in await self.find_bibs(item):
            found = (await self._listing(mms_id)).get(scf_barcode)
            if found is not None:
                return found
        return None

    def forget_mirror(self, scf_barcode: str) -> None:
        """The mirror was deleted in this batch: the cached listings no longer hold it."""
        self._forgotten.add(scf_barcode)

    def remember_mirror(self, scf_barcode: str) -> None:
        """A mirror was (re)created in this batch after being forgotten."""
        self._forgotten.discard(scf_barcode)
