"""Sets: the members of a set, a page at a time (rules H1, AS3); itemized sets made, filled and
found by name (rule O8).

Shapes as ``ref:mlibrary-aim__set_members.json``, ``ref:mlibrary-aim__digitizer_setter_sets.json``
(a list of sets) and ``ref:Testing-Environment-esploro-csv-researcher-loader__set_create_
response.json`` / ``…__set_add_members_request.json`` / ``…__set_add_members_response.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.fake_alma import errors, marc, views
from adapters.fake_alma.clock import alma_timestamp
from adapters.fake_alma.state_sets import (
    CONTENT_DESCRIPTIONS,
    ItemizedSet,
    invalid_operation,
)
from adapters.fake_alma.state_workflows import FakeSet
from adapters.fake_alma.web import (
    answer,
    base_url,
    fake,
    institution_code,
    is_xml,
    json_body,
    paging,
    text_body,
)

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


def set_link(base: str, set_id: str) -> str:
    """``…/conf/sets/{id}``."""
    return f"{base}/conf/sets/{quote(set_id, safe='')}"


def set_json(found: FakeSet, base: str, *, with_count: bool = True) -> dict[str, Any]:
    """A set as in ``…__set_create_response.json`` (key order included); a list of sets
    leaves ``number_of_members`` out (``digitizer_setter_sets.json``)."""
    facts = found if isinstance(found, ItemizedSet) else ItemizedSet(found.set_id, "", "")
    stamp = alma_timestamp(facts.created) if facts.created is not None else None
    link = set_link(base, found.set_id)
    private = "true" if facts.private else "false"
    body: dict[str, Any] = {
        "id": found.set_id,
        "name": found.name,
        "description": facts.description,
        "type": {"value": "ITEMIZED", "desc": "Itemized"},
        "content": {
            "value": found.content,
            "desc": CONTENT_DESCRIPTIONS.get(found.content, found.content),
        },
        "status": {"value": "ACTIVE", "desc": "Active"},
        "origin": {"value": "UI", "desc": "Institution only"},
        "private": {"value": private, "desc": "Yes" if facts.private else "No"},
        "status_date": stamp,
        "created_by": {"value": facts.created_by[0], "desc": facts.created_by[1]},
        "created_date": stamp,
    }
    if with_count:
        body["number_of_members"] = {"value": len(found.members), "link": f"{link}/members"}
    body["link"] = link
    return body


def sets_json(found: list[FakeSet], limit: int, offset: int, base: str) -> dict[str, Any]:
    """One page of ``GET /conf/sets``: ``{"set": [...], "total_record_count": N}``."""
    rendered = [set_json(s, base, with_count=False) for s in found[offset : offset + limit]]
    return views.listing("set", rendered, len(found))


def name_words(q: str | None) -> str | None:
    """The words of ``q=name~words`` (None without ``q``); any other query is refused."""
    if not q:
        return None
    field, tilde, words = q.partition("~")
    if not tilde or field.strip().lower() != "name":
        raise errors.invalid_parameter("q", q)
    return words


def _code(value: Any) -> str:
    found = value.get("value") if isinstance(value, Mapping) else value
    return "" if found is None else str(found).strip()


def create_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """`SetWriteState.create_itemized_set`'s arguments from a set object (JSON or as read
    from XML); ``desc`` values are ignored, as Alma ignores them in a POST."""
    return {
        "name": str(body.get("name") or ""),
        "content": _code(body.get("content")),
        "set_type": _code(body.get("type")) or "ITEMIZED",
        "description": str(body.get("description") or ""),
        "private": _code(body.get("private")).lower() == "true",
    }


def member_ids(body: Mapping[str, Any]) -> list[str]:
    """The ids of ``members.member[]`` (``…__set_add_members_request.json``); one member
    object alone counts as a list of one."""
    members = body.get("members")
    listed = members.get("member") if isinstance(members, Mapping) else None
    if isinstance(listed, Mapping):
        listed = [listed]
    if not isinstance(listed, list):
        return []
    return [str(m.get("id") or "") if isinstance(m, Mapping) else "" for m in listed]


async def _set_body(request: Request) -> dict[str, Any]:
    """A set object sent as JSON, or as ``<set>`` XML read into the same keys."""
    text = await text_body(request)
    if not is_xml(request, text):
        return await json_body(request)
    root = marc.parse_xml(text)
    body: dict[str, Any] = {
        key: (root.findtext(key) or "").strip()
        for key in ("name", "description", "type", "content", "private")
        if root.find(key) is not None
    }
    ids = [(m.findtext("id") or "").strip() for m in root.iter("member")]
    body["members"] = {"member": [{"id": i} for i in ids]}
    return body


async def sets_resource(request: Request) -> Response:
    """``GET /conf/sets?q=name~…&limit=&offset=``; ``POST /conf/sets`` (an itemized set)."""
    state = fake(request).state
    code = institution_code(request)
    base = base_url(request)
    if request.method == "GET":
        limit, offset = paging(request)
        found = state.sets_named(code, name_words(request.query_params.get("q")))
        return answer(request, sets_json(found, limit, offset, base), root="sets", list_key="set")
    made = state.create_itemized_set(code, **create_fields(await _set_body(request)))
    return answer(request, set_json(made, base), root="set")


async def set_resource(request: Request) -> Response:
    """``GET /conf/sets/{id}``; ``POST /conf/sets/{id}?op=add_members`` (other operations
    are refused: the fake models adding only)."""
    state = fake(request).state
    code = institution_code(request)
    set_id = request.path_params["set_id"]
    if request.method == "GET":
        return answer(request, set_json(state.set_of(code, set_id), base_url(request)), root="set")
    if request.query_params.get("op") != "add_members":
        raise invalid_operation()
    found = state.add_set_members(code, set_id, member_ids(await _set_body(request)))
    return answer(request, set_json(found, base_url(request)), root="set")


routes = [
    Route("/almaws/v1/conf/sets", sets_resource, methods=["GET", "POST"]),
    Route("/almaws/v1/conf/sets/{set_id}", set_resource, methods=["GET", "POST"]),
    Route("/almaws/v1/conf/sets/{set_id}/members", set_members, methods=["GET"]),
]
