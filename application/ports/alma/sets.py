"""The members of an Alma set: where the WEST export takes its MMS ids (rule H1) and aspace2alma
its known barcodes (rule AS3).

``GET /conf/sets/{id}/members`` pages with limit (at most 100) and offset; `all_members` walks
every page through the institution's shared client, throttle and retries (rule B4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from application.shared.alma import NotFound, Page

MAX_SET_PAGE = 100
"""Alma's largest page of set members (rule H1: pages of at most 100)."""


@dataclass(frozen=True)
class SetMember:
    """One member as Alma lists it: ``id`` (an MMS id, a user id, an item pid…), and the
    ``description`` Alma shows for it (a title, a name, an item's barcode: rule AS3)."""

    id: str
    description: str | None = None
    link: str | None = None


class SetNotFound(NotFound):
    """Alma has no set with that id (the fake's 402460; the real code is unverified)."""


class SetMembers(Protocol):
    """Reads the members of one institution's sets (rules H1, AS3, B4)."""

    institution: str

    async def members(
        self, set_id: str, *, limit: int = MAX_SET_PAGE, offset: int = 0
    ) -> Page[SetMember]:
        """One page of members, in Alma's order; `SetNotFound` for an unknown set.

        ``limit`` outside 0–100 is refused with ``ValueError`` before any call."""
        ...

    def all_members(self, set_id: str) -> AsyncIterator[SetMember]:
        """Every member, page after page of 100, in Alma's order; `SetNotFound` for an unknown
        set (raised on the first iteration)."""
        ...
