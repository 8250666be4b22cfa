"""Sets: the members of a set, a page at a time (rules H1, AS3)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.fake_alma import views
from adapters.fake_alma.state_workflows import FakeSet
from adapters.fake_alma.web import answer, base_url, fake, institution_code, paging

_LINKED = {"BIB_MMS": "bibs", "USER": "users"}
"""Set contents whose members Alma links to the record itself."""


def member_json(found: FakeSet, member: dict[str, str], base: str) -> dict[str, Any]:
    """A member as in ``ref:mlibrary-aim__set_members.json``: id, description, link."""
    body: dict[str, Any] = {"id": member["id"], "description": member.get("description")}
    link = member.get("link")
    if link is None and found.content in _LINKED:
        link = f"{base}/{_LINKED[found.content]}/{quote(member['id'], safe='')}"
    if link is not None:
        body["link"] = link
    return body


def members_json(found: FakeSet, limit: int, offset: int, base: str) -> dict[str, Any]:
    """One page: ``{"member": [...], "total_record_count": N}`` (no array when empty)."""
    page = found.members[offset : offset + limit]
    rendered = [member_json(found, m, base) for m in page]
    return views.listing("member", rendered, len(found.members))


async def set_members(request: Request) -> Response:
    """``GET /conf/sets/{set_id}/members?limit=&offset=``."""
    limit, offset = paging(request)
    found = fake(request).state.set_of(institution_code(request), request.path_params["set_id"])
    body = members_json(found, limit, offset, base_url(request))
    return answer(request, body, root="members", list_key="member")


routes = [
    Route("/almaws/v1/conf/sets/{set_id}/members", set_members, methods=["GET"]),
]
