"""What the application sees of Alma: typed views over Alma's JSON, and typed Alma errors.

A view keeps the raw JSON it was built from, so an item read from one institution can be
transformed (rules I9, I11) and sent back without losing fields we do not model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

AlmaJson = dict[str, Any]


def _text(raw: Mapping[str, Any], *path: str) -> str | None:
    """The string at a path of nested objects, or None when any step is missing or not text."""
    node: Any = raw
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    if node is None or isinstance(node, (dict, list)):
        return None
    return str(node)


@dataclass(frozen=True)
class AlmaItem:
    """A physical item (``bib_data``, ``holding_data``, ``item_data``) as Alma returns it."""

    raw: AlmaJson

    @property
    def barcode(self) -> str | None:
        return _text(self.raw, "item_data", "barcode")

    @property
    def mms_id(self) -> str | None:
        return _text(self.raw, "bib_data", "mms_id")

    @property
    def holding_id(self) -> str | None:
        return _text(self.raw, "holding_data", "holding_id")

    @property
    def pid(self) -> str | None:
        return _text(self.raw, "item_data", "pid")

    @property
    def library(self) -> str | None:
        return _text(self.raw, "item_data", "library", "value")

    @property
    def location(self) -> str | None:
        return _text(self.raw, "item_data", "location", "value")

    @property
    def provenance(self) -> str | None:
        return _text(self.raw, "item_data", "provenance", "value")

    @property
    def process_type(self) -> str | None:
        return _text(self.raw, "item_data", "process_type", "value")


@dataclass(frozen=True)
class AlmaBib:
    """A bibliographic record; ``anies`` holds its MARCXML."""

    raw: AlmaJson

    @property
    def mms_id(self) -> str | None:
        return _text(self.raw, "mms_id")

    @property
    def network_numbers(self) -> tuple[str, ...]:
        values = self.raw.get("network_number") or []
        return tuple(str(v) for v in values if v is not None)


@dataclass(frozen=True)
class AlmaHolding:
    """A holding record: library and location come from its 852 (or Alma's summary keys)."""

    raw: AlmaJson

    @property
    def holding_id(self) -> str | None:
        return _text(self.raw, "holding_id")

    @property
    def library(self) -> str | None:
        return _text(self.raw, "library", "value")

    @property
    def location(self) -> str | None:
        return _text(self.raw, "location", "value")


@dataclass(frozen=True)
class AlmaRequest:
    """A user request (hold, digitization, …), item-level or title-level."""

    raw: AlmaJson

    @property
    def request_id(self) -> str | None:
        return _text(self.raw, "request_id")

    @property
    def user_primary_id(self) -> str | None:
        return _text(self.raw, "user_primary_id")

    @property
    def mms_id(self) -> str | None:
        return _text(self.raw, "mms_id")

    @property
    def comment(self) -> str | None:
        return _text(self.raw, "comment")

    @property
    def request_status(self) -> str | None:
        return _text(self.raw, "request_status")


@dataclass(frozen=True)
class AlmaLoan:
    """An item loan."""

    raw: AlmaJson

    @property
    def loan_id(self) -> str | None:
        return _text(self.raw, "loan_id")

    @property
    def item_barcode(self) -> str | None:
        return _text(self.raw, "item_barcode")

    @property
    def user_id(self) -> str | None:
        """The borrower's primary id."""
        return _text(self.raw, "user_id")

    @property
    def active(self) -> bool:
        """Whether the loan is still open (``loan_status`` ``ACTIVE``, Alma's default)."""
        return (_text(self.raw, "loan_status") or "ACTIVE").upper() == "ACTIVE"


@dataclass(frozen=True)
class AlmaUser:
    """A user, possibly linked from another institution."""

    raw: AlmaJson

    @property
    def primary_id(self) -> str | None:
        return _text(self.raw, "primary_id")

    @property
    def linking_id(self) -> str | None:
        return _text(self.raw, "linking_id")

    @property
    def source_link_id(self) -> str | None:
        return _text(self.raw, "source_link_id")

    @property
    def source_institution_code(self) -> str | None:
        value = self.raw.get("source_institution_code")
        if isinstance(value, Mapping):
            return _text(value, "value")
        return None if value is None else str(value)


@dataclass(frozen=True)
class AlmaLibrary:
    """A library of an institution (``/conf/libraries``)."""

    raw: AlmaJson

    @property
    def code(self) -> str | None:
        return _text(self.raw, "code")

    @property
    def name(self) -> str | None:
        return _text(self.raw, "name")


@dataclass(frozen=True)
class AlmaLocation:
    """A location of a library (``/conf/libraries/{code}/locations``)."""

    raw: AlmaJson

    @property
    def code(self) -> str | None:
        return _text(self.raw, "code")


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: Alma pages with limit (at most 100) and offset."""

    records: Sequence[T]
    total_record_count: int
    offset: int = 0

    @property
    def next_offset(self) -> int | None:
        following = self.offset + len(self.records)
        return following if self.records and following < self.total_record_count else None


# ---- errors -------------------------------------------------------------------------------


@dataclass
class AlmaFailure(Exception):
    """A call to Alma that did not succeed; carries Alma's own errorCode, errorMessage and
    trackingId (rule A2). Never carries the API key: the adapter builds it from the response
    body only.

    Two kinds, so that a handler of one never has to let the other through by hand:
    `AlmaError` is about the record at hand (a refusal, or Alma unavailable beyond retries) and is
    recorded as that record's failure; `AlmaStop` ends the institution's work for now (the daily
    quota) and goes up to whoever runs the batch.
    """

    institution: str
    operation: str
    http_status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    tracking_id: str | None = None
    subject: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        about = ", ".join(f"{k} {v}" for k, v in self.subject.items())
        parts = [f"Alma {self.institution}: {self.operation}"]
        if about:
            parts.append(f"({about})")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.error_code:
            parts.append(f"errorCode {self.error_code}")
        if self.error_message:
            parts.append(f"- {self.error_message}")
        if self.tracking_id:
            parts.append(f"[trackingId {self.tracking_id}]")
        return " ".join(parts)


class AlmaError(AlmaFailure):
    """Alma refused a call, or could not answer it: the failure of the record at hand."""


class AlmaStop(AlmaFailure):
    """No further call to this institution can succeed for now: the run stops and resumes
    later. Not an `AlmaError`, so `except AlmaError` records a record's failure and lets it by."""


class NotFound(AlmaError):
    """Alma said the thing asked for does not exist (by its error code, not any 400)."""


class ItemNotFound(NotFound):
    """401689: no item for that barcode (or 401683 for that pid)."""


class UserNotFound(NotFound):
    """401861 / 401890 / 4019990 / 4019998: no such user."""


class BibNotFound(NotFound):
    """402203 and friends: no such bib record."""


class Refusal(AlmaError):
    """Alma refused a write for a reason the caller acts on; the adapter names it by its code,
    so no use case compares error-code strings."""


class BarcodeExists(Refusal):
    """401873 on creating an item: an item with that barcode exists already."""


class DuplicateRequest(Refusal):
    """401136 on creating a request: the user has an active request for this item or title."""


class AlreadyOnLoan(Refusal):
    """400042 on creating a loan: the item is on loan already."""


class ItemOnLoan(Refusal):
    """401897 on deleting an item: it is on loan (or requested) and ``override`` was not sent.
    The code is the fake's and unverified against real Alma."""


class ItemNotReadyForLoan(Refusal):
    """Creating a loan of an item Alma does not show yet (a brand-new item): worth retrying
    for a while. Alma answers 401683, 401689, 40166411, 401153 or 401652 here."""


class RequestGone(NotFound):
    """401694 on reading or cancelling a request: it is no longer active (cancelled or done).

    To a cancel it means nothing is left to do (the outcome is ``skipped`` with Alma's code). The
    code is the fake's and unverified against real Alma; any other refusal is ``failed``, so staff
    see it."""


class TransientAlmaError(AlmaError):
    """A failure that retrying may cure: 5xx, timeouts, dropped connections, per-second 429."""


class RateLimited(TransientAlmaError):
    """429 PER_SECOND_THRESHOLD: too many calls in this second for this institution."""


class QuotaExhausted(AlmaStop):
    """429 DAILY_THRESHOLD: the institution's daily API quota is spent; stop until it resets."""


class AlmaUnavailable(TransientAlmaError):
    """A 5xx, a timeout or a dropped connection; raised to the caller once retries run out."""


@dataclass
class AlmaOutcomeUnknown(TransientAlmaError):
    """A write that is not safe to repeat reached Alma, and no (complete) answer came back.

    The request was sent, then the connection reset, timed out or a gateway answered 502/504:
    Alma may have carried it out. Repeating it blindly could create a second holding or bib
    (I7, I8), which Alma would not refuse, so the adapter does not retry it; the caller looks for
    the effect first and only then repeats it. `path` is the API path only: never the query, and
    the key travels in a header (A1).
    """

    method: str = ""
    path: str = ""

    def __str__(self) -> str:
        where = f" {self.method} {self.path}" if self.method or self.path else ""
        return f"{super().__str__()}{where}: Alma may have applied this; look before repeating it"


@dataclass
class UnknownInstitution(Exception):
    """No API key is configured for this institution code, so no gateway can reach it."""

    institution: str

    def __post_init__(self) -> None:
        Exception.__init__(self, str(self))

    def __str__(self) -> str:
        return f"institution {self.institution}: no API key configured"
