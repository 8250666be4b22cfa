"""The ledger: the bridge's durable memory of messages, files, mirrors, requests and events."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from application.ports.runs import RunRepository
from application.shared.ledger_records import (
    DailyCount,
    ForwardedRequest,
    InboxAdded,
    InboxDepth,
    InboxMessage,
    InboxStatus,
    ItemHistory,
    JsonObject,
    LedgerEvent,
    MirroredItem,
    MirrorState,
    Outcome,
    RequestRecord,
    RequestStatus,
    TransferFile,
    TransferKind,
    TransferStatus,
    ViaCount,
)


class InboxRepository(Protocol):
    """Webhook bodies stored before acknowledging, processed later by a worker (rule W3)."""

    async def add(self, dedupe_key: str, body: bytes, received_at: datetime) -> InboxAdded:
        """Store a message once per dedupe key; a duplicate returns the first row's id."""
        ...

    async def get(self, message_id: int) -> InboxMessage | None:
        """The message with this id, if any."""
        ...

    async def mark_done(self, message_id: int) -> None:
        """Processing finished: the message is never claimed again."""
        ...

    async def mark_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """Processing failed: release the lease and make it claimable again at retry_at."""
        ...

    async def mark_dead(self, message_id: int, error: str) -> None:
        """Give up on the message, keeping the last error for operators."""
        ...

    async def extend_lease(
        self, message_id: int, owner: str, until: datetime, *, attempt: int | None = None
    ) -> bool:
        """Move the lease of a message still processing under owner to until.

        False, changing nothing, when the message is no longer owner's: finished, failed, or
        reclaimed after the lease expired (and, with attempt, claimed again since that claim).
        The update also fences: inside a unit of work, no claimer takes the row until commit.
        """
        ...

    async def requeue(self, message_id: int) -> InboxMessage | None:
        """A dead or pending (failed) message back to pending, due now, attempts reset to 0.

        For `almabridge replay`; the last error stays for operators until the next attempt.
        None, changing nothing, for a message done or processing; LedgerRecordNotFound when
        there is no such message.
        """
        ...

    async def list_by_status(self, status: InboxStatus, *, limit: int = 100) -> list[InboxMessage]:
        """Messages in one status, newest first (dead ones for the staff page's replay list)."""
        ...


class TransferFileRepository(Protocol):
    """Files claimed from an institution's folder, recorded before processing (rules I1, R1)."""

    async def record_claim(
        self, institution: str, kind: TransferKind, remote_name: str, sha256: str, size: int
    ) -> TransferFile:
        """Record a freshly claimed file as claimed, not yet finished."""
        ...

    async def finish(
        self,
        file_id: int,
        status: TransferStatus,
        *,
        records_total: int = 0,
        records_failed: int = 0,
        failure_reason: str | None = None,
    ) -> TransferFile:
        """Mark a claimed file done or failed, with its record counts."""
        ...

    async def get(self, file_id: int) -> TransferFile | None:
        """The file with this id, if any."""
        ...

    async def list_unfinished(self, institution: str, kind: TransferKind) -> list[TransferFile]:
        """Claimed files not yet finished, oldest claim first: resumed after a restart (I1)."""
        ...

    async def known_names(
        self, institution: str, kind: TransferKind, remote_names: Collection[str]
    ) -> set[str]:
        """Which of these claimed paths the ledger has recorded (to find claims a crash lost)."""
        ...


class MirroredItemRepository(Protocol):
    """The current SCF mirror of each member barcode (rules I13, R7)."""

    async def get(self, institution: str, barcode: str) -> MirroredItem | None:
        """The mirror row of a member barcode, mirrored or deleted, if any."""
        ...

    async def upsert(
        self,
        institution: str,
        barcode: str,
        *,
        scf_mms_id: str,
        scf_holding_id: str,
        scf_item_pid: str,
        member_mms_id: str | None = None,
        nz_mms_id: str | None = None,
        member_item_pid: str | None = None,
        fingerprint: str | None = None,
        state: MirrorState = MirrorState.MIRRORED,
    ) -> MirroredItem:
        """Record the barcode as mirrored (or LENDING: its I10 loan still owed); loan facts
        survive only while the SCF pid is the same."""
        ...

    async def mark_deleted(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record that the SCF copy was deleted; None when the barcode was never mirrored."""
        ...

    async def mark_loan(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record the bridge's own transit loan of the SCF copy (rule I10)."""
        ...

    async def mark_loan_returned(self, institution: str, barcode: str) -> MirroredItem | None:
        """Record a LOAN_RETURNED of the SCF copy (rules C1, R7)."""
        ...

    async def list_for(
        self, institution: str, *, states: Collection[MirrorState] | None = None
    ) -> list[MirroredItem]:
        """Every mirror row of an institution (in these states), by barcode: reconciliation's
        expected set when no publishing file is given."""
        ...


class ForwardedRequestRepository(Protocol):
    """Member requests seen by the bridge, so none is sent twice (rules R6, R7, C2)."""

    async def get(self, source_institution: str, source_request_id: str) -> ForwardedRequest | None:
        """The row of a source request, if the bridge has seen it (rule R6)."""
        ...

    async def get_by_scf_request(self, scf_request_id: str) -> ForwardedRequest | None:
        """The source request an SCF request was created for, if any (rule C2)."""
        ...

    async def upsert(
        self,
        source_institution: str,
        source_request_id: str,
        *,
        route: str,
        status: RequestStatus,
        barcode: str | None = None,
        mms_id: str | None = None,
        scf_request_id: str | None = None,
        scf_mms_id: str | None = None,
        user_id: str | None = None,
        last_error: str | None = None,
        request_data: JsonObject | None = None,
    ) -> ForwardedRequest:
        """Record one forwarding attempt: insert, or overwrite and count one more attempt."""
        ...

    async def set_status(
        self,
        source_institution: str,
        source_request_id: str,
        status: RequestStatus,
        *,
        scf_request_id: str | None = None,
        last_error: str | None = None,
    ) -> ForwardedRequest | None:
        """Change status and last error (and scf_request_id when given); None if never seen."""
        ...

    async def list_waiting(self, source_institution: str) -> list[ForwardedRequest]:
        """Requests of an institution waiting for their item's mirror, oldest first (R7)."""
        ...

    async def list_for(
        self, source_institution: str, *, statuses: Collection[RequestStatus] | None = None
    ) -> list[ForwardedRequest]:
        """Every request row of a source institution (in these statuses), oldest first."""
        ...


class EventRepository(Protocol):
    """The append-only audit log (rule I13)."""

    async def append(
        self,
        action: str,
        outcome: Outcome,
        *,
        institution: str | None = None,
        barcode: str | None = None,
        request_id: str | None = None,
        message: str | None = None,
        file_id: int | None = None,
        inbox_id: int | None = None,
        details: JsonObject | None = None,
        error_code: str | None = None,
    ) -> LedgerEvent:
        """Append one event stamped with the clock's time."""
        ...

    async def purge_before(self, cutoff: datetime, *, limit: int) -> list[LedgerEvent]:
        """Remove up to `limit` of the oldest events that occurred before `cutoff` (rule P2's
        retention); the removed events, oldest first. Nothing else is touched."""
        ...

    async def count_before(self, cutoff: datetime) -> int:
        """How many events occurred before `cutoff` (what a purge would remove)."""
        ...

    async def count_by_via(
        self,
        families: Mapping[str, Collection[str]],
        *,
        since: datetime,
        outcome: Outcome = Outcome.OK,
    ) -> list[ViaCount]:
        """Events with this outcome since `since` (inclusive) whose action is in one of the
        families (name -> actions), counted per institution, family and `details.via` (None when
        the event has none; the bridge writes only strings there), in one query; sorted by
        institution, family and via, None first. An action in two families counts in the first.
        /status's webhook-or-file counts (rules W6, W7)."""
        ...


class LedgerUnitOfWork(Protocol):
    """One ledger transaction: rolls back on exit unless commit() was awaited."""

    @property
    def inbox(self) -> InboxRepository:
        """Inbox messages in this transaction."""
        ...

    @property
    def files(self) -> TransferFileRepository:
        """Claimed files in this transaction."""
        ...

    @property
    def items(self) -> MirroredItemRepository:
        """Mirrored items in this transaction."""
        ...

    @property
    def requests(self) -> ForwardedRequestRepository:
        """Forwarded requests in this transaction."""
        ...

    @property
    def events(self) -> EventRepository:
        """The event log in this transaction."""
        ...

    @property
    def runs(self) -> RunRepository:
        """Batch runs and their records in this transaction (rules B1, B5)."""
        ...

    async def __aenter__(self) -> Self:
        """Begin the transaction."""
        ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed, and release the connection."""
        ...

    async def commit(self) -> None:
        """Make the work so far durable and visible; later work needs another commit."""
        ...

    async def rollback(self) -> None:
        """Discard the work since the last commit."""
        ...


class HeldLocks(Protocol):
    """The locks of one `Ledger.lock_session`; like `Ledger.exclusive`, released when the
    holder dies. Within one process the callers' own locks exclude."""

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Held by one session of the processes sharing the ledger at a time (waits)."""
        ...

    def shared(self, name: str) -> AbstractAsyncContextManager[None]:
        """Held beside the other sharers of `name`, never while anyone holds it exclusive
        (waits meanwhile; a waiting exclusive holder goes before sharers that come after it). A
        member's webhooks share what its file sync holds exclusive (W7)."""
        ...


class Ledger(Protocol):
    """The ledger database: units of work, the inbox claim, and audit queries."""

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Held by one process sharing this ledger at a time, for the block (waits meanwhile);
        released when the holder dies. Within one process the callers' own locks exclude."""
        ...

    def lock_session(self) -> AbstractAsyncContextManager[HeldLocks]:
        """Locks among the processes sharing this ledger, taken one after another for one
        piece of work (a member's webhook, W6/W7) and all let go at the end: on PostgreSQL one
        connection for all of them, however many the work takes."""
        ...

    def try_exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Hold `name` for the block if no one else does (yields True), else yield False at
        once: the `JobRunner`'s one run of a workflow at a time (B1, `WorkflowLock`)."""
        ...

    def unit_of_work(self) -> LedgerUnitOfWork:
        """A new unit of work, to be entered with `async with`."""
        ...

    async def claim_inbox(
        self, owner: str, lease: timedelta, limit: int, *, waited: timedelta = timedelta(0)
    ) -> list[InboxMessage]:
        """Lease due pending and lease-expired messages to owner; two claims never overlap.
        With `waited`, only messages due for at least that long: a busy worker leaves newer
        ones to idle workers (W8)."""
        ...

    async def item_history(self, institution: str, barcode: str) -> ItemHistory:
        """A barcode's mirror row and its events in time order."""
        ...

    async def request_record(self, institution: str, request_id: str) -> RequestRecord:
        """A source request's forwarding row and its events in time order."""
        ...

    async def events(
        self,
        *,
        institution: str | None = None,
        action: str | None = None,
        outcome: Outcome | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[LedgerEvent]:
        """Events matching every given filter, since inclusive and until exclusive."""
        ...

    async def inbox_depth(self) -> InboxDepth:
        """How many inbox messages are in each status."""
        ...

    async def daily_counts(
        self, *, actions: Collection[str], since: datetime, outcome: Outcome | None = None
    ) -> list[DailyCount]:
        """Events of these actions since a time, counted per UTC day, institution and action."""
        ...

    async def check_ready(self) -> None:
        """Raise LedgerNotMigrated unless the schema is at this almabridge's head revision."""
        ...

    async def close(self) -> None:
        """Release connections; the ledger is not used afterwards."""
        ...
