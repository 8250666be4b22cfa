"""Creating the SCF mirror of a member item: bib, holding, item, transit loan (rules I7–I10).

The bib and the holding come from the batch's `ScfCatalog` (found or created once, the holding
at the *resolved* location of I8); the item body is the domain's `new_scf_item` (I9); the loan
goes through `TransitLoans` (I10). A loan that still fails leaves the mirror in place: the
outcome is a failure that nonetheless records the mirror, without the loan.

Alma refuses a second item with a barcode in use. The ledger and the SCF bib's listing said
`{b}X` was absent, so it lives under another bib (a duplicate the Java app made, or a record
that moved between bibs): the caller gets that SCF item back and adopts it as an update.
"""

from __future__ import annotations

from dataclasses import replace

from application.alma import AlmaError, AlmaItem
from application.bib_items import is_refusal
from application.item_outcomes import ItemOutcome, ItemResult, MirrorChange, ScfIds, alma_reason
from application.ports import AlmaGateway
from application.scf_catalog import ScfCatalog
from application.transit_loans import TransitLoans
from domain.holdings import resolve_scf_location
from domain.institutions import RemoteStorage
from domain.item_records import member_fingerprint, new_scf_item
from domain.items import ItemAction
from domain.published import PublishedItem

BARCODE_EXISTS = "401873"
"""Alma: "Item with barcode … already exists"."""


class MirrorCreation:
    """Creates mirrors for one member institution within one batch."""

    def __init__(
        self,
        *,
        institution: str,
        remote_storage: RemoteStorage,
        scf: AlmaGateway,
        catalog: ScfCatalog,
        loans: TransitLoans,
    ) -> None:
        self._inst = institution
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
        try:
            created = await self._scf.create_item(mms_id, holding_id, body)
        except AlmaError as error:
            if not (is_refusal(error) and error.error_code == BARCODE_EXISTS):
                raise
            return await self._scf.item_by_barcode(scf_barcode)
        ids = ScfIds(mms_id, holding_id, ScfIds.of_item(created).item_pid)
        self._catalog.remember_mirror(scf_barcode)
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
            fingerprint=member_fingerprint(member.raw),
            loaned=True,
        )
        try:
            await self._loans.lend(user, ids.item_pid)
        except AlmaError as error:
            # The mirror exists and stays recorded; only the loan is missing (I10).
            message = f"created {scf_barcode} {where}, but the loan to {user} failed: "
            return replace(
                outcome,
                result=ItemResult.FAILED,
                message=message + alma_reason(error),
                loaned=False,
                error=error,
            )
        return outcome
