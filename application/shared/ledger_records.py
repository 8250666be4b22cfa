"""What the ledger stores and answers: rows, query results, statuses and errors (stdlib only).

The ledger is the bridge's memory and audit trail: webhook inbox, claimed files, mirrored items,
forwarded requests and an append-only event log (rules I1, I13, R6, R7, W3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple, TypeAlias

JsonValue: TypeAlias = "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
JsonObject: TypeAlias = Mapping[str, JsonValue]


class InboxStatus(StrEnum):
    """Where a webhook message is in its life."""

    PENDING = "pending"
    PROCESSING = "processing"
    DONE = "done"
    DEAD = "dead"


class TransferKind(StrEnum):
    """Which folder of an institution a claimed file came from (rules I1, R1)."""

    ITEMS = "items"
    REQUESTS = "requests"


class TransferStatus(StrEnum):
    """A claimed file is processed again after a restart until it is done or failed (rule I1)."""

    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


class MirrorState(StrEnum):
    """Whether the SCF copy of a member barcode currently exists, and whether it is lent yet."""

    CREATING = "creating"
    """Written before Alma is asked to create the SCF item (I7–I10): its bib and holding are
    chosen, it has no item id yet, and its loan is owed. A crash here leaves this row, so the
    next sync looks the barcode up instead of creating a second item."""
    MIRRORED = "mirrored"
    LENDING = "lending"
    """The SCF copy exists but its I10 transit loan is still owed (a crash or a failed loan):
    the next sync lends it."""
    DELETED = "deleted"


class RequestStatus(StrEnum):
    """What happened to a member request the bridge saw (rules R6, R7)."""

    FORWARDED = "forwarded"
    WAITING_FOR_MIRROR = "waiting_for_mirror"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Outcome(StrEnum):
    """How an action ended, as recorded in the event log (rule I13)."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class LedgerError(Exception):
    """Base of the ledger's typed errors."""


class LedgerNotMigrated(LedgerError):
    """The ledger database has no schema, or an older one than this almabridge expects."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"{detail}; run `almabridge db upgrade` to migrate the ledger database")
        self.detail = detail


class LedgerRecordNotFound(LedgerError):
    """A row addressed by an id the ledger handed out does not exist (a programming error)."""


class InboxAdded(NamedTuple):
    """The inbox row holding a message, and whether this call created it (rule W3)."""

    id: int
    is_new: bool


@dataclass(frozen=True)
class InboxMessage:
    """A verified webhook body waiting for, under, or past processing."""

    id: int
    dedupe_key: str
    received_at: datetime
    body: bytes
    status: InboxStatus
    attempts: int
    last_error: str | None
    available_at: datetime
    lock_owner: str | None
    lease_until: datetime | None


@dataclass(frozen=True)
class InboxDepth:
    """How many inbox messages are in each status."""

    pending: int
    processing: int
    done: int
    dead: int

    @property
    def backlog(self) -> int:
        """Messages not yet finished, one way or the other."""
        return self.pending + self.processing


@dataclass(frozen=True)
class TransferFile:
    """A file claimed from the institution's FTP/SFTP folder (rules I1, R1)."""

    id: int
    institution: str
    kind: TransferKind
    remote_name: str
    sha256: str
    size: int
    status: TransferStatus
    records_total: int
    records_failed: int
    failure_reason: str | None
    claimed_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class MirroredItem:
    """The current SCF copy of one member barcode (rule I13)."""

    institution: str
    barcode: str
    scf_mms_id: str
    scf_holding_id: str
    scf_item_pid: str
    member_mms_id: str | None
    nz_mms_id: str | None
    member_item_pid: str | None
    fingerprint: str | None
    state: MirrorState
    loaned_at: datetime | None
    loan_returned_at: datetime | None
    first_synced_at: datetime
    last_synced_at: datetime

    @property
    def owes_loan(self) -> bool:
        """The I10 transit loan is still owed: the item is being created, or lending failed."""
        return self.state in (MirrorState.CREATING, MirrorState.LENDING)

    @property
    def has_item_id(self) -> bool:
        """The row knows its SCF item's pid (every state but `CREATING`)."""
        return self.state is not MirrorState.CREATING

    @property
    def in_transit_loan(self) -> bool:
        """The bridge's own I10 loan is still open: the item is on its way in (rule R7)."""
        return self.loaned_at is not None and self.loan_returned_at is None


@dataclass(frozen=True)
class ForwardedRequest:
    """A member request the bridge has seen, and what became of it (rules R6, R7)."""

    source_institution: str
    source_request_id: str
    route: str
    barcode: str | None
    mms_id: str | None
    scf_request_id: str | None
    scf_mms_id: str | None
    user_id: str | None
    status: RequestStatus
    first_seen_at: datetime
    updated_at: datetime
    attempts: int
    last_error: str | None
    request_data: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerEvent:
    """One line of the append-only audit log: something done or refused (rule I13)."""

    id: int
    occurred_at: datetime
    institution: str | None
    barcode: str | None
    request_id: str | None
    action: str
    outcome: Outcome
    message: str | None
    file_id: int | None
    inbox_id: int | None
    details: JsonObject
    error_code: str | None


@dataclass(frozen=True)
class ItemHistory:
    """A barcode's current mirror (if any) and its events, oldest first."""

    item: MirroredItem | None
    events: Sequence[LedgerEvent]


@dataclass(frozen=True)
class RequestRecord:
    """A source request's forwarding row (if any) and its events, oldest first."""

    request: ForwardedRequest | None
    events: Sequence[LedgerEvent]


@dataclass(frozen=True)
class DailyCount:
    """How many events of one action an institution had on one UTC day (the staff chart)."""

    day: date
    institution: str | None
    action: str
    count: int


@dataclass(frozen=True)
class ViaCount:
    """How many events of one action family an institution had by one path (rules W6, W7).

    `via` is the event's `details.via` ("webhook" for the fast path), None when it has none (the
    file-driven syncs).
    """

    institution: str | None
    family: str
    via: str | None
    count: int
