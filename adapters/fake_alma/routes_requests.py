"""User requests: item-level, title-level and per user; create, list, get, cancel."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.fake_alma import errors, views
from adapters.fake_alma.model import UserRequest
from adapters.fake_alma.web import (
    answer,
    fake,
    flag,
    institution,
    institution_code,
    json_body,
    paging,
)

ITEM_REQUESTS = "/almaws/v1/bibs/{mms_id}/holdings/{holding_id}/items/{item_pid}/requests"
BIB_REQUESTS = "/almaws/v1/bibs/{mms_id}/requests"
USER_REQUESTS = "/almaws/v1/users/{user_id}/requests"


def _status_filter(request: Request) -> bool | None:
    status = (request.query_params.get("status") or "active").lower()
    if status not in ("active", "history", "all"):
        raise errors.invalid_parameter("status", status)
    return {"active": True, "history": False, "all": None}[status]


def _page(request: Request, found: list[UserRequest]) -> Response:
    limit, offset = paging(request)
    inst = institution(request)
    page = [views.request_json(inst, r) for r in found[offset : offset + limit]]
    body = views.listing("user_request", page, len(found))
    return answer(request, body, root="user_requests", list_key="user_request")


def _one(request: Request, found: UserRequest) -> Response:
    return answer(request, views.request_json(institution(request), found), root="user_request")


def _cancel(request: Request, **scope: str) -> Response:
    fake(request).state.cancel_request(
        institution_code(request),
        request.path_params["request_id"],
        reason=request.query_params.get("reason"),
        note=request.query_params.get("note"),
        notify_user=flag(request, "notify_user"),
        **scope,
    )
    return Response(status_code=204)


def _create_options(request: Request) -> tuple[str | None, str, bool]:
    return (
        request.query_params.get("user_id"),
        request.query_params.get("user_id_type", "all_unique"),
        bool(flag(request, "allow_same_request")),
    )


async def item_requests(request: Request) -> Response:
    """``GET``/``POST /bibs/{mms}/holdings/{hid}/items/{pid}/requests``."""
    state = fake(request).state
    code = institution_code(request)
    mms_id = request.path_params["mms_id"]
    holding_id = request.path_params["holding_id"]
    item_pid = request.path_params["item_pid"]
    if request.method == "POST":
        user_id, id_type, allow_same = _create_options(request)
        body = await json_body(request)
        created = state.create_item_request(
            code,
            mms_id,
            holding_id,
            item_pid,
            user_id,
            body,
            user_id_type=id_type,
            allow_same_request=allow_same,
        )
        return _one(request, created)
    state.item(code, mms_id, holding_id, item_pid)
    found = state.requests_of(code, item_pid=item_pid, active=_status_filter(request))
    return _page(request, found)


async def item_request(request: Request) -> Response:
    """``GET``/``DELETE …/items/{pid}/requests/{rid}`` (DELETE takes reason, note)."""
    state = fake(request).state
    code = institution_code(request)
    mms_id = request.path_params["mms_id"]
    holding_id = request.path_params["holding_id"]
    item_pid = request.path_params["item_pid"]
    state.item(code, mms_id, holding_id, item_pid)
    if request.method == "DELETE":
        return _cancel(request, mms_id=mms_id, item_pid=item_pid)
    found = state.request(code, request.path_params["request_id"], item_pid=item_pid)
    return _one(request, found)


async def bib_requests(request: Request) -> Response:
    """``GET``/``POST /bibs/{mms}/requests`` (POST makes a title-level request)."""
    state = fake(request).state
    code = institution_code(request)
    mms_id = request.path_params["mms_id"]
    if request.method == "POST":
        user_id, id_type, allow_same = _create_options(request)
        body = await json_body(request)
        created = state.create_title_request(
            code, mms_id, user_id, body, user_id_type=id_type, allow_same_request=allow_same
        )
        return _one(request, created)
    state.bib(code, mms_id)
    found = state.requests_of(code, mms_id=mms_id, active=_status_filter(request))
    return _page(request, found)


async def bib_request(request: Request) -> Response:
    """``GET``/``DELETE /bibs/{mms}/requests/{rid}``: any request on the bib, item-level
    ones included (the SCF bridge reads member item requests this way)."""
    state = fake(request).state
    code = institution_code(request)
    mms_id = request.path_params["mms_id"]
    state.bib(code, mms_id)
    if request.method == "DELETE":
        return _cancel(request, mms_id=mms_id)
    return _one(request, state.request(code, request.path_params["request_id"], mms_id=mms_id))


async def user_requests(request: Request) -> Response:
    """``GET /users/{uid}/requests`` (``request_type``, ``status``); ``POST`` with
    ``item_pid=`` (item-level) or ``mms_id=`` (title-level)."""
    state = fake(request).state
    code = institution_code(request)
    user_id = request.path_params["user_id"]
    if request.method == "POST":
        body = await json_body(request)
        allow_same = bool(flag(request, "allow_same_request"))
        item_pid = request.query_params.get("item_pid")
        if item_pid:
            item = state.item_by_pid(code, item_pid)
            if item is None:
                raise errors.invalid_parameter("item_pid", item_pid)
            created = state.create_item_request(
                code,
                item.mms_id,
                item.holding_id,
                item.pid,
                user_id,
                body,
                allow_same_request=allow_same,
            )
        else:
            mms_id = request.query_params.get("mms_id")
            if not mms_id:
                raise errors.mandatory_field_missing("item_pid or mms_id")
            created = state.create_title_request(
                code, mms_id, user_id, body, allow_same_request=allow_same
            )
        return _one(request, created)
    found = state.requests_of(
        code,
        user_id=user_id,
        active=_status_filter(request),
        request_type=request.query_params.get("request_type"),
    )
    return _page(request, found)


async def user_request(request: Request) -> Response:
    """``GET``/``DELETE /users/{uid}/requests/{rid}``."""
    state = fake(request).state
    code = institution_code(request)
    user_id = request.path_params["user_id"]
    if request.method == "DELETE":
        return _cancel(request, user_id=user_id)
    return _one(request, state.request(code, request.path_params["request_id"], user_id=user_id))


routes = [
    Route(ITEM_REQUESTS, item_requests, methods=["GET", "POST"]),
    Route(ITEM_REQUESTS + "/{request_id}", item_request, methods=["GET", "DELETE"]),
    Route(BIB_REQUESTS, bib_requests, methods=["GET", "POST"]),
    Route(BIB_REQUESTS + "/{request_id}", bib_request, methods=["GET", "DELETE"]),
    Route(USER_REQUESTS, user_requests, methods=["GET", "POST"]),
    Route(USER_REQUESTS + "/{request_id}", user_request, methods=["GET", "DELETE"]),
]
