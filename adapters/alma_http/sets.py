"""`SetMembers` over Alma's REST API: ``GET /conf/sets/{id}/members`` (rules H1, AS3, B4)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

from adapters.alma_http.requests_kit import (
    AlmaCaller,
    check_limit,
    each_record,
    listed,
    plain,
    retyped,
    text,
    total_count,
)
from application.ports.alma.sets import MAX_SET_PAGE, SetMember, SetNotFound
from application.shared.alma import AlmaError, Page

LIST_SET_MEMBERS = "list set members"
_SET_NOT_FOUND = frozenset({"402460"})  # the fake's code (unverified against Alma)
# Alma's own wording is unverified too: any "set … not valid / not found / does not exist".
_SET_NOT_FOUND_TEXT = re.compile(r"\bset(id| id)?\b.*\b(not valid|not found|does not exist)", re.I)


def members_page(data: Mapping[str, Any], offset: int) -> Page[SetMember]:
    """A page of a members answer (``ref:mlibrary-aim__set_members.json``)."""
    members = []
    for entry in listed(data, "member"):
        member_id = text(entry.get("id"))
        if member_id is not None:
            members.append(
                SetMember(member_id, text(entry.get("description")), text(entry.get("link")))
            )
    return Page(members, total_record_count=total_count(data, len(members)), offset=offset)


def sets_error(error: AlmaError) -> AlmaError:
    """`SetNotFound` for Alma's "no such set"; any other failure unchanged."""
    message = error.error_message or ""
    if plain(error) and (error.error_code in _SET_NOT_FOUND or _SET_NOT_FOUND_TEXT.search(message)):
        return retyped(error, SetNotFound)
    return error


class HttpSetMembers(AlmaCaller):
    """One institution's sets through the process-wide `AlmaHttpClient` (H1, AS3, B4)."""

    async def members(
        self, set_id: str, *, limit: int = MAX_SET_PAGE, offset: int = 0
    ) -> Page[SetMember]:
        check_limit(limit, 0, MAX_SET_PAGE)
        try:
            data = await self.get_json(
                "conf",
                "sets",
                set_id,
                "members",
                operation=LIST_SET_MEMBERS,
                params={"limit": limit, "offset": offset},
                subject={"set_id": set_id},
            )
        except AlmaError as exc:
            raise sets_error(exc) from None
        return members_page(data, offset)

    async def all_members(self, set_id: str) -> AsyncIterator[SetMember]:
        async for member in each_record(
            lambda offset: self.members(set_id, limit=MAX_SET_PAGE, offset=offset)
        ):
            yield member
