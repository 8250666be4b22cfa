"""The set-writing layer of the state: itemized sets made and filled through the API (rule O8).

``POST /conf/sets`` makes an empty itemized set, ``POST /conf/sets/{id}?op=add_members`` adds
up to 1,000 members, ``GET /conf/sets?q=name~…`` finds sets by name. The sets live where
``state_workflows`` keeps the seeded ones, so ``GET /conf/sets/{id}/members`` (and `SetMembers`)
reads what was written. Routes (``routes_sets``) and the in-memory twin
(``memory_set_writes``) both call these methods.

Error codes and messages are those of Ex Libris' API documentation for these two calls (Create a
Set, Manage Members); none has been seen in a live answer, so all are *unverified*. Not
modelled: logical sets, ``id_type``, ``fail_on_invalid_id``, and whether a member id names a
record of the set's content (Alma's 60116): any id is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from adapters.fake_alma import errors
from adapters.fake_alma.state_workflows import FakeSet, WorkflowState

MAX_MEMBERS_PER_CALL = 1000
"""Manage Members: "Up to 1000 members can be supplied"."""
CONTENT_DESCRIPTIONS = {
    "BIB_MMS": "All Titles",
    "ITEM": "Physical items",
    "USER": "Users",
    "PORTFOLIO": "Electronic portfolios",
    "IER": "Research assets",  # as ref:Testing-Environment-…__set_create_response.json
}
"""The set contents the fake knows, with Alma's description of each."""


# ---- errors (Ex Libris' documented codes, unverified in a live answer) ------------------------


def set_name_taken() -> errors.AlmaError:
    """Create a Set, 402263."""
    return errors.AlmaError(
        "402263", "The set name already exists. Please choose a different name."
    )


def set_type_invalid() -> errors.AlmaError:
    """Create a Set, 402262 (the fake also sends it for a logical set, which it does not
    model)."""
    return errors.AlmaError(
        "402262", "Set type is invalid. Only 'ITEMIZED' and 'LOGICAL' sets are supported."
    )


def invalid_set_id() -> errors.AlmaError:
    """Manage Members, 60107 (``GET …/members`` of an unknown set answers the fake's 402460)."""
    return errors.AlmaError("60107", "Invalid set ID.")


def invalid_operation() -> errors.AlmaError:
    """Manage Members, 60111."""
    return errors.AlmaError("60111", "Invalid operation.")


def no_members() -> errors.AlmaError:
    """Manage Members, 60113."""
    return errors.AlmaError("60113", "Input set with no members.")


def no_member_id() -> errors.AlmaError:
    """Manage Members, 60114."""
    return errors.AlmaError("60114", "Input set with no member ID.")


def member_already_in_set() -> errors.AlmaError:
    """Manage Members, 60115."""
    return errors.AlmaError("60115", "A member ID is already in the set.")


def too_many_members() -> errors.AlmaError:
    """Manage Members, 60118."""
    return errors.AlmaError("60118", "Input set member list exceeds limit.")


def duplicate_member() -> errors.AlmaError:
    """Manage Members, 60119."""
    return errors.AlmaError("60119", "Input set with duplicate member.")


# ---- records ----------------------------------------------------------------------------------


@dataclass
class ItemizedSet(FakeSet):
    """A set with what ``GET /conf/sets`` and the create answer show besides its members."""

    description: str = ""
    private: bool = False
    created: datetime | None = None
    created_by: tuple[str, str] = ("exl_api", "Ex Libris, API")


class SetWriteState(WorkflowState):
    """Itemized sets made, filled and found by name, per institution (rule O8)."""

    def add_set(
        self,
        institution: str,
        members: Iterable[str | tuple[str, str] | Mapping[str, str]],
        *,
        set_id: str | None = None,
        name: str = "",
        content: str = "BIB_MMS",
        description: str = "",
    ) -> ItemizedSet:
        """A seeded itemized set (`WorkflowState.add_set`), stamped with its creation time so
        that it is listed like one made through the API. Seeding does not check names."""
        seeded = super().add_set(institution, members, set_id=set_id, name=name, content=content)
        made = ItemizedSet(
            seeded.set_id,
            seeded.name,
            seeded.content,
            seeded.members,
            description=description,
            created=self._now(),
        )
        self._workflows(institution).sets[made.set_id] = made
        return made

    def create_itemized_set(
        self,
        institution: str,
        *,
        name: str,
        content: str,
        set_type: str = "ITEMIZED",
        description: str = "",
        private: bool = False,
    ) -> ItemizedSet:
        """``POST /conf/sets``: a new empty set; Alma refuses a name the institution has."""
        if not name.strip():
            raise errors.mandatory_field_missing("name")
        if set_type != "ITEMIZED":
            raise set_type_invalid()
        if content not in CONTENT_DESCRIPTIONS:
            raise errors.invalid_parameter("content", content)
        data = self._workflows(institution)
        if any(s.name == name for s in data.sets.values()):
            raise set_name_taken()
        made = ItemizedSet(
            data.next_id(),
            name,
            content,
            [],
            description=description,
            private=private,
            created=self._now(),
        )
        data.sets[made.set_id] = made
        return made

    def add_set_members(self, institution: str, set_id: str, ids: Sequence[str]) -> FakeSet:
        """``POST /conf/sets/{id}?op=add_members``: all the ids or none, in the order sent,
        after the set's present members."""
        found = self._workflows(institution).sets.get(set_id)
        if found is None:
            raise invalid_set_id()
        if not ids:
            raise no_members()
        if any(not member.strip() for member in ids):
            raise no_member_id()
        if len(ids) > MAX_MEMBERS_PER_CALL:
            raise too_many_members()
        if len(set(ids)) != len(ids):
            raise duplicate_member()
        present = {m["id"] for m in found.members}
        if any(member in present for member in ids):
            raise member_already_in_set()
        found.members.extend({"id": member} for member in ids)
        return found

    def sets_named(self, institution: str, words: str | None) -> list[FakeSet]:
        """``GET /conf/sets?q=name~words``: the sets whose name contains ``words`` (any case;
        every set without), oldest first."""
        every = list(self._workflows(institution).sets.values())
        if not words:
            return every
        wanted = words.casefold()
        return [s for s in every if wanted in s.name.casefold()]
