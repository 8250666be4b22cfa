"""What one published item's SCF mirror needs, decided before anything is written (rules I6–I13).

`ItemMirroring.plan` makes every read the decision needs (the ledger row, the SCF, the member
item) and returns one of these plans; `ItemMirroring.apply` makes the writes it names
(`item_writes`). A dry run makes the same reads and reports `planned(plan)` instead of applying
it, so it says exactly what a real run would do without any write.

A plan is either `Ready`, an outcome known without writing anything (skipped, unchanged, or
failed while the facts were gathered), or one write step: `Create` (I7–I10), `CompleteLoan`
(the I10 loan a created mirror still owes, then I11), `Update` (I11), `Delete` (I12) or `Gone`
(I12 for a mirror that is not in the SCF: only the catalog cache forgets it).
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, TypeVar

from application.scf.items.item_outcomes import (
    CannotMirror,
    ItemOutcome,
    ItemResult,
    MirrorChange,
    ScfIds,
    alma_reason,
)
from application.shared.alma import AlmaError, AlmaFailure, AlmaItem
from domain.scf.items.decisions import ItemAction, ItemDecision
from domain.scf.items.item_records import ItemUpdate, member_fingerprint, updated_scf_item
from domain.scf.items.published import PublishedItem
from domain.shared.errors import DomainError

T = TypeVar("T")


class PlanKind(StrEnum):
    """The step a plan asks for."""

    READY = "ready"
    CREATE = "create"
    COMPLETE_LOAN = "complete_loan"
    UPDATE = "update"
    DELETE = "delete"
    GONE = "gone"


@dataclass(frozen=True)
class Ready:
    """Nothing to write: the outcome is known (skipped I3/I6, unchanged I11, or failed)."""

    kind: ClassVar[PlanKind] = PlanKind.READY
    outcome: ItemOutcome

    @property
    def item(self) -> PublishedItem:
        return self.outcome.item


@dataclass(frozen=True, kw_only=True)
class _Write:
    """A write the decision asks for; a dry run reports it as `would_be`."""

    kind: ClassVar[PlanKind]
    would_be: ClassVar[ItemResult]
    item: PublishedItem
    decision: ItemDecision
    """The decision the step carries out; its reason is what a dry run reports."""
    fails_as: ItemAction | None = None
    """The action a failure is recorded under when it is not the decision's: a mirror the ledger
    remembers but the SCF lacks is made again, and fails as the update it was decided as."""

    @property
    def failure_action(self) -> ItemAction:
        return self.fails_as or self.decision.action


@dataclass(frozen=True, kw_only=True)
class Create(_Write):
    """I7–I10: create the mirror of `member` (its I9 body was built once to prove it can be)."""

    kind: ClassVar[PlanKind] = PlanKind.CREATE
    would_be: ClassVar[ItemResult] = ItemResult.CREATED
    member: AlmaItem


@dataclass(frozen=True, kw_only=True)
class CompleteLoan(_Write):
    """I10 owed by the mirror the bridge created at `target`, then I11 over `scf_item`."""

    kind: ClassVar[PlanKind] = PlanKind.COMPLETE_LOAN
    would_be: ClassVar[ItemResult] = ItemResult.CREATED
    member: AlmaItem
    target: ScfIds
    scf_item: AlmaItem


@dataclass(frozen=True, kw_only=True)
class Update(_Write):
    """I11: PUT `update.body` over the mirror at `target`; `update.changed` is always true."""

    kind: ClassVar[PlanKind] = PlanKind.UPDATE
    would_be: ClassVar[ItemResult] = ItemResult.UPDATED
    member: AlmaItem
    fingerprint: str
    target: ScfIds
    update: ItemUpdate


@dataclass(frozen=True, kw_only=True)
class Delete(_Write):
    """I12: DELETE the mirror at `target`."""

    kind: ClassVar[PlanKind] = PlanKind.DELETE
    would_be: ClassVar[ItemResult] = ItemResult.DELETED
    target: ScfIds


@dataclass(frozen=True, kw_only=True)
class Gone(_Write):
    """I12 for a mirror the SCF does not have (a creation killed before Alma made it)."""

    kind: ClassVar[PlanKind] = PlanKind.GONE
    would_be: ClassVar[ItemResult] = ItemResult.DELETED
    target: ScfIds


WritePlan = Create | CompleteLoan | Update | Delete | Gone
ItemPlan = Ready | WritePlan


def planned(plan: ItemPlan) -> ItemOutcome:
    """The dry run's outcome: what applying the plan would do, and the decision's reason."""
    if isinstance(plan, Ready):
        return plan.outcome
    changed = plan.update.changed_fields if isinstance(plan, Update) else ()
    what = f" ({', '.join(changed)})" if changed else ""
    message = f"dry run: would be {plan.would_be.value}{what}: {plan.decision.reason}"
    return ItemOutcome(
        plan.item, plan.would_be, plan.decision.action, message, changed_fields=changed
    )


# ---- I11 --------------------------------------------------------------------------------------


def plan_update(
    item: PublishedItem,
    decision: ItemDecision,
    scf_item: AlmaItem,
    member: AlmaItem,
    fingerprint: str | None = None,
) -> Ready | Update:
    """I11: the member's metadata copied over the SCF item; a PUT only for a real change."""
    fingerprint = fingerprint or member_fingerprint(member.raw)
    update = updated_scf_item(scf_item.raw, member.raw)
    step = Update(
        item=item,
        decision=decision,
        member=member,
        fingerprint=fingerprint,
        target=ScfIds.of_item(scf_item),
        update=update,
    )
    if not update.changed:
        message = "nothing the SCF copies from the member differs: no PUT"
        return Ready(_mirrored(step, ItemResult.UNCHANGED, message))
    return step


def updated(plan: Update) -> ItemOutcome:
    """The outcome of the plan's PUT."""
    changed = plan.update.changed_fields
    message = f"updated {', '.join(changed)} of {plan.item.scf_barcode}"
    return _mirrored(plan, ItemResult.UPDATED, message, changed)


def _mirrored(
    plan: Update, result: ItemResult, message: str, changed: tuple[str, ...] = ()
) -> ItemOutcome:
    return ItemOutcome(
        plan.item,
        result,
        ItemAction.UPDATE,
        message,
        scf=plan.target,
        mirror=MirrorChange.UPSERT,
        member_item_pid=plan.member.pid,
        fingerprint=plan.fingerprint,
        changed_fields=changed,
    )


def unchanged_at_member(item: PublishedItem, target: ScfIds, member: AlmaItem) -> ItemOutcome:
    """I11 skipped: the member item's fingerprint is the one the ledger stored."""
    message = "unchanged at the member since the last sync: no SCF call"
    return ItemOutcome(
        item,
        ItemResult.UNCHANGED,
        ItemAction.UPDATE,
        message,
        scf=target,
        member_item_pid=member.pid,
    )


# ---- I12 --------------------------------------------------------------------------------------


def deleted(plan: Delete | Gone, done: str | None = None) -> ItemOutcome:
    """The outcome of a delete: `done`, or the mirror was already gone from the SCF."""
    what = done or f"{plan.item.scf_barcode} was already gone from the SCF"
    return ItemOutcome(
        plan.item,
        ItemResult.DELETED,
        ItemAction.DELETE,
        f"{what}: {plan.decision.reason}",
        scf=plan.target,
        mirror=MirrorChange.DELETED,
    )


# ---- failures ---------------------------------------------------------------------------------


async def guarded(item: PublishedItem, action: ItemAction, work: Awaitable[T]) -> T | ItemOutcome:
    """Alma's refusals and transient failures (after the adapter's retries) become the item's
    failure; the daily quota (an `AlmaStop`) goes up to stop the whole sync."""
    try:
        return await work
    except AlmaError as error:
        return failed(item, action, alma_reason(error), error)
    except (CannotMirror, DomainError) as error:
        return failed(item, action, str(error))


def failed(
    item: PublishedItem,
    action: ItemAction,
    reason: str,
    error: AlmaFailure | None = None,
    scf: ScfIds | None = None,
) -> ItemOutcome:
    return ItemOutcome(item, ItemResult.FAILED, action, reason, scf=scf, error=error)
