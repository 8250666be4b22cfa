"""Creating the SCF mirror of a member item: bib, holding, item, transit loan (rules I7–I10).

The bib and the holding come from the batch's `ScfCatalog` (found or created once, the holding at
the *resolved* location of I8); the item body is the domain's `new_scf_item` (I9); the loan goes
through `TransitLoans` (I10). The ledger row is written in state CREATING before the SCF item is
created, with the bib and holding it goes to and no pid yet, and again in state LENDING with the
pid once Alma answered, each in a unit of work of its own. A crash at any point leaves a row that
owes its loan: LENDING with its pid, and the next sync makes the loan (`complete_loan`); CREATING
without it, and the next sync looks `{b}X` up, and an item under that bib and holding is the one
this creation made, whose loan is owed as well (a mirror found without any row is the Java app's
and is adopted, never lent). A loan that still fails leaves the mirror in place: the outcome is a
failure that records the mirror, still LENDING, so the next sync tries the loan again.

Alma refuses a second item with a barcode in use. Under the bib and holding this creation chose,
that item is this creation's own, made by an attempt whose answer was lost (a connection reset
after Alma wrote it, retried by the adapter): it is recorded and lent as created. Elsewhere, the
ledger and the SCF bib's listing said `{b}X` was absent, so it lives under another bib (a
duplicate the Java app made, or a record that moved between bibs): the caller gets that SCF item
back and adopts it as an update.
"""

from __future__ import annotations

from dataclasses import replace

from application.ports.alma.items import ItemsPort
from application.ports.ledger import Ledger
from application.scf.items.item_outcomes import (
    ItemOutcome,
    ItemResult,
    MirrorChange,
    ScfIds,
    alma_reason,
)
from application.scf.items.scf_catalog import ScfCatalog
from application.scf.items.transit_loans import TransitLoans
from application.shared.alma import AlmaFailure, AlmaItem, BarcodeExists
from application.shared.ledger_records import MirrorState
from domain.scf.institutions import RemoteStorage
from domain.scf.items.decisions import ItemAction
from domain.scf.items.holdings import resolve_scf_location
from domain.scf.items.item_records import member_fingerprint, new_scf_item
from domain.scf.items.published import PublishedItem

NO_ITEM_ID_YET = ""
"""What a `CREATING` row stores for the pid it does not have (the column is required); no reader
looks at it: `MirroredItem.has_item_id` says whether there is one."""


class MirrorCreation:
    """Creates mirrors for one member institution within one batch."""

    def __init__(
        self,
        *,
        institution: str,
        remote_storage: RemoteStorage,
        scf: ItemsPort,
        catalog: ScfCatalog,
        loans: TransitLoans,
        ledger: Ledger,
    ) -> None:
        self._inst = institution
        self._ledger = ledger
        self._rs = remote_storage
        self._scf = scf
        self._catalog = catalog
        self._loans = loans

    async def create(self, item: PublishedItem, member: AlmaItem) -> ItemOutcome | AlmaItem:
        """The new mirror's outcome, or the SCF item that already has the barcode."""
        scf_barcode, library = item.scf_barcode, item.library
        if scf_barcode is None or library is None:  # in remote storage (I5) implies both
            raise ValueError("a mirror needs the item's barcode and library")
        body = new_scf_item(member.raw, self._inst)
        mms_id = await self._catalog.bib_for(item)
        codes = await self._catalog.location_codes()
        resolved = resolve_scf_location(item.location, codes, self._rs)
        holding_id = await self._catalog.holding_for(mms_id, resolved)
        fingerprint = member_fingerprint(member.raw)
        # Written ahead: a crash between Alma's creating the item and the row learning its pid
        # must not leave a mirror the ledger does not know it made (and owes a loan to).
        await self._owe_loan(
            item,
            member,
            ScfIds(mms_id, holding_id, NO_ITEM_ID_YET),
            fingerprint,
            MirrorState.CREATING,
        )
        try:
            created = await self._scf.create_item(mms_id, holding_id, body)
        except BarcodeExists:
            found = await self._scf.item_by_barcode(scf_barcode)
            if (found.mms_id, found.holding_id) != (mms_id, holding_id):
                return found
            # Under the very bib and holding this creation chose: it is the item this creation
            # made, its answer lost on the way (a reset after Alma wrote it; the adapter retried
            # the POST). It is ours and owes its loan (I10), like a crash's CREATING row.
            created = found
        ids = ScfIds(mms_id, holding_id, ScfIds.of_item(created).item_pid)
        self._catalog.remember_mirror(scf_barcode)
        await self._owe_loan(item, member, ids, fingerprint)
        user = self._loans.user_for(self._inst, library)
        where = (
            f"in SCF bib {mms_id}, holding {holding_id} at {resolved.library}/{resolved.location}"
        )
        outcome = ItemOutcome(
            item,
            ItemResult.CREATED,
            ItemAction.CREATE,
            f"created {scf_barcode} {where}, lent to {user}",
            scf=ids,
            mirror=MirrorChange.UPSERT,
            member_item_pid=member.pid,
            fingerprint=fingerprint,
            loaned=True,
        )
        return await self._lend(outcome, user, f"created {scf_barcode} {where}")

    async def complete_loan(
        self, item: PublishedItem, member: AlmaItem, ids: ScfIds
    ) -> ItemOutcome:
        """Make the I10 loan a ledger row in state LENDING still owes (a crash or a failed loan
        after the mirror was created); the outcome records the mirror as created and lent."""
        library = item.library
        if library is None:  # in remote storage (I5) implies it
            raise ValueError("a mirror's loan needs the item's library")
        user = self._loans.user_for(self._inst, library)
        outcome = ItemOutcome(
            item,
            ItemResult.CREATED,
            ItemAction.CREATE,
            f"completed the transit loan of {item.scf_barcode} to {user} owed since its creation",
            scf=ids,
            mirror=MirrorChange.UPSERT,
            member_item_pid=member.pid,
            fingerprint=member_fingerprint(member.raw),
            loaned=True,
        )
        return await self._lend(outcome, user, f"{item.scf_barcode} exists")

    async def _owe_loan(
        self,
        item: PublishedItem,
        member: AlmaItem,
        ids: ScfIds,
        fingerprint: str,
        state: MirrorState = MirrorState.LENDING,
    ) -> None:
        """Record the new mirror, its loan still owed, before lending it (I10, I13); in state
        `CREATING`, before Alma is even asked to create it."""
        assert item.barcode is not None
        async with self._ledger.unit_of_work() as uow:
            await uow.items.upsert(
                self._inst,
                item.barcode,
                scf_mms_id=ids.mms_id,
                scf_holding_id=ids.holding_id,
                scf_item_pid=ids.item_pid,
                member_mms_id=item.member_mms_id,
                nz_mms_id=item.nz_mms_id,
                member_item_pid=member.pid,
                fingerprint=fingerprint,
                state=state,
            )
            await uow.commit()

    async def _lend(self, outcome: ItemOutcome, user: str, what: str) -> ItemOutcome:
        assert outcome.scf is not None
        try:
            await self._loans.lend(user, outcome.scf.item_pid)
        except AlmaFailure as error:
            # The mirror exists and stays recorded, its loan still owed (I10): the row stays
            # LENDING and the next sync tries the loan again. A quota stop (`AlmaStop`) is caught
            # too, so that the creation is recorded before the sync stops on it (item_sync).
            message = f"{what}, but the loan to {user} failed: "
            return replace(
                outcome,
                result=ItemResult.FAILED,
                message=message + alma_reason(error),
                loaned=False,
                loan_owed=True,
                error=error,
            )
        return outcome
