"""Bibs and holdings: one role of an institution's Alma API."""

from __future__ import annotations

from typing import Protocol

from application.shared.alma import (
    AlmaBib,
    AlmaHolding,
)


class CatalogPort(Protocol):
    """Bibs and holdings: found by NZ or other-system id, created (I7, I8). Failures raise the
    typed errors of `application.shared.alma`."""

    institution: str

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
