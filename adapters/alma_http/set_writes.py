"""`ItemizedSets` over Alma's REST API: itemized sets made and filled (rules O8, B4).

* ``POST /conf/sets`` makes an empty itemized set. Never repeated blind (ADR 0007): a lost
  answer may hide a set that was made, so it is sent ``repeat_safe=False`` and the caller looks
  with `set_named` before creating again (Alma would refuse the name twice anyway).
* ``POST /conf/sets/{id}?op=add_members`` adds up to 1,000 members. Repeat-safe: a set holds a
  member once, so a repeated call cannot add one twice; Alma refuses it instead (documented
  60115, `MembersAlreadyInSet`), and the caller reads the members back.
* ``GET /conf/sets?q=name~…`` finds a set by its exact name.

Bodies and answers as ``ref:Testing-Environment-esploro-csv-researcher-loader__set_*.json``
and ``ref:mlibrary-aim__digitizer_setter_sets.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.alma_http.requests_kit import (
    AlmaCaller,
    code,
    each_record,
    error_with,
    listed,
    plain,
    retyped,
    text,
    total_count,
)
from adapters.alma_http.sets import sets_error
from application.ports.alma.sets import (
    MAX_MEMBERS_PER_CALL,
    MAX_SET_PAGE,
    AlmaSet,
    MembersAlreadyInSet,
    SetNameTaken,
    SetNotFound,
)
from application.shared.alma import AlmaError, Page

CREATE_SET = "create set"
ADD_SET_MEMBERS = "add set members"
SEARCH_SETS = "search sets"
# Ex Libris' documented codes for these calls (API docs "Create a Set", "Manage Members"); none
# has been seen in a live answer, so all are unverified. 60176 is 60115 for an id_type id.
_REFUSALS: Mapping[str, Mapping[str, type[AlmaError]]] = {
    CREATE_SET: {"402263": SetNameTaken},  # The set name already exists.
    ADD_SET_MEMBERS: {
        "60107": SetNotFound,  # Invalid set ID.
        "60115": MembersAlreadyInSet,  # A member ID is already in the set.
        "60176": MembersAlreadyInSet,
    },
}


def set_writes_error(error: AlmaError) -> AlmaError:
    """`SetNameTaken`, `SetNotFound`, `MembersAlreadyInSet` by Alma's code for the operation;
    else `sets_error` (the reader's "no such set"); any other failure unchanged."""
    kind = _REFUSALS.get(error.operation, {}).get(error.error_code or "")
    if plain(error) and kind is not None:
        return retyped(error, kind)
    return sets_error(error)


def create_body(name: str, content_type: str, description: str | None) -> dict[str, Any]:
    """A new, empty, public itemized set, keys in the order of the create answer."""
    body: dict[str, Any] = {"name": name}
    if description:
        body["description"] = description
    body["type"] = {"value": "ITEMIZED"}
    body["content"] = {"value": content_type}
    body["status"] = {"value": "ACTIVE"}
    body["private"] = {"value": "false"}  # public: staff see the run's set in Alma's UI
    return body


def checked_ids(ids: Sequence[str]) -> list[str]:
    """The ids of one ``op=add_members`` call, refused before any call where Alma would
    refuse them (documented 60113 none, 60114 an empty id, 60118 over 1,000, 60119 twice)."""
    if isinstance(ids, str):
        raise TypeError("add_members takes a sequence of ids, not one string")
    found = list(ids)
    if not found:
        raise ValueError("no ids to add: Alma refuses an empty member list")
    if len(found) > MAX_MEMBERS_PER_CALL:
        raise ValueError(
            f"Alma adds at most {MAX_MEMBERS_PER_CALL} members per call, asked for {len(found)}"
        )
    if any(not member.strip() for member in found):
        raise ValueError("an empty id: Alma refuses a member without an id")
    seen: set[str] = set()
    for member in found:
        if member in seen:
            raise ValueError(f"id {member} is given twice: Alma refuses a duplicate member")
        seen.add(member)
    return found


def members_body(ids: Sequence[str]) -> dict[str, Any]:
    """The ``members.member[].id`` part of ``ref:…__set_add_members_request.json`` (Alma reads
    the members; the rest of the sample's set object is not needed)."""
    return {"members": {"member": [{"id": member} for member in ids]}}


def _count(value: Any) -> int | None:
    raw = code(value)  # {"value": 2, "link": "…/members"}
    return int(raw) if raw is not None and raw.strip().isdigit() else None


def alma_set_of(data: Mapping[str, Any]) -> AlmaSet | None:
    """A set of ``ref:…__set_create_response.json`` or of a list of sets; None without id."""
    set_id = text(data.get("id"))
    if set_id is None:
        return None
    return AlmaSet(
        id=set_id,
        name=text(data.get("name")) or "",
        number_of_members=_count(data.get("number_of_members")),
        content=code(data.get("content")),
        description=text(data.get("description")),
    )


def answered_set(
    data: Mapping[str, Any], *, institution: str, operation: str, subject: Mapping[str, str]
) -> AlmaSet:
    """The set a create or an add answered, with its number of members."""
    found = alma_set_of(data)
    if found is None or found.number_of_members is None:
        message = "Alma's answer names no set with its number of members"
        raise error_with(institution, operation, message, subject)
    return found


def sets_page(data: Mapping[str, Any], offset: int) -> Page[AlmaSet]:
    """A page of ``GET /conf/sets`` (``ref:mlibrary-aim__digitizer_setter_sets.json``)."""
    found = [s for s in (alma_set_of(entry) for entry in listed(data, "set")) if s is not None]
    return Page(found, total_record_count=total_count(data, len(found)), offset=offset)


def name_query(name: str) -> str:
    """Alma's ``q`` for sets whose name holds ``name`` (the exact name is picked after)."""
    return f"name~{name}"


class HttpItemizedSets(AlmaCaller):
    """One institution's itemized sets through the process-wide `AlmaHttpClient` (O8, B4)."""

    async def create_itemized_set(
        self, name: str, content_type: str = "BIB_MMS", description: str | None = None
    ) -> AlmaSet:
        subject = {"set_name": name}
        try:
            data = await self.post_json(
                "conf",
                "sets",
                operation=CREATE_SET,
                body=create_body(name, content_type, description),
                subject=subject,
                # A lost answer may hide a set made: never blind (ADR 0007); look first.
                repeat_safe=False,
            )
        except AlmaError as exc:
            raise set_writes_error(exc) from None
        return answered_set(
            data, institution=self.institution, operation=CREATE_SET, subject=subject
        )

    async def add_members(self, set_id: str, ids: Sequence[str]) -> int:
        members = checked_ids(ids)
        subject = {"set_id": set_id}
        try:
            # Repeat-safe (the default): a repeat cannot add a member twice, Alma refuses it.
            data = await self.post_json(
                "conf",
                "sets",
                set_id,
                operation=ADD_SET_MEMBERS,
                params={"op": "add_members"},
                body=members_body(members),
                subject=subject,
            )
        except AlmaError as exc:
            raise set_writes_error(exc) from None
        found = answered_set(
            data, institution=self.institution, operation=ADD_SET_MEMBERS, subject=subject
        )
        return found.number_of_members or 0

    async def set_named(self, name: str) -> AlmaSet | None:
        async for found in each_record(lambda offset: self._search(name, offset)):
            if found.name == name:
                return found
        return None

    async def _search(self, name: str, offset: int) -> Page[AlmaSet]:
        try:
            data = await self.get_json(
                "conf",
                "sets",
                operation=SEARCH_SETS,
                params={"q": name_query(name), "limit": MAX_SET_PAGE, "offset": offset},
                subject={"set_name": name},
            )
        except AlmaError as exc:
            raise set_writes_error(exc) from None
        return sets_page(data, offset)
