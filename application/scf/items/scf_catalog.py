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

Lost answers. Alma does not refuse a second holding at one (bib, location), nor a second local
bib with one 035, so the HTTP adapter does not repeat these creations once they may have reached
Alma: it raises `AlmaOutcomeUnknown` (a reset or timeout after sending, a 502/504). Then the
catalog waits (the write may still be under way behind a gateway that gave up), looks the record
up as it would have before creating it (holdings of the bib at the resolved library and
location, I8; the bib by `({INST}){mms}`, N4, or by NZ id, I7), uses what it finds and creates
again only when nothing is there, a bounded number of times (`CreateRetry`), with exponential
backoff and jitter. This loop is the only repetition of those POSTs: the adapter retries them only
while nothing was sent (A3, one retry layer). When the attempts run out the error reaches the item
as a transient failure, and whoever asks for that bib or holding next looks it up again instead
of trusting this batch's cache, since Alma may hold it after all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Protocol, TypeVar

import stamina

from application.ports.alma.catalog import CatalogPort
from application.ports.alma.conf import ConfPort
from application.ports.alma.items import ItemsPort
from application.scf.items.bib_items import EMPTY, BibItems, is_refusal, list_bib_items
from application.scf.items.item_outcomes import CannotMirror
from application.shared.alma import AlmaBib, AlmaError, AlmaItem, AlmaOutcomeUnknown
from application.shared.single_flight import BoundedCache, KeyedLocks
from domain.scf.institutions import RemoteStorage
from domain.scf.items.holdings import ScfLocation, holding_matches
from domain.scf.items.published import PublishedItem
from domain.scf.naming import other_system_id

CACHED_BIBS = 4096
T = TypeVar("T")


@dataclass(frozen=True)
class CreateRetry:
    """How often a holding or bib whose creation's answer was lost is looked for and created
    again: as many attempts and the same budget as the adapter's other calls (A3), as a lost
    answer is one more transient failure. The first wait gives a write still running behind a
    timed-out gateway time to land before the look."""

    attempts: int = 8
    timeout_seconds: float = 120.0
    wait_initial: float = 0.5
    wait_max: float = 10.0
    wait_jitter: float = 0.5


@dataclass(frozen=True)
class _Holding:
    holding_id: str
    library: str | None
    location: str | None


def _matching(holdings: list[_Holding], resolved: ScfLocation) -> str | None:
    for holding in holdings:
        if holding_matches(holding.library, holding.location, resolved):
            return holding.holding_id
    return None


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


class ScfCatalogAlma(CatalogPort, ConfPort, ItemsPort, Protocol):
    """What the SCF side of a batch calls: bibs, holdings, the SCF's locations and its items."""


class CreationGuard(Protocol):
    """Held around each find-or-create of an SCF bib or holding, when other batches may create
    the same one at once: a member's webhooks each run their own catalog (W7)."""

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        """One holder of `key` (a bib's key, a bib's holdings) at a time, for the block."""
        ...


class _Alone:
    """No other batch to keep out: a file sync has the member to itself (I1)."""

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        return nullcontext()


class ScfCatalog:
    """Per-batch, single-flight find-or-create of SCF bibs and holdings for one member."""

    def __init__(
        self,
        scf: ScfCatalogAlma,
        remote_storage: RemoteStorage,
        retry: CreateRetry | None = None,
        guard: CreationGuard | None = None,
    ) -> None:
        self._scf = scf
        self._rs = remote_storage
        self._retry = retry or CreateRetry()
        self._guard = guard or _Alone()
        self._others_create = guard is not None
        """Other batches create SCF bibs and holdings at once: under the guard, an answer cached
        before it (none found) may be stale, so it is looked up again before creating."""
        self._bibs: BoundedCache[BibKey, tuple[str, ...]] = BoundedCache(CACHED_BIBS)
        self._bib_locks: KeyedLocks[BibKey] = KeyedLocks()
        self._doubted_bibs: set[BibKey] = set()
        """Keys whose creation's outcome stayed unknown: the cache may be wrong, look again."""
        self._created: set[str] = set()
        self._bare: set[str] = set()
        """Bibs created in this batch that no holding POST has been sent for: none to list."""
        self._holdings: BoundedCache[str, list[_Holding]] = BoundedCache(CACHED_BIBS)
        self._holding_locks: KeyedLocks[str] = KeyedLocks()
        self._doubted_holdings: set[str] = set()
        """Bibs where a holding's creation stayed unknown: list their holdings again."""
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

    async def _bibs_of(self, key: BibKey, *, fresh: bool = False) -> tuple[str, ...]:
        """The cached answer for a key, else (or when `fresh`) Alma's; the caller holds the
        key's lock."""
        found = None if fresh or key in self._doubted_bibs else self._bibs.get(key)
        if found is None:
            found = await self._lookup(key)
            self._doubted_bibs.discard(key)
            self._bibs.put(key, found)
        return found

    async def find_bibs(self, item: PublishedItem) -> tuple[str, ...]:
        """The SCF bibs of a published record (usually one; the Java app left duplicates)."""
        key = BibKey.of(item)
        async with self._bib_locks.hold(key):
            return await self._bibs_of(key)

    async def bib_for(self, item: PublishedItem) -> str:
        """The SCF bib to mirror into: the first found, else a new one, created once (I7)."""
        key = BibKey.of(item)
        async with self._bib_locks.hold(key), self._guard.hold(f"bib {key.kind} {key.value}"):
            found = await self._bibs_of(key, fresh=self._others_create)
            if not found:
                found = (await self._create_bib(key, item),)
                self._bibs.put(key, found)
            return found[0]

    async def _create_bib(self, key: BibKey, item: PublishedItem) -> str:
        create: Callable[[], Awaitable[AlmaBib]]
        if key.kind == "nz_mms_id":
            create = partial(self._scf.create_bib_from_nz, key.value)
        elif item.local_bib_marcxml:
            create = partial(self._scf.create_local_bib, item.local_bib_marcxml)
        else:
            raise CannotMirror("the record has neither an NZ id nor a local bib to create")

        async def look() -> str | None:
            again = await self._lookup(key)
            return again[0] if again else None

        async def make() -> str:
            try:
                bib = await create()
            except AlmaError as error:
                # Another process may have created it since we looked (Alma: "already linked").
                if not is_refusal(error):
                    raise
                again = await look()
                if again is None:
                    raise
                return again
            if not bib.mms_id:
                raise CannotMirror("Alma created the SCF bib but returned no mms_id")
            self._created.add(bib.mms_id)
            self._bare.add(bib.mms_id)
            return bib.mms_id

        try:
            return await self._create_once(make, look)
        except AlmaOutcomeUnknown:
            # Alma may hold the bib after all: the next item of this bib looks it up again
            # rather than trusting an empty answer cached before (I7).
            self._doubted_bibs.add(key)
            raise

    async def _create_once(
        self, create: Callable[[], Awaitable[T]], look: Callable[[], Awaitable[T | None]]
    ) -> T:
        """`create()`; after an `AlmaOutcomeUnknown`, wait, `look()` and create again only when
        the look finds nothing (module text). Raises the last `AlmaOutcomeUnknown` when the
        attempts run out; any other error at once."""
        async for attempt in stamina.retry_context(
            on=AlmaOutcomeUnknown,
            attempts=self._retry.attempts,
            timeout=self._retry.timeout_seconds,
            wait_initial=self._retry.wait_initial,
            wait_max=self._retry.wait_max,
            wait_jitter=self._retry.wait_jitter,
        ):
            with attempt:
                if attempt.num > 1:
                    found = await look()
                    if found is not None:
                        return found
                return await create()
        raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

    # ---- holdings (I8) ---------------------------------------------------------------------

    async def location_codes(self) -> frozenset[str]:
        """The SCF holding library's location codes, read once per batch (I8)."""
        async with self._location_lock:
            if self._location_codes is None:
                locations = await self._scf.locations(self._rs.holding_library)
                self._location_codes = frozenset(loc.code for loc in locations if loc.code)
            return self._location_codes

    async def _list_holdings(self, mms_id: str) -> list[_Holding]:
        return [
            _Holding(h.holding_id, h.library, h.location)
            for h in await self._scf.list_holdings(mms_id)
            if h.holding_id
        ]

    async def _holdings_of(self, mms_id: str, *, fresh: bool = False) -> list[_Holding]:
        cached = None if fresh or mms_id in self._doubted_holdings else self._holdings.get(mms_id)
        if cached is not None:
            return cached
        # A bib this batch created has no holding until this batch POSTs one; after that (even
        # one whose answer was lost) its holdings are listed, also when the cache forgot them.
        cached = [] if mms_id in self._bare else await self._list_holdings(mms_id)
        self._doubted_holdings.discard(mms_id)
        self._holdings.put(mms_id, cached)
        return cached

    async def holding_for(self, mms_id: str, resolved: ScfLocation) -> str:
        """The holding at the resolved library and location, created once per (bib, location)."""
        # One lock per bib, stricter than per (bib, location): the bib's holdings are listed once
        # and two locations of one bib never race on that list.
        async with self._holding_locks.hold(mms_id), self._guard.hold(f"holdings of {mms_id}"):
            holdings = await self._holdings_of(mms_id, fresh=self._others_create)
            found = _matching(holdings, resolved)
            if found is not None:
                return found

            async def look() -> str | None:
                listed = await self._list_holdings(mms_id)
                holdings[:] = listed  # the cached list, now as Alma has it
                return _matching(listed, resolved)

            async def make() -> str:
                self._bare.discard(mms_id)  # from now on Alma may hold one this batch never saw
                created = await self._scf.create_holding(
                    mms_id, resolved.library, resolved.location
                )
                if not created.holding_id:
                    raise CannotMirror("Alma created the SCF holding but returned no holding_id")
                return created.holding_id

            try:
                holding_id = await self._create_once(make, look)
            except AlmaOutcomeUnknown:
                # Alma may hold the holding after all: the next item lists the bib's holdings
                # again instead of creating a second one from a stale cache (I8).
                self._doubted_holdings.add(mms_id)
                raise
            if all(h.holding_id != holding_id for h in holdings):
                holdings.append(_Holding(holding_id, resolved.library, resolved.location))
            return holding_id

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
