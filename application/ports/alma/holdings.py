"""The holdings a bib has and their MARC records: the Alma role the WEST export needs (rule H2).

`HoldingsReader.holdings_of` is Alma's Retrieve Holdings List (JSON), `holding_record` its
Retrieve Holdings Record: the record's MARCXML as Alma sent it, for H3 to normalise. Calls go
through the institution's shared client, throttle and retries (rule B4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.shared.alma import AlmaError, NotFound


@dataclass(frozen=True)
class HoldingSummary:
    """One entry of a bib's holdings list (``GET /bibs/{mms}/holdings``), in Alma's order.

    Codes are Alma's ``value``, names its ``desc``; a field Alma leaves out or empty is None.
    """

    holding_id: str
    library_code: str | None = None
    library_name: str | None = None
    location_code: str | None = None
    location_name: str | None = None
    call_number: str | None = None


@dataclass(frozen=True)
class HoldingRecord:
    """A holdings record: ``marcxml`` is its ``<record>`` element as Alma sent it.

    Only the XML declaration in front of it is dropped: Alma's says UTF-16 while the text is a
    Python string already, and a declared encoding makes XML parsers refuse a string. The 001
    may differ from `holding_id` (Alma keeps the migrated system's 001): rule H3 fixes that.
    """

    mms_id: str
    holding_id: str
    marcxml: str


class HoldingNotFound(NotFound):
    """The bib exists but has no holding with that id (Alma's 402210, unverified)."""


class HoldingHasNoRecord(AlmaError):
    """Alma answered the holding without a MARC ``<record>``: nothing to export (rule H2)."""


class HoldingsReader(Protocol):
    """Reads one institution's holdings (rules H2, B4).

    An MMS id Alma does not know raises `application.shared.alma.BibNotFound`; other failures
    raise the typed errors of `application.shared.alma`.
    """

    institution: str

    async def holdings_of(self, mms_id: str) -> list[HoldingSummary]:
        """The bib's holdings in Alma's order; ``[]`` for a bib without holdings (H2)."""
        ...

    async def holding_record(self, mms_id: str, holding_id: str) -> HoldingRecord:
        """The holding's MARC record; `HoldingHasNoRecord` when Alma's answer has none,
        `HoldingNotFound` for an unknown holding id, `BibNotFound` for an unknown bib."""
        ...
