"""Users (incl. linked accounts of a fulfillment network) and their loans."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.fake_alma import errors, views
from adapters.fake_alma.web import (
    answer,
    fake,
    institution,
    institution_code,
    json_body,
    paging,
)


def _code(value: Any) -> str | None:
    """A loan body's ``{"value": "X"}`` or plain ``"X"``."""
    if isinstance(value, dict):
        value = value.get("value")
    return str(value) if value else None


async def users_collection(request: Request) -> Response:
    """``GET /users`` (optionally ``source_institution_code`` + ``source_user_id``);
    ``POST /users?source_institution_code=&source_user_id=`` creates a linked user."""
    state = fake(request).state
    code = institution_code(request)
    source = request.query_params.get("source_institution_code")
    source_user = request.query_params.get("source_user_id")
    if request.method == "POST":
        if not source or not source_user:
            # Creating a local user from a full JSON body is not needed by this project.
            raise errors.mandatory_field_missing("source_institution_code and source_user_id")
        user = state.create_linked_user(code, source, source_user)
        return answer(request, views.user_json(user), root="user")
    limit, offset = paging(request)
    found = state.users_of(code, source_institution_code=source, source_user_id=source_user)
    page = [views.user_json(u) for u in found[offset : offset + limit]]
    return answer(request, views.listing("user", page, len(found)), root="users", list_key="user")


async def user_resource(request: Request) -> Response:
    """``GET /users/{id}`` (``user_id_type``, or ``source_institution_code`` for a linked
    copy); ``POST /users/{id}?op=refresh`` → 204."""
    state = fake(request).state
    code = institution_code(request)
    user_id = request.path_params["user_id"]
    if request.method == "POST":
        op = request.query_params.get("op")
        if op != "refresh":
            raise errors.invalid_parameter("op", op or "")
        state.refresh_user(code, user_id)
        return Response(status_code=204)
    source = request.query_params.get("source_institution_code")
    if source:
        user = state.linked_user(code, user_id, source)
    else:
        id_type = request.query_params.get("user_id_type", "all_unique")
        user = state.user(code, user_id, id_type=id_type)
    return answer(request, views.user_json(user), root="user")


async def user_loans(request: Request) -> Response:
    """``GET /users/{uid}/loans``; ``POST ?item_pid=|item_barcode=`` with
    ``{"circ_desk": {"value": …}, "library": {"value": …}}``."""
    state = fake(request).state
    code = institution_code(request)
    user_id = request.path_params["user_id"]
    inst = institution(request)
    if request.method == "POST":
        body = await json_body(request)
        loan = state.create_loan(
            code,
            user_id,
            item_pid=request.query_params.get("item_pid"),
            item_barcode=request.query_params.get("item_barcode"),
            circ_desk=_code(body.get("circ_desk")),
            library=_code(body.get("library")),
        )
        return answer(request, views.loan_json(inst, loan), root="item_loan")
    limit, offset = paging(request)
    found = state.loans_of(code, user_id)
    page = [views.loan_json(inst, loan) for loan in found[offset : offset + limit]]
    body = views.listing("item_loan", page, len(found))
    return answer(request, body, root="item_loans", list_key="item_loan")


async def user_loan(request: Request) -> Response:
    """``GET /users/{uid}/loans/{lid}``; ``POST ?op=renew``."""
    state = fake(request).state
    code = institution_code(request)
    user_id = request.path_params["user_id"]
    loan_id = request.path_params["loan_id"]
    if request.method == "POST":
        op = request.query_params.get("op")
        if op != "renew":
            raise errors.invalid_parameter("op", op or "")
        loan = state.renew_loan(code, user_id, loan_id)
    else:
        loan = state.loan(code, user_id, loan_id)
    return answer(request, views.loan_json(institution(request), loan), root="item_loan")


routes = [
    Route("/almaws/v1/users", users_collection, methods=["GET", "POST"]),
    Route("/almaws/v1/users/{user_id}", user_resource, methods=["GET", "POST"]),
    Route("/almaws/v1/users/{user_id}/loans", user_loans, methods=["GET", "POST"]),
    Route("/almaws/v1/users/{user_id}/loans/{loan_id}", user_loan, methods=["GET", "POST"]),
]
