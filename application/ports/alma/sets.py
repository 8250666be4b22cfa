"""Alma sets: reading their members (rules H1, AS3) and making itemized sets (rule O8).

`SetMembers`: where the WEST export takes its MMS ids (H1) and aspace2alma its known barcodes
(AS3). ``GET /conf/sets/{id}/members`` pages with limit (at most 100) and offset; `all_members`
walks every page.

`ItemizedSets`: the OCLC sync's ``--create-set`` (O8) makes a new itemized set of the run's
``update by job`` ids (``POST /conf/sets``), then adds them in calls of at most 1,000
(``POST /conf/sets/{id}?op=add_members``), so that a job can run on it.

All calls go through the institution's shared client, throttle and retries (rule B4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from application.shared.alma import NotFound, Page, Refusal

MAX_SET_PAGE = 100
"""Alma's largest page of set members (rule H1: pages of at most 100)."""
MAX_MEMBERS_PER_CALL = 1000
"""Alma's most members in one ``op=add_members`` call (rule O8: chunks of at most 1,000)."""


@dataclass(frozen=True)
class SetMember:
    """One member as Alma lists it: ``id`` (an MMS id, a user id, an item pid…), and the
    ``description`` Alma shows for it (a title, a name, an item's barcode: rule AS3)."""

    id: str
    description: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class AlmaSet:
    """A set as Alma answers it: ``id``, ``name``, ``content`` (``BIB_MMS``…), ``description``
    and ``number_of_members``, which a list of sets leaves out (None then)."""

    id: str
    name: str
    number_of_members: int | None = None
    content: str | None = None
    description: str | None = None


class SetNotFound(NotFound):
    """Alma has no set with that id (reading members: the fake's 402460, the real code
    unverified; adding members: Alma's documented 60107 "Invalid set ID.")."""


class SetNameTaken(Refusal):
    """Alma refuses a second set of the same name (documented 402263, "The set name already
    exists"; not yet seen in a live answer). O8 names the set after the run."""


class MembersAlreadyInSet(Refusal):
    """Alma refused to add a member the set holds already (documented 60115, "A member ID is
    already in the set"; unverified). After a lost answer this means the earlier call went
    through: read the members back (`SetMembers`) and add only the missing ones."""


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


class ItemizedSets(Protocol):
    """Makes one institution's itemized sets and adds their members (rules O8, B4).

    Creating a set is never repeated blind (ADR 0007): when its answer is lost the call raises
    `application.shared.alma.AlmaOutcomeUnknown`, and the caller looks with `set_named` before
    creating again (Alma would refuse the name anyway: `SetNameTaken`). Adding members is
    safe to repeat: a set holds a member once, so the client retries a lost answer like a read;
    Alma may refuse the repeat with `MembersAlreadyInSet`.
    """

    institution: str

    async def create_itemized_set(
        self, name: str, content_type: str = "BIB_MMS", description: str | None = None
    ) -> AlmaSet:
        """A new, empty, public itemized set of ``content_type`` records (``BIB_MMS``: all
        titles); `SetNameTaken` when the institution has a set of that name."""
        ...

    async def add_members(self, set_id: str, ids: Sequence[str]) -> int:
        """Add these ids to the set in one call and return the set's number of members after
        it. 1 to 1,000 distinct, non-empty ids, else ``ValueError`` before any call;
        `SetNotFound` for an unknown set, `MembersAlreadyInSet` when one is in it already."""
        ...

    async def set_named(self, name: str) -> AlmaSet | None:
        """The set whose name is exactly ``name`` (Alma searches ``name~``, then the exact
        name is picked), or None; its ``number_of_members`` is None (a list leaves it out)."""
        ...
