"""One published item: decide what its SCF mirror needs, then make the Alma calls (I3–I12).

The decision is the domain's (`decide_update`, `decide_delete`, `in_remote_storage`); this module
finds the facts it needs as cheaply as it can and carries it out:

* Does `{b}X` exist? The ledger's `mirrored_items` row says so first; without one (a barcode the
  bridge never saw, or mirrored by the Java app) the SCF bib's item listing does (`ScfCatalog`).
* Unchanged items cost no SCF call: the row keeps `member_fingerprint` of the member item, and an
  equal fingerprint means the PUT of rule I11 could not change anything.
* A changed item is read from the SCF by the ids in the ledger (one call, never by barcode) and
  PUT only when `updated_scf_item` reports a change.
* A row in state LENDING is a mirror the bridge created whose I10 transit loan is still owed
  (killed before the loan, or the loan failed): the loan is made now, then the item is updated
  as usual. Without a pid, the row was written just before the SCF item was to be created (then
  killed): `{b}X` is looked up, and one under the row's bib and holding is that creation's, lent
  now; one elsewhere is adopted; none is created. A mirror found in the SCF without a row (the
  Java app's) is adopted, never lent.

Nothing is written to the ledger here but the LENDING row `MirrorCreation` writes as soon as a
mirror exists: the outcome goes back to the caller, which records it
(`item_outcomes.record_outcome`). With `dry_run` every read happens and no write does.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from typing import TypeVar

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.ports.ledger import Ledger
from application.scf.items.bib_items import MemberItems
from application.scf.items.item_outcomes import (
    CannotMirror,
    ItemOutcome,
    ItemResult,
    MirrorChange,
    ScfIds,
    alma_reason,
)
from application.scf.items.mirror_creation import MirrorCreation
from application.scf.items.scf_catalog import ScfCatalog
from application.scf.items.transit_loans import TransitLoans
from application.shared.alma import AlmaError, AlmaFailure, AlmaItem, ItemNotFound
from application.shared.ledger_records import MirroredItem, MirrorState
from domain.scf.institutions import Consortium
from domain.scf.items.decisions import (
    ItemAction,
    ItemDecision,
    decide_delete,
    decide_update,
    in_remote_storage,
)
from domain.scf.items.item_records import member_fingerprint, new_scf_item, updated_scf_item
from domain.scf.items.published import PublishedItem
from domain.shared.errors import DomainError

T = TypeVar("T")

NO_BARCODE = "the ITM field has no barcode ($b), so there is nothing to mirror (I3)"


def mirroring_for(
    alma: AlmaDirectory,
    ledger: Ledger,
    consortium: Consortium,
    institution: str,
    loans: TransitLoans,
    *,
    dry_run: bool = False,
) -> ItemMirroring:
    """The items sync's mirroring of one member, over the SCF's and the member's gateways;
    reconciliation repairs through the very same object (issue 7)."""
    remote_storage = consortium.remote_storage
    scf = alma.gateway(remote_storage.institution)
    catalog = ScfCatalog(scf, remote_storage)
    return ItemMirroring(
        institution=institution,
        consortium=consortium,
        ledger=ledger,
        scf=scf,
        catalog=catalog,
        members=MemberItems(alma.gateway(institution)),
        creation=MirrorCreation(
            institution=institution,
            remote_storage=remote_storage,
            scf=scf,
            catalog=catalog,
            loans=loans,
            ledger=ledger,
        ),
        dry_run=dry_run,
    )


class ItemMirroring:
    """Mirrors the published items of one member institution into the SCF."""

    def __init__(
        self,
        *,
        institution: str,
        consortium: Consortium,
        ledger: Ledger,
        scf: AlmaGateway,
        catalog: ScfCatalog,
        members: MemberItems,
        creation: MirrorCreation,
        dry_run: bool = False,
    ) -> None:
        self._inst = institution
        self._consortium = consortium
        self._ignore_deletes = consortium.ignore_delete_files
        self._ledger = ledger
        self._scf = scf
        self._catalog = catalog
        self._members = members
        self._creation = creation
        self._dry_run = dry_run

    async def mirror(self, item: PublishedItem) -> ItemOutcome:
        """The outcome for one item. Raises only an `AlmaStop` (the daily quota): the sync
        stops, and whatever this item had written ahead is finished next time."""
        barcode = item.barcode
        if barcode is None or item.scf_barcode is None:
            return ItemOutcome(item, ItemResult.SKIPPED, ItemAction.NOTHING, NO_BARCODE)
        async with self._ledger.unit_of_work() as uow:
            row = await uow.items.get(self._inst, barcode)
        live = (MirrorState.CREATING, MirrorState.MIRRORED, MirrorState.LENDING)
        mirrored = row if row is not None and row.state in live else None
        found = await self._guarded(item, ItemAction.NOTHING, self._decide(item, mirrored))
        if isinstance(found, ItemOutcome):
            return found  # the facts could not be gathered
        decision, existing = found
        return await self._guarded(
            item, decision.action, self._act(item, decision, mirrored, existing)
        )

    async def _guarded(
        self, item: PublishedItem, action: ItemAction, work: Awaitable[T]
    ) -> T | ItemOutcome:
        """Alma's refusals and transient failures (after the adapter's retries) become the
        item's failure; the daily quota (an `AlmaStop`) goes up to stop the whole sync."""
        try:
            return await work
        except AlmaError as error:
            return self._failed(item, action, alma_reason(error), error)
        except (CannotMirror, DomainError) as error:
            return self._failed(item, action, str(error))

    # ---- deciding ----------------------------------------------------------------------------

    async def _decide(
        self, item: PublishedItem, mirrored: MirroredItem | None
    ) -> tuple[ItemDecision, AlmaItem | None]:
        """The domain's decision (I4, I6) and the SCF item found when the ledger has none."""
        stored = not item.deleted and in_remote_storage(
            self._consortium, self._inst, item.library, item.location
        )
        existing = None
        # Ask the SCF only when the ledger does not know and the answer can change the decision:
        # with ignore_delete_files nothing leaves the SCF, so only an item in remote storage
        # needs to know whether it is there already (I4, I6).
        if mirrored is None and (stored or not self._ignore_deletes):
            existing = await self._catalog.existing_mirror(item)
        exists = mirrored is not None or existing is not None
        if item.deleted:
            return decide_delete(
                scf_item_exists=exists, ignore_delete_files=self._ignore_deletes
            ), existing
        decision = decide_update(
            scf_item_exists=exists,
            in_remote_storage=stored,
            ignore_delete_files=self._ignore_deletes,
        )
        return decision, existing

    async def _act(
        self,
        item: PublishedItem,
        decision: ItemDecision,
        mirrored: MirroredItem | None,
        existing: AlmaItem | None,
    ) -> ItemOutcome:
        if decision.action is ItemAction.CREATE:
            return await self._create(item, decision)
        if decision.action is ItemAction.UPDATE:
            if mirrored is not None and mirrored.owes_loan:
                return await self._complete_loan(item, decision, mirrored)
            return await self._refresh(item, decision, mirrored, existing)
        if decision.action is ItemAction.DELETE:
            if mirrored is not None and not mirrored.has_item_id:
                # Killed while creating it, and now to be deleted: whatever Alma made goes.
                existing = await self._owed_item(item, mirrored)
                if existing is None:
                    return self._gone(item, ScfIds.of_row(mirrored), decision)
                mirrored = None
            target = ScfIds.of_row(mirrored) if mirrored else ScfIds.of_item(existing)
            return await self._delete(item, target, decision)
        return ItemOutcome(item, ItemResult.SKIPPED, decision.action, decision.reason)

    # ---- acting ------------------------------------------------------------------------------

    async def _member_item(self, item: PublishedItem) -> AlmaItem:
        assert item.barcode is not None
        member = await self._members.item(item.member_mms_id, item.barcode)
        if member is None:
            raise CannotMirror(f"{self._inst} has no item with barcode {item.barcode}")
        return member

    async def _create(
        self, item: PublishedItem, decision: ItemDecision, member: AlmaItem | None = None
    ) -> ItemOutcome:
        """I7–I10, or I11 when Alma already has the mirror under another bib."""
        member = member or await self._member_item(item)
        if self._dry_run:
            new_scf_item(member.raw, self._inst)  # what would be sent must at least be buildable
            return self._planned(item, ItemResult.CREATED, decision)
        made = await self._creation.create(item, member)
        if isinstance(made, AlmaItem):
            # The mirror exists under another bib (e.g. made by the Java app): adopt it.
            return await self._refresh(item, decision, None, made, member)
        return made

    async def _complete_loan(
        self, item: PublishedItem, decision: ItemDecision, owed: MirroredItem
    ) -> ItemOutcome:
        """I10 for a mirror created earlier whose loan is still owed, then I11 as usual."""
        member = await self._member_item(item)
        ids = ScfIds.of_row(owed)
        scf_item = await self._owed_item(item, owed)
        if scf_item is None:
            # The SCF does not have the mirror the ledger remembers (or was about to create):
            # make it now.
            recreate = decide_update(
                scf_item_exists=False,
                in_remote_storage=True,
                ignore_delete_files=self._ignore_deletes,
            )
            return await self._create(item, recreate, member)
        if not owed.has_item_id:
            found = ScfIds.of_item(scf_item)
            if (found.mms_id, found.holding_id) != (ids.mms_id, ids.holding_id):
                # Not the item that creation made: another's mirror, adopted as it is.
                return await self._refresh(item, decision, None, scf_item, member)
            ids = found
        if self._dry_run:
            return self._planned(item, ItemResult.CREATED, decision)
        lent = await self._creation.complete_loan(item, member, ids)
        if lent.result is ItemResult.FAILED:
            return lent  # the row stays LENDING: the next sync tries again
        refreshed = await self._refresh(item, decision, None, scf_item, member)
        if refreshed.result is ItemResult.UPDATED:
            return replace(refreshed, loaned=True, message=f"{lent.message}; {refreshed.message}")
        if refreshed.result is ItemResult.FAILED:
            # Lent, but the update failed: no fingerprint, so the next sync updates again.
            return replace(
                lent,
                result=ItemResult.FAILED,
                message=f"{lent.message}, but {refreshed.message}",
                fingerprint=None,
                error=refreshed.error,
            )
        return lent

    async def _refresh(
        self,
        item: PublishedItem,
        decision: ItemDecision,
        mirrored: MirroredItem | None,
        scf_item: AlmaItem | None,
        member: AlmaItem | None = None,
    ) -> ItemOutcome:
        """I11: copy the member's metadata over the SCF item; PUT only a real change."""
        member = member or await self._member_item(item)
        fingerprint = member_fingerprint(member.raw)
        if mirrored is not None and mirrored.fingerprint == fingerprint:
            message = "unchanged at the member since the last sync: no SCF call"
            return ItemOutcome(
                item,
                ItemResult.UNCHANGED,
                ItemAction.UPDATE,
                message,
                scf=ScfIds.of_row(mirrored),
                member_item_pid=member.pid,
            )
        if scf_item is None and mirrored is not None:
            ids = ScfIds.of_row(mirrored)
            try:
                scf_item = await self._scf.get_item(ids.mms_id, ids.holding_id, ids.item_pid)
            except ItemNotFound:
                # The ledger remembers a mirror the SCF no longer has: make it again.
                recreate = decide_update(
                    scf_item_exists=False,
                    in_remote_storage=True,
                    ignore_delete_files=self._ignore_deletes,
                )
                return await self._create(item, recreate)
        assert scf_item is not None
        update = updated_scf_item(scf_item.raw, member.raw)
        unchanged = ItemOutcome(
            item,
            ItemResult.UNCHANGED,
            ItemAction.UPDATE,
            "nothing the SCF copies from the member differs: no PUT",
            scf=ScfIds.of_item(scf_item),
            mirror=MirrorChange.UPSERT,
            member_item_pid=member.pid,
            fingerprint=fingerprint,
        )
        if not update.changed:
            return unchanged
        if self._dry_run:
            return self._planned(item, ItemResult.UPDATED, decision, update.changed_fields)
        target = unchanged.scf
        assert target is not None
        try:
            await self._scf.update_item(
                target.mms_id, target.holding_id, target.item_pid, update.body
            )
        except AlmaError as error:
            return self._failed(item, ItemAction.UPDATE, alma_reason(error), error, target)
        return replace(
            unchanged,
            result=ItemResult.UPDATED,
            message=f"updated {', '.join(update.changed_fields)} of {item.scf_barcode}",
            changed_fields=update.changed_fields,
        )

    async def _owed_item(self, item: PublishedItem, row: MirroredItem) -> AlmaItem | None:
        """The SCF item of a row whose loan is owed, or None: by its ids, or by barcode when the
        row was written before the item was created (`CREATING`)."""
        try:
            if row.has_item_id:
                return await self._scf.get_item(
                    row.scf_mms_id, row.scf_holding_id, row.scf_item_pid
                )
            assert item.scf_barcode is not None  # a row has a barcode
            return await self._scf.item_by_barcode(item.scf_barcode)
        except ItemNotFound:
            return None

    async def _delete(
        self, item: PublishedItem, target: ScfIds, decision: ItemDecision
    ) -> ItemOutcome:
        """I12: delete `{b}X`; Alma's refusal (e.g. on loan) is the failure's reason."""
        if self._dry_run:
            return self._planned(item, ItemResult.DELETED, decision)
        try:
            await self._scf.delete_item(target.mms_id, target.holding_id, target.item_pid)
        except ItemNotFound:
            return self._gone(item, target, decision)
        except AlmaError as error:
            return self._failed(item, ItemAction.DELETE, alma_reason(error), error, target)
        return self._gone(item, target, decision, f"deleted {item.scf_barcode}")

    def _gone(
        self, item: PublishedItem, target: ScfIds, decision: ItemDecision, done: str | None = None
    ) -> ItemOutcome:
        """The outcome of a delete: `done`, or the mirror was already gone from the SCF."""
        if self._dry_run:
            return self._planned(item, ItemResult.DELETED, decision)
        assert item.scf_barcode is not None
        self._catalog.forget_mirror(item.scf_barcode)
        what = done or f"{item.scf_barcode} was already gone from the SCF"
        return ItemOutcome(
            item,
            ItemResult.DELETED,
            ItemAction.DELETE,
            f"{what}: {decision.reason}",
            scf=target,
            mirror=MirrorChange.DELETED,
        )

    # ---- outcomes that change nothing -----------------------------------------------------------

    def _planned(
        self,
        item: PublishedItem,
        result: ItemResult,
        decision: ItemDecision,
        changed: tuple[str, ...] = (),
    ) -> ItemOutcome:
        what = f" ({', '.join(changed)})" if changed else ""
        message = f"dry run: would be {result.value}{what}: {decision.reason}"
        return ItemOutcome(item, result, decision.action, message, changed_fields=changed)

    def _failed(
        self,
        item: PublishedItem,
        action: ItemAction,
        reason: str,
        error: AlmaFailure | None = None,
        scf: ScfIds | None = None,
    ) -> ItemOutcome:
        return ItemOutcome(item, ItemResult.FAILED, action, reason, scf=scf, error=error)
