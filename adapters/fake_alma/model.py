"""The records the fake keeps per institution, as plain mutable dataclasses.

Only :mod:`adapters.fake_alma.state` changes them; views read them. Items keep their
``item_data`` as the Alma JSON dict itself (every key of the real samples), because clients
send that dict back on PUT/POST and the fake must round-trip it exactly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.fake_alma import marc
from adapters.fake_alma.ids import IdFactory


@dataclass
class Location:
    """A location of a library (``conf/libraries/{code}/locations``)."""

    code: str
    name: str
    external_name: str = ""
    type: str = "OPEN"
    type_desc: str = "Open"
    remote_storage: str = ""
    fulfillment_unit: str = "General"
    call_number_type: str = "0"
    call_number_type_desc: str | None = "Library of Congress classification"


@dataclass
class Library:
    """A library with its locations and circulation desks (code → name)."""

    code: str
    id: str
    name: str
    path: str
    description: str | None = None
    resource_sharing: bool = False
    campus: str = ""
    default_location: str | None = None
    locations: dict[str, Location] = field(default_factory=dict)
    circ_desks: dict[str, str] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)


@dataclass
class Bib:
    """A bibliographic record; its JSON fields are derived from the MARC ``record``."""

    mms_id: str
    record: ET.Element
    created: datetime
    modified: datetime
    nz_mms_id: str | None = None
    created_by: str = "System"
    originating_system: str = "ILS"
    originating_system_id: str = ""
    suppress_from_publishing: bool = False

    def other_system_ids(self) -> list[str]:
        """The 035 values Alma indexes as ``other_system_id``."""
        return marc.system_numbers(self.record)


@dataclass
class Holding:
    """A holdings record; library, location and call number live in its 852."""

    holding_id: str
    mms_id: str
    record: ET.Element
    created: datetime
    modified: datetime
    created_by: str = "System"
    suppress_from_publishing: bool = False

    @property
    def library(self) -> str:
        """852 ``$b``."""
        return marc.holding_location(self.record)[0] or ""

    @property
    def location(self) -> str:
        """852 ``$c``."""
        return marc.holding_location(self.record)[1] or ""

    @property
    def call_number(self) -> str:
        """852 ``$h``/``$i``."""
        return marc.holding_location(self.record)[2] or ""


@dataclass
class Item:
    """A physical item: its ids plus the ``item_data`` dict and its per-item holding fields
    (temporary location, copy id, accession number — Alma reports them under
    ``holding_data`` although they belong to the item)."""

    pid: str
    mms_id: str
    holding_id: str
    data: dict[str, Any]
    holding_fields: dict[str, Any]

    @property
    def barcode(self) -> str:
        """``item_data.barcode``."""
        return str(self.data.get("barcode") or "")

    @property
    def process_type(self) -> str:
        """``item_data.process_type.value`` ("" when the item is in place)."""
        value = (self.data.get("process_type") or {}).get("value")
        return str(value or "")


@dataclass
class UserRequest:
    """An item-level (``item_pid`` set) or title-level user request."""

    request_id: str
    user_primary_id: str
    mms_id: str
    holding_id: str | None
    item_pid: str | None
    request_type: str
    sub_type: dict[str, Any]
    created: datetime
    expiry: datetime
    request_status: str = "NOT_STARTED"
    task_name: str = "Pickup From Shelf"
    active: bool = True
    fields: dict[str, Any] = field(default_factory=dict)
    cancel_reason: str | None = None
    cancel_note: str | None = None
    notify_user: bool | None = None
    cancelled_at: datetime | None = None


@dataclass
class Loan:
    """A loan of an item to a user; ``status`` is ACTIVE until returned (then COMPLETE)."""

    loan_id: str
    user_id: str
    item_pid: str
    mms_id: str
    holding_id: str
    circ_desk: str
    library: str
    loan_date: datetime
    due_date: datetime
    item_barcode: str = ""
    status: str = "ACTIVE"
    last_renew_status: str | None = None
    returned_at: datetime | None = None
    return_circ_desk: str | None = None
    return_library: str | None = None

    @property
    def active(self) -> bool:
        """Not yet returned."""
        return self.status == "ACTIVE"


@dataclass
class User:
    """A user: the Alma JSON object itself (``primary_id``, identifiers, linked fields…)."""

    data: dict[str, Any]

    @property
    def primary_id(self) -> str:
        """``primary_id``."""
        return str(self.data["primary_id"])

    def identifiers(self) -> list[str]:
        """Primary id plus every ``user_identifier[].value`` (``user_id_type=all_unique``)."""
        values = [self.primary_id]
        for ident in self.data.get("user_identifier") or []:
            if isinstance(ident, dict) and ident.get("value"):
                values.append(str(ident["value"]))
        return values


@dataclass
class Course:
    """A course: the Alma JSON object itself."""

    data: dict[str, Any]

    @property
    def course_id(self) -> str:
        """``id``."""
        return str(self.data["id"])


@dataclass
class Institution:
    """Everything one Alma institution (an IZ) holds."""

    code: str
    name: str
    number: str
    ids: IdFactory
    network_member: bool = True
    per_second_threshold: int = 25
    daily_quota: int = 100_000
    libraries: dict[str, Library] = field(default_factory=dict)
    bibs: dict[str, Bib] = field(default_factory=dict)
    holdings: dict[str, Holding] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    barcodes: dict[str, str] = field(default_factory=dict)
    requests: dict[str, UserRequest] = field(default_factory=dict)
    loans: dict[str, Loan] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    courses: dict[str, Course] = field(default_factory=dict)


@dataclass
class NetworkZone:
    """The consortium's shared catalogue: NZ bib records any member can link to."""

    code: str
    ids: IdFactory
    bibs: dict[str, Bib] = field(default_factory=dict)
