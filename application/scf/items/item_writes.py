"""The writes of one item's plan: the SCF calls that carry out what `ItemMirroring.plan` decided.

`MirrorCreation` creates a mirror and makes its loan (I7–I10), writing the ledger row it owes
ahead; an update is one PUT (I11), a delete one DELETE (I12), and a deleted mirror is forgotten
by the batch's `ScfCatalog`. Reads happen here only where a write has made them necessary: a
creation that finds the barcode under another bib adopts that item (I11), a mirror whose
owed loan was just made is updated as usual (I11), and a delete Alma refuses as on loan reads
who has the mirror: the bridge's own I10 transit loan is returned and the delete made again
(I12). A mirror not on loan costs the one DELETE; the loan is read only after the refusal.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol, assert_never

from application.ports.alma.items import ItemsPort
from application.ports.alma.loans import LoansPort
from application.scf.items.item_outcomes import ItemOutcome, ItemResult, ScfIds, alma_reason
from application.scf.items.item_plans import (
    CompleteLoan,
    Create,
    Delete,
    Gone,
    Ready,
    Update,
    WritePlan,
    deleted,
    failed,
    plan_update,
    updated,
)
from application.scf.items.mirror_creation import MirrorCreation
from application.scf.items.scf_catalog import ScfCatalog
from application.shared.alma import AlmaError, AlmaItem, ItemNotFound, ItemOnLoan
from domain.scf.institutions import RemoteStorage
from domain.scf.items.decisions import ItemAction, ItemDecision
from domain.scf.items.published import PublishedItem


class ScfItemsAndLoans(ItemsPort, LoansPort, Protocol):
    """The SCF's items and loans: what the writes of a plan call."""


class MirrorWrites:
    """Carries out the plans of one member institution's items within one batch.

    `transit_users` are the SCF system users (N3) the bridge lends this institution's mirrors
    to (I10): a loan to one of them is the bridge's own, returned before a delete (I12).
    """

    def __init__(
        self,
        *,
        scf: ScfItemsAndLoans,
        catalog: ScfCatalog,
        creation: MirrorCreation,
        remote_storage: RemoteStorage,
        transit_users: frozenset[str],
    ) -> None:
        self._scf = scf
        self._catalog = catalog
        self._creation = creation
        self._rs = remote_storage
        self._transit_users = transit_users

    async def apply(self, plan: WritePlan) -> ItemOutcome:
        """The outcome of the plan's writes; Alma's errors go up to the caller's guard, but for
        those a write turns into the item's outcome (a refused PUT or DELETE)."""
        match plan:
            case Create():
                return await self._create(plan)
            case CompleteLoan():
                return await self._complete_loan(plan)
            case Update():
                return await self._update(plan)
            case Delete():
                return await self._delete(plan)
            case Gone():
                return self._gone(plan)
            case _:
                assert_never(plan)

    async def _create(self, plan: Create) -> ItemOutcome:
        """I7–I10, or I11 when Alma already has the mirror under another bib."""
        made = await self._creation.create(plan.item, plan.member)
        if isinstance(made, AlmaItem):
            # The mirror exists under another bib (e.g. made by the Java app): adopt it.
            return await self._refresh(plan.item, plan.decision, made, plan.member)
        return made

    async def _complete_loan(self, plan: CompleteLoan) -> ItemOutcome:
        """I10 for a mirror created earlier whose loan is still owed, then I11 as usual."""
        lent = await self._creation.complete_loan(plan.item, plan.member, plan.target)
        if lent.result is ItemResult.FAILED:
            return lent  # the row stays LENDING: the next sync tries again
        refreshed = await self._refresh(plan.item, plan.decision, plan.scf_item, plan.member)
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
        self, item: PublishedItem, decision: ItemDecision, scf_item: AlmaItem, member: AlmaItem
    ) -> ItemOutcome:
        """I11 over an SCF item a write brought up: PUT only a real change."""
        step = plan_update(item, decision, scf_item, member)
        return step.outcome if isinstance(step, Ready) else await self._update(step)

    async def _update(self, plan: Update) -> ItemOutcome:
        """I11: the PUT; Alma's refusal is the failure's reason."""
        target = plan.target
        try:
            await self._scf.update_item(
                target.mms_id, target.holding_id, target.item_pid, plan.update.body
            )
        except AlmaError as error:
            return failed(plan.item, ItemAction.UPDATE, alma_reason(error), error, target)
        return updated(plan)

    async def _delete(self, plan: Delete) -> ItemOutcome:
        """I12: delete `{b}X`. Refused as on loan, and on the bridge's own transit loan (I10):
        that loan is returned and the delete made again. Any other refusal (a patron's loan, a
        request) is the failure's reason, in Alma's words; the patron's loan is left alone."""
        target = plan.target
        barcode = plan.item.scf_barcode
        returned_from: str | None = None
        try:
            try:
                await self._delete_item(target)
            except ItemOnLoan:
                returned_from = await self._return_transit_loan(target)
                if returned_from is None:
                    raise  # not the bridge's loan: Alma's refusal stands
                await self._delete_item(target)
        except ItemNotFound:
            return self._gone(plan)
        except AlmaError as error:
            outcome = failed(plan.item, ItemAction.DELETE, alma_reason(error), error, target)
            if returned_from is None:
                return outcome
            message = f"returned the transit loan of {barcode} to {returned_from}, but "
            return replace(outcome, message=message + outcome.message, loan_returned=True)
        if returned_from is None:
            return self._gone(plan, f"deleted {barcode}")
        returned = f"returned the transit loan of {barcode} to {returned_from}"
        return self._gone(plan, f"{returned} and deleted {barcode}")

    async def _delete_item(self, target: ScfIds) -> None:
        await self._scf.delete_item(target.mms_id, target.holding_id, target.item_pid)

    async def _return_transit_loan(self, target: ScfIds) -> str | None:
        """Return the mirror's loan when it is the bridge's own I10 transit loan, at the SCF's
        desk (the scan-in that ends a loan, as Alma has no other return); the system user it
        was lent to, or None when it is on loan to anyone else (or to nobody: a request)."""
        loans = await self._scf.item_loans(target.mms_id, target.holding_id, target.item_pid)
        ours = [loan.user_id for loan in loans if loan.user_id in self._transit_users]
        if not ours or len(ours) != len(loans):
            return None
        await self._scf.scan_in(
            target.mms_id,
            target.holding_id,
            target.item_pid,
            library=self._rs.holding_library,
            circ_desk=self._rs.circ_desk,
        )
        return ours[0]

    def _gone(self, plan: Delete | Gone, done: str | None = None) -> ItemOutcome:
        """The mirror is gone from the SCF: `done` by this delete, or already."""
        assert plan.item.scf_barcode is not None
        self._catalog.forget_mirror(plan.item.scf_barcode)
        return deleted(plan, done)
