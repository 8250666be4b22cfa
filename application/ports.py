"""Ports of the application: what the use cases need from the outside world, as Protocols.

Adapters satisfy these structurally; every port has an in-memory twin and a real adapter, held
together by one contract test suite per port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from application.alma import (
    AlmaBib,
    AlmaCourse,
    AlmaHolding,
    AlmaItem,
    AlmaJson,
    AlmaLibrary,
    AlmaLoan,
    AlmaLocation,
    AlmaRequest,
    AlmaUser,
    Page,
)
from application.call_pacing import CallPacing
from application.files import ClaimedFile, RemoteFile
from application.ledger_records import (
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
)
from application.reports import ReportRow
from domain.published import PublishedItem
from domain.requests import RemoteStorageRequest


class Clock(Protocol):
    """The current time, so that leases, grace periods and reports are testable."""

    def now(self) -> datetime:
        """An aware UTC datetime."""
        ...


class ConfigSource(Protocol):
    """Where the conf.json text comes from: a path, or an http(s), ftp or sftp URL (rule K1)."""

    def describe(self) -> str:
        """A description safe for logs and errors: never a password."""
        ...

    async def read(self) -> bytes:
        """The raw configuration bytes; raises ConfigSourceError naming the source on failure."""
        ...


# --- Ledger -------------------------------------------------------------------------------------
# Rows are read and written through a unit of work that rolls back unless committed, so an action
# and its ledger event land together or not at all. Timestamps come from the injected Clock.


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


class Ledger(Protocol):
    """The ledger database: units of work, the inbox claim, and audit queries."""

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Held by one process sharing this ledger at a time, for the block (waits meanwhile);
        released when the holder dies. Within one process the callers' own locks exclude."""
        ...

    def unit_of_work(self) -> LedgerUnitOfWork:
        """A new unit of work, to be entered with `async with`."""
        ...

    async def claim_inbox(self, owner: str, lease: timedelta, limit: int) -> list[InboxMessage]:
        """Lease due pending and lease-expired messages to owner; two claims never overlap."""
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


class AlmaGateway(Protocol):
    """One institution's Alma REST API: the operations the SCF rules carry out (A1–A5).

    Failures raise the typed errors of `application.alma` (`ItemNotFound`, `UserNotFound`,
    `QuotaExhausted`, `AlmaUnavailable`, …); lists page with limit (≤ 100) and offset.
    """

    institution: str

    @property
    def api_remaining(self) -> int | None:
        """Calls left today, from Alma's last `X-Exl-Api-Remaining` header."""
        ...

    async def item_by_barcode(self, barcode: str) -> AlmaItem:
        """The item with this barcode; `ItemNotFound` (401689) when there is none."""
        ...

    async def get_item(self, mms_id: str, holding_id: str, item_pid: str) -> AlmaItem:
        """An item by its ids."""
        ...

    async def list_items(
        self, mms_id: str, holding_id: str = "ALL", *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaItem]:
        """One page of a bib's items (of one holding, or `ALL`)."""
        ...

    async def create_item(self, mms_id: str, holding_id: str, item: AlmaJson) -> AlmaItem:
        """Create an item under a holding from Alma item JSON."""
        ...

    async def update_item(
        self, mms_id: str, holding_id: str, item_pid: str, item: AlmaJson
    ) -> AlmaItem:
        """Replace an item with this Alma item JSON."""
        ...

    async def delete_item(
        self, mms_id: str, holding_id: str, item_pid: str, *, override: bool = False
    ) -> None:
        """Delete an item; Alma refuses (an `AlmaError`) e.g. while it is on loan."""
        ...

    async def scan_in(
        self, mms_id: str, holding_id: str, item_pid: str, *, library: str, circ_desk: str
    ) -> AlmaItem:
        """Scan an item in at a library and desk, completing its transit (`op=scan&done=true`)."""
        ...

    async def bibs_by_nz_id(self, nz_mms_id: str) -> list[AlmaBib]:
        """Bibs linked to this Network Zone record (empty when none)."""
        ...

    async def bibs_by_other_system_id(self, other_system_id: str) -> list[AlmaBib]:
        """Bibs carrying this other-system id, e.g. `(01AAA_AB)991234` (rule N4)."""
        ...

    async def get_bib(self, mms_id: str) -> AlmaBib:
        """A bib by MMS id."""
        ...

    async def create_bib_from_nz(self, nz_mms_id: str) -> AlmaBib:
        """Create a local bib linked to a Network Zone record."""
        ...

    async def create_local_bib(self, marc_record_xml: str) -> AlmaBib:
        """Create a bib from a MARCXML `<record>`."""
        ...

    async def list_holdings(self, mms_id: str) -> list[AlmaHolding]:
        """A bib's holdings."""
        ...

    async def create_holding(self, mms_id: str, library: str, location: str) -> AlmaHolding:
        """Create a holding at a library and location (852 template of rule I8)."""
        ...

    async def create_item_request(
        self,
        mms_id: str,
        holding_id: str,
        item_pid: str,
        user_id: str,
        request: AlmaJson,
        *,
        allow_same_request: bool = False,
    ) -> AlmaRequest:
        """Place an item-level request for a user; without `allow_same_request` Alma refuses
        (401136) when that user already has an active request on the item."""
        ...

    async def create_title_request(
        self, mms_id: str, user_id: str, request: AlmaJson, *, allow_same_request: bool = False
    ) -> AlmaRequest:
        """Place a title-level request for a user (`allow_same_request` as for items)."""
        ...

    async def list_item_requests(
        self, mms_id: str, holding_id: str, item_pid: str
    ) -> list[AlmaRequest]:
        """Active requests on an item."""
        ...

    async def get_title_request(self, mms_id: str, request_id: str) -> AlmaRequest:
        """A request by bib and request id."""
        ...

    async def get_user_request(self, user_id: str, request_id: str) -> AlmaRequest:
        """A request by user and request id."""
        ...

    async def list_user_requests(
        self, user_id: str, *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaRequest]:
        """One page of a user's active requests."""
        ...

    async def cancel_item_request(
        self,
        mms_id: str,
        holding_id: str,
        item_pid: str,
        request_id: str,
        *,
        reason: str,
        note: str,
        notify_user: bool | None = None,
    ) -> None:
        """Cancel a request through its item (rule R8 says which reason, note and flag)."""
        ...

    async def cancel_title_request(
        self, mms_id: str, request_id: str, *, reason: str, note: str, notify_user: bool | None
    ) -> None:
        """Cancel a request through its bib."""
        ...

    async def cancel_user_request(
        self, user_id: str, request_id: str, *, reason: str, note: str, notify_user: bool | None
    ) -> None:
        """Cancel a request through its user."""
        ...

    async def create_loan(
        self, user_id: str, item_pid: str, *, circ_desk: str, library: str
    ) -> AlmaLoan:
        """Loan an item to a user at a library's desk (rule I10)."""
        ...

    async def list_user_loans(
        self, user_id: str, *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaLoan]:
        """One page of a user's loans."""
        ...

    async def get_user(self, user_id: str, *, id_type: str = "all_unique") -> AlmaUser:
        """A user by any unique id (or `linking_id`)."""
        ...

    async def get_linked_user(self, link_id: str, source_institution_code: str) -> AlmaUser:
        """The local copy of another institution's user."""
        ...

    async def create_linked_user(
        self, source_institution_code: str, source_user_id: str
    ) -> AlmaUser:
        """Create the local copy of another institution's user."""
        ...

    async def refresh_user(self, user_id: str) -> None:
        """Refresh a linked user from its source institution."""
        ...

    async def libraries(self) -> list[AlmaLibrary]:
        """The institution's libraries (`/conf/libraries`)."""
        ...

    async def locations(self, library: str) -> list[AlmaLocation]:
        """A library's locations."""
        ...

    async def search_courses(
        self, query: str | None = None, *, limit: int = 100, offset: int = 0
    ) -> Page[AlmaCourse]:
        """One page of courses matching Alma's `q` syntax."""
        ...

    async def get_course(self, course_id: str) -> AlmaCourse:
        """A course by id."""
        ...


class AlmaDirectory(CallPacing, Protocol):
    """Hands out the gateway of an institution code, member or SCF, and tells how many more calls
    each institution could take on (`CallPacing`, rule A4)."""

    def gateway(self, institution: str) -> AlmaGateway:
        """The gateway of this institution; `UnknownInstitution` when it has no API key."""
        ...


class FileTransfer(Protocol):
    """The folder where Alma drops files and the bridge claims them (rules I1, R1).

    Paths are POSIX paths on the server. Failures raise `TransferError` (host and path named,
    never a password); transient ones are retried by the adapter first.
    """

    async def list_files(self, folder: str) -> list[RemoteFile]:
        """Plain files directly in `folder`, by name; `OLD/` and other folders are not listed."""
        ...

    async def claim(self, file: RemoteFile) -> ClaimedFile | None:
        """Atomically move the file into `{folder}/OLD/` (created when missing).

        None when another claimer moved it first: of two concurrent claimers exactly one wins.
        """
        ...

    async def download(self, remote_path: str, local_path: Path) -> int:
        """Stream a remote file into a local path; returns the bytes written."""
        ...

    async def put_back(self, claimed: ClaimedFile) -> None:
        """Undo a claim: move the file from `OLD/` back where it was (e.g. a failed download)."""
        ...

    async def upload(self, local_path: Path, remote_path: str) -> None:
        """Upload under a temporary name, then rename, so readers never see half a file."""
        ...

    async def rename(self, source: str, target: str) -> None:
        """Rename or move a remote file."""
        ...

    async def delete(self, remote_path: str) -> None:
        """Delete a remote file."""
        ...

    async def make_folders(self, folder: str) -> None:
        """Create a folder and its parents; no error when it exists."""
        ...

    async def aclose(self) -> None:
        """Close the connection this adapter reuses within a batch."""
        ...


class PublishingFiles(Protocol):
    """Reads a member's publishing output: safe unpacking and streamed MARCXML (I2–I4)."""

    async def unpack(self, archive: Path, into: Path) -> list[Path]:
        """The XML files of a `.tar.gz`, each archive in its own folder under `into`; a bare
        `.xml` is returned as it is. Raises `ArchiveRefused` for an unsafe or broken archive."""
        ...

    def read_items(self, xml_file: Path, institution: str) -> AsyncIterator[PublishedItem]:
        """Every ITM of every record, in file order, in constant memory; raises `MalformedFile`
        naming the file and the record position where reading stopped."""
        ...


class RequestFiles(Protocol):
    """Reads a member's remote-storage request export (rule R2)."""

    def read_requests(self, path: Path) -> AsyncIterator[RemoteStorageRequest]:
        """Every `rsExport` in file order; raises `MalformedFile` naming the file and line."""
        ...


class FailureReports(Protocol):
    """Appends failures to the daily CSV reports when `report_file_folder` is set (rule P1)."""

    async def append(self, row: ReportRow) -> None:
        """Add one row to `{report}_log_{yyyyMMdd}.csv` of the row's day."""
        ...
