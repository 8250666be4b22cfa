"""A member's `ITEM_CREATED` / `ITEM_UPDATED` / `ITEM_DELETED` mirrored now (rule W7).

The webhook only says which item changed: its body may be stale, and Alma delivers webhooks in
no guaranteed order (an update after the delete, or before the create). So `ItemNow` reads the
item again from the member's Alma by its barcode and mirrors the state Alma has, whatever the
event: an item Alma no longer has is a deletion (I12, honouring `ignore_delete_files` as a
`_delete` file does), one in remote storage is created or updated (I6–I11), one just moved out
of remote storage is deleted (I6). The same `ItemMirroring` as the items sync decides and acts,
so the nightly publishing file's copy of the change finds the I11 fingerprint it stored and costs
no SCF call. The member's bib is read only when I7 creates the SCF bib.

An item neither in remote storage nor mirrored is recorded as skipped without any SCF call.
Every outcome is recorded as the sync records it (I13), with `via: webhook`.

Locks (in this process and across the processes sharing the ledger): a member's webhooks share
its items-sync lock, so they run beside each other and never beside its file sync, which holds
it alone; each holds its barcode alone (a create and an update of one item run one after the
other, and each sees what the other did); and an SCF bib or holding is found or created by one
webhook at a time (`CreationGuard`), so items of one new bib arriving together make it once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.ports.clock import Clock
from application.ports.ledger import HeldLocks, Ledger
from application.scf.institution_locks import (
    ITEM_SYNC_LOCKS,
    InstitutionLocks,
    items_sync_lock,
    record_lock,
)
from application.scf.items.item_mirroring import mirroring_for
from application.scf.items.item_outcomes import ItemOutcome, ItemResult, record_outcome
from application.scf.items.item_plans import Create, guarded
from application.scf.items.transit_loans import LoanRetry, TransitLoans
from application.scf.ports import FailureReports
from application.scf.recorded_via import WEBHOOK, recorded_via, via_details
from application.shared.alma import AlmaItem, AlmaStop, ItemNotFound, TransientAlmaError
from application.shared.ledger_records import MirroredItem, MirrorState, Outcome
from domain.scf.institutions import Consortium
from domain.scf.items.decisions import in_remote_storage
from domain.scf.items.local_bib import local_bib_from_anies
from domain.scf.items.published import PublishedItem
from domain.scf.member_webhooks import ItemChanged
from domain.scf.naming import nz_mms_id
from domain.shared.alma_json import text_at

SOURCE = "webhook"
"""The `source_file` of a webhook's item: it has no publishing file."""
SKIP_ACTION = "item.skip"
"""The event of a member item neither in remote storage nor mirrored (W7)."""
_LIVE = (MirrorState.CREATING, MirrorState.MIRRORED, MirrorState.LENDING)


@dataclass(frozen=True)
class ItemNowResult:
    """What W7 came to; `retry` when the item must be tried again (transient, quota)."""

    institution: str
    barcode: str
    result: ItemResult
    message: str
    retry: bool = False
    stopped: bool = False


class ItemNow:
    """W7: one member item's change mirrored into the SCF now."""

    def __init__(
        self,
        *,
        alma: AlmaDirectory,
        ledger: Ledger,
        consortium: Consortium,
        reports: FailureReports,
        clock: Clock,
        loan_retry: LoanRetry | None = None,
        locks: InstitutionLocks | None = None,
    ) -> None:
        self._alma = alma
        self._ledger = ledger
        self._consortium = consortium
        self._reports = reports
        self._clock = clock
        self._loan_retry = loan_retry
        self._locks = locks or ITEM_SYNC_LOCKS

    async def changed(self, event: ItemChanged) -> ItemNowResult:
        """Mirror the state Alma has now of the item the webhook names."""
        code, barcode = event.institution, event.barcode
        with recorded_via(WEBHOOK):
            lock = items_sync_lock(code)
            async with self._locks.one_record(self._ledger, code, lock, barcode) as held:
                return await self._mirror(event, held)

    async def _mirror(self, event: ItemChanged, held: HeldLocks) -> ItemNowResult:
        member = self._alma.gateway(event.institution)
        current = await _item_or_none(member, event.barcode)
        async with self._ledger.unit_of_work() as uow:
            row = await uow.items.get(event.institution, event.barcode)
        mirrored = row if row is not None and row.state in _LIVE else None
        stored = current is not None and in_remote_storage(
            self._consortium, event.institution, current.library, current.location
        )
        if not stored and mirrored is None:
            where = "gone from Alma" if current is None else "not in remote storage (I5)"
            return await self._skip(event, f"{event.barcode} is {where} and not mirrored (W7)")
        item = _published(event, current, row)
        remote_storage = self._consortium.remote_storage
        loans = TransitLoans(
            self._alma.gateway(remote_storage.institution), remote_storage, self._loan_retry
        )
        mirroring = mirroring_for(
            self._alma,
            self._ledger,
            self._consortium,
            event.institution,
            loans,
            guard=_Creations(held, self._locks, remote_storage.institution),
        )
        try:
            plan = await mirroring.plan(item)
            if isinstance(plan, Create):
                ready = await guarded(plan.item, plan.failure_action, self._with_bib(member, plan))
                outcome = ready if isinstance(ready, ItemOutcome) else await mirroring.apply(ready)
            else:
                outcome = await mirroring.apply(plan)
        except AlmaStop as stop:
            return ItemNowResult(
                event.institution, event.barcode, ItemResult.FAILED, str(stop), True, True
            )
        await record_outcome(self._ledger, self._reports, self._clock, outcome, None)
        return _result(event, outcome)

    async def _with_bib(self, member: AlmaGateway, plan: Create) -> Create:
        """I7 needs the member's bib (its NZ id, else its record for a local SCF bib): read
        only for a plan that creates the mirror."""
        item = plan.item
        bib = await member.get_bib(item.member_mms_id)
        network_id = nz_mms_id(bib.network_numbers)
        local_bib = None
        if network_id is None:
            anies = bib.raw.get("anies")
            text = anies[0] if isinstance(anies, list) and anies else anies
            if isinstance(text, str):
                local_bib = local_bib_from_anies(text, item.institution, item.member_mms_id)
        return replace(plan, item=replace(item, nz_mms_id=network_id, local_bib_marcxml=local_bib))

    async def _skip(self, event: ItemChanged, reason: str) -> ItemNowResult:
        async with self._ledger.unit_of_work() as uow:
            await uow.events.append(
                SKIP_ACTION,
                Outcome.SKIPPED,
                institution=event.institution,
                barcode=event.barcode,
                message=reason,
                details={"event": event.event, "webhook_id": event.webhook_id, **via_details()},
            )
            await uow.commit()
        return ItemNowResult(event.institution, event.barcode, ItemResult.SKIPPED, reason)


class _Creations:
    """The SCF's bibs and holdings found or created by one webhook at a time: of any member,
    since members share the SCF bib of an NZ record (`CreationGuard`)."""

    def __init__(self, held: HeldLocks, locks: InstitutionLocks, scf: str) -> None:
        self._held = held
        self._locks = locks
        self._scf = scf

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with (
            self._locks.one_at_a_time(self._scf, key),
            self._held.exclusive(record_lock(self._scf, key)),
        ):
            yield


async def _item_or_none(member: AlmaGateway, barcode: str) -> AlmaItem | None:
    """The member item with this barcode now; None when Alma has none (deleted)."""
    try:
        return await member.item_by_barcode(barcode)
    except ItemNotFound:
        return None


def _published(
    event: ItemChanged, current: AlmaItem | None, row: MirroredItem | None
) -> PublishedItem:
    """The item as a publishing file would list it now; a deletion when Alma has it no more."""
    mms_id = (
        (current.mms_id if current else None)
        or (row.member_mms_id if row else None)
        or event.mms_id
        or ""
    )
    return PublishedItem(
        institution=event.institution,
        member_mms_id=mms_id,
        nz_mms_id=row.nz_mms_id if row else None,
        barcode=event.barcode,
        library=current.library if current else None,
        location=current.location if current else None,
        internal_note_2=text_at(current.raw, "item_data", "internal_note_2") if current else None,
        deleted=current is None,
        source_file=SOURCE,
        record_position=0,
    )


def _result(event: ItemChanged, outcome: ItemOutcome) -> ItemNowResult:
    retry = isinstance(outcome.error, TransientAlmaError | AlmaStop)
    stopped = isinstance(outcome.error, AlmaStop)
    return ItemNowResult(
        event.institution, event.barcode, outcome.result, outcome.message, retry, stopped
    )
