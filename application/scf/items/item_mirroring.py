"""One published item: plan what its SCF mirror needs, then make the Alma calls (I3–I12).

The decision is the domain's (`decide_update`, `decide_delete`, `in_remote_storage`); `plan`
finds the facts it needs as cheaply as it can and returns the step it calls for (`item_plans`),
without writing anything; `apply` makes that step's writes (`item_writes`):

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
(`item_outcomes.record_outcome`). A dry run plans like a real run and reports the plan
(`item_plans.planned`) instead of applying it: every read happens and no write does.
"""

from __future__ import annotations

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.ports.ledger import Ledger
from application.scf.items.bib_items import MemberItems
from application.scf.items.item_outcomes import CannotMirror, ItemOutcome, ItemResult, ScfIds
from application.scf.items.item_plans import (
    CompleteLoan,
    Create,
    Delete,
    Gone,
    ItemPlan,
    Ready,
    guarded,
    plan_update,
    planned,
    unchanged_at_member,
)
from application.scf.items.item_writes import MirrorWrites
from application.scf.items.mirror_creation import MirrorCreation
from application.scf.items.scf_catalog import CreationGuard, ScfCatalog
from application.scf.items.transit_loans import TransitLoans
from application.shared.alma import AlmaItem, ItemNotFound
from application.shared.ledger_records import MirroredItem, MirrorState
from domain.scf.institutions import Consortium
from domain.scf.items.decisions import (
    ItemAction,
    ItemDecision,
    decide_delete,
    decide_update,
    in_remote_storage,
)
from domain.scf.items.item_records import member_fingerprint, new_scf_item
from domain.scf.items.published import PublishedItem
from domain.scf.naming import system_user_id

NO_BARCODE = "the ITM field has no barcode ($b), so there is nothing to mirror (I3)"


def mirroring_for(
    alma: AlmaDirectory,
    ledger: Ledger,
    consortium: Consortium,
    institution: str,
    loans: TransitLoans,
    *,
    dry_run: bool = False,
    guard: CreationGuard | None = None,
) -> ItemMirroring:
    """The items sync's mirroring of one member, over the SCF's and the member's gateways;
    reconciliation repairs through the very same object (issue 7). `guard` keeps SCF bib and
    holding creations single among batches running at once (a member's webhooks, W7)."""
    remote_storage = consortium.remote_storage
    scf = alma.gateway(remote_storage.institution)
    catalog = ScfCatalog(scf, remote_storage, guard=guard)
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


def transit_users(consortium: Consortium, institution: str) -> frozenset[str]:
    """The SCF system users `{INST}-{LIBRARY}` (N3) the bridge lends the institution's mirrors
    to (I10): one per configured library, since I5 mirrors only items of those."""
    member = consortium.institution(institution)
    libraries = member.libraries if member is not None else ()
    return frozenset(system_user_id(institution, library.code) for library in libraries)


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
        self._writes = MirrorWrites(
            scf=scf,
            catalog=catalog,
            creation=creation,
            remote_storage=consortium.remote_storage,
            transit_users=transit_users(consortium, institution),
        )
        self._dry_run = dry_run

    async def mirror(self, item: PublishedItem) -> ItemOutcome:
        """The outcome for one item, or in a dry run what it would be. Raises only an
        `AlmaStop` (the daily quota): the sync stops, and whatever this item had written ahead
        is finished next time."""
        plan = await self.plan(item)
        if self._dry_run:
            return planned(plan)
        return await self.apply(plan)

    async def plan(self, item: PublishedItem) -> ItemPlan:
        """What the item's mirror needs, from reads only: the ledger row, the SCF, the member
        item. A failure to gather the facts is a `Ready` failed outcome."""
        barcode = item.barcode
        if barcode is None or item.scf_barcode is None:
            return Ready(ItemOutcome(item, ItemResult.SKIPPED, ItemAction.NOTHING, NO_BARCODE))
        async with self._ledger.unit_of_work() as uow:
            row = await uow.items.get(self._inst, barcode)
        live = (MirrorState.CREATING, MirrorState.MIRRORED, MirrorState.LENDING)
        mirrored = row if row is not None and row.state in live else None
        found = await guarded(item, ItemAction.NOTHING, self._decide(item, mirrored))
        if isinstance(found, ItemOutcome):
            return Ready(found)  # the facts could not be gathered
        decision, existing = found
        step = await guarded(
            item, decision.action, self._plan_step(item, decision, mirrored, existing)
        )
        return Ready(step) if isinstance(step, ItemOutcome) else step

    async def apply(self, plan: ItemPlan) -> ItemOutcome:
        """The plan's writes and their outcome; Alma's errors are the item's failure."""
        if isinstance(plan, Ready):
            return plan.outcome
        return await guarded(plan.item, plan.failure_action, self._writes.apply(plan))

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

    async def _plan_step(
        self,
        item: PublishedItem,
        decision: ItemDecision,
        mirrored: MirroredItem | None,
        existing: AlmaItem | None,
    ) -> ItemPlan:
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
                    return Gone(item=item, decision=decision, target=ScfIds.of_row(mirrored))
                mirrored = None
            target = ScfIds.of_row(mirrored) if mirrored else ScfIds.of_item(existing)
            return Delete(item=item, decision=decision, target=target)
        return Ready(ItemOutcome(item, ItemResult.SKIPPED, decision.action, decision.reason))

    # ---- the steps' facts --------------------------------------------------------------------

    async def _member_item(self, item: PublishedItem) -> AlmaItem:
        assert item.barcode is not None
        member = await self._members.item(item.member_mms_id, item.barcode)
        if member is None:
            raise CannotMirror(f"{self._inst} has no item with barcode {item.barcode}")
        return member

    async def _create(
        self,
        item: PublishedItem,
        decision: ItemDecision,
        member: AlmaItem | None = None,
        fails_as: ItemAction | None = None,
    ) -> Create:
        """I7–I10 for the member item."""
        member = member or await self._member_item(item)
        new_scf_item(member.raw, self._inst)  # what would be sent must at least be buildable
        return Create(item=item, decision=decision, member=member, fails_as=fails_as)

    async def _recreate(self, item: PublishedItem, member: AlmaItem | None = None) -> Create:
        """The SCF does not have the mirror the ledger remembers (or was about to create): make
        it now; a failure is still the update's."""
        recreate = decide_update(
            scf_item_exists=False,
            in_remote_storage=True,
            ignore_delete_files=self._ignore_deletes,
        )
        return await self._create(item, recreate, member, fails_as=ItemAction.UPDATE)

    async def _complete_loan(
        self, item: PublishedItem, decision: ItemDecision, owed: MirroredItem
    ) -> ItemPlan:
        """I10 for a mirror created earlier whose loan is still owed, then I11 as usual."""
        member = await self._member_item(item)
        ids = ScfIds.of_row(owed)
        scf_item = await self._owed_item(item, owed)
        if scf_item is None:
            return await self._recreate(item, member)
        if not owed.has_item_id:
            found = ScfIds.of_item(scf_item)
            if (found.mms_id, found.holding_id) != (ids.mms_id, ids.holding_id):
                # Not the item that creation made: another's mirror, adopted as it is.
                return plan_update(item, decision, scf_item, member)
            ids = found
        return CompleteLoan(
            item=item, decision=decision, member=member, target=ids, scf_item=scf_item
        )

    async def _refresh(
        self,
        item: PublishedItem,
        decision: ItemDecision,
        mirrored: MirroredItem | None,
        scf_item: AlmaItem | None,
    ) -> ItemPlan:
        """I11: copy the member's metadata over the SCF item; PUT only a real change."""
        member = await self._member_item(item)
        fingerprint = member_fingerprint(member.raw)
        if mirrored is not None and mirrored.fingerprint == fingerprint:
            return Ready(unchanged_at_member(item, ScfIds.of_row(mirrored), member))
        if scf_item is None and mirrored is not None:
            ids = ScfIds.of_row(mirrored)
            try:
                scf_item = await self._scf.get_item(ids.mms_id, ids.holding_id, ids.item_pid)
            except ItemNotFound:
                # The ledger remembers a mirror the SCF no longer has: make it again.
                return await self._recreate(item)
        assert scf_item is not None
        return plan_update(item, decision, scf_item, member, fingerprint)

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
