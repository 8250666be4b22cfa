"""A member's request to its remote storage, and which SCF handler serves it (rules R2, R4).

Alma's remote-storage export lists one ``rsExport`` per request. ``RemoteStorageRequest`` holds
the fields the bridge reads from it; ``route_request`` picks one of the six ways the Java app
forwards a request to the SCF: item or title hold, patron digitization of an item or a title, and
staff (system user) digitization of an item or a title.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PATRON_PHYSICAL = "PATRON_PHYSICAL"
PHYSICAL_TO_DIGITIZATION = "PHYSICAL_TO_DIGITIZATION"
STAFF_PHYSICAL_DIGITIZATION = "STAFF_PHYSICAL_DIGITIZATION"
RESOURCE_SHARING_P2D_SHIPMENT = "RESOURCE_SHARING_P2D_SHIPMENT"

SYSTEM_USER_DIGITIZATION_TYPES = frozenset(
    {STAFF_PHYSICAL_DIGITIZATION, RESOURCE_SHARING_P2D_SHIPMENT}
)
"""Digitizations done for the library, not a patron: the SCF request goes to the system user."""

DIGITIZATION_TYPES = SYSTEM_USER_DIGITIZATION_TYPES | {PHYSICAL_TO_DIGITIZATION}
"""The request types whose SCF request belongs to the file's institution (rule R3)."""

TITLE_LEVEL_BARCODE_MARKS = (" ", ":")
"""The export puts descriptive text, not a barcode, in ``barcode`` for title-level requests."""


@dataclass(frozen=True)
class PatronInfo:
    """``patronInfo``: who asked, printed into the SCF request's comment for SCF staff."""

    name: str | None = None
    identifier: str | None = None
    email: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class RemoteStorageRequest:
    """One ``rsExport`` of a member's remote-storage requests file (rule R2)."""

    request_id: str = ""
    request_type: str = ""
    barcode: str | None = None
    mms_id: str | None = None
    description: str | None = None
    institution_code: str | None = None
    """``pickup/institutionCode``: the pickup institution when it is not the file's own."""
    pickup_library_name: str | None = None
    """``pickup/library``: a library *name*, resolved to a code per rule R3."""
    library_code: str | None = None
    patron: PatronInfo | None = None
    request_note: str | None = None

    @property
    def is_digitization(self) -> bool:
        """Whether this is one of the three digitization types."""
        return self.request_type in DIGITIZATION_TYPES

    @property
    def patron_user_id(self) -> str | None:
        """The member user a title-level request is looked up by (Java's ``userId``).

        Parity: the patron identifier counts only for patron digitizations or when there is no
        ``mmsId`` (then the original request is found under the user, not the bib).
        """
        identifier = self.patron.identifier if self.patron is not None else None
        if not identifier or not identifier.strip():
            return None
        if self.mms_id is None or self.request_type == PHYSICAL_TO_DIGITIZATION:
            return identifier
        return None


@dataclass(frozen=True)
class SourceRequestRef:
    """The member request that an SCF request stands for."""

    institution: str
    request_id: str
    user_primary_id: str | None = None
    mms_id: str | None = None


class Route(StrEnum):
    """The SCF handler a request goes to (research §7.4)."""

    ITEM_HOLD = "item_hold"
    TITLE_HOLD = "title_hold"
    PATRON_ITEM_DIGITIZATION = "patron_item_digitization"
    PATRON_TITLE_DIGITIZATION = "patron_title_digitization"
    STAFF_ITEM_DIGITIZATION = "staff_item_digitization"
    STAFF_TITLE_DIGITIZATION = "staff_title_digitization"

    @property
    def is_title_level(self) -> bool:
        """Whether the SCF request is placed on the bib rather than an item."""
        return self in _TITLE_LEVEL_ROUTES

    @property
    def is_digitization(self) -> bool:
        """Whether the SCF request is a digitization."""
        return self in _DIGITIZATION_ROUTES

    @property
    def is_patron_digitization(self) -> bool:
        """Whether a patron (through a linked SCF user) is the requester."""
        return self in (Route.PATRON_ITEM_DIGITIZATION, Route.PATRON_TITLE_DIGITIZATION)


_TITLE_LEVEL_ROUTES = frozenset(
    {Route.TITLE_HOLD, Route.PATRON_TITLE_DIGITIZATION, Route.STAFF_TITLE_DIGITIZATION}
)
_DIGITIZATION_ROUTES = frozenset(
    {
        Route.PATRON_ITEM_DIGITIZATION,
        Route.PATRON_TITLE_DIGITIZATION,
        Route.STAFF_ITEM_DIGITIZATION,
        Route.STAFF_TITLE_DIGITIZATION,
    }
)


def is_title_level_barcode(barcode: str) -> bool:
    """Whether the export's ``barcode`` is title-level text (a space or ``:``), not a barcode."""
    return any(mark in barcode for mark in TITLE_LEVEL_BARCODE_MARKS)


def route_request(request: RemoteStorageRequest) -> Route:
    """The handler for ``request`` (rule R4).

    No barcode at all is a title-level hold: the Java app crashed on a missing barcode element and
    cancelled the patron's request (fix).
    """
    barcode = request.barcode
    if not barcode:
        return Route.TITLE_HOLD
    system_user = request.request_type in SYSTEM_USER_DIGITIZATION_TYPES
    patron_digitization = request.request_type == PHYSICAL_TO_DIGITIZATION
    if is_title_level_barcode(barcode):
        if patron_digitization and request.patron_user_id is not None:
            return Route.PATRON_TITLE_DIGITIZATION
        if system_user:
            return Route.STAFF_TITLE_DIGITIZATION
        return Route.TITLE_HOLD
    if patron_digitization:
        return Route.PATRON_ITEM_DIGITIZATION
    if system_user:
        return Route.STAFF_ITEM_DIGITIZATION
    return Route.ITEM_HOLD
