"""Items: by barcode (302), get/update/delete/scan one, its loans, list and create under a
holding."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.fake_alma import errors, views
from adapters.fake_alma.web import (
    answer,
    base_url,
    fake,
    flag,
    institution,
    institution_code,
    json_body,
    paging,
)

ITEM = "/almaws/v1/bibs/{mms_id}/holdings/{holding_id}/items/{item_pid}"
ITEMS = "/almaws/v1/bibs/{mms_id}/holdings/{holding_id}/items"


async def item_by_barcode(request: Request) -> Response:
    """``GET /items?item_barcode=``: 302 to the canonical item URL; a miss is 400/401689."""
    barcode = request.query_params.get("item_barcode")
    if barcode is None:
        raise errors.mandatory_field_missing("item_barcode")
    item = fake(request).state.item_by_barcode(institution_code(request), barcode)
    # Keep the caller's other parameters (format, view, an apikey sent as a parameter) so the
    # followed request is answered the same way; drop only the barcode.
    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "item_barcode"]
    location = views.item_link(base_url(request), item)
    if rest:
        location += "?" + urlencode(rest)
    return RedirectResponse(location, status_code=302)


async def item_resource(request: Request) -> Response:
    """GET, PUT, DELETE and ``POST ?op=scan`` on one item."""
    state = fake(request).state
    code = institution_code(request)
    mms_id = request.path_params["mms_id"]
    holding_id = request.path_params["holding_id"]
    item_pid = request.path_params["item_pid"]
    base = base_url(request)
    if request.method == "GET":
        item = state.item(code, mms_id, holding_id, item_pid)
        return answer(request, views.item_json(institution(request), item, base), root="item")
    if request.method == "PUT":
        body = await json_body(request)
        item = state.update_item(code, mms_id, holding_id, item_pid, body)
        return answer(request, views.item_json(institution(request), item, base), root="item")
    if request.method == "DELETE":
        state.delete_item(
            code,
            mms_id,
            holding_id,
            item_pid,
            override=bool(flag(request, "override")),
            holdings=request.query_params.get("holdings", "retain"),
        )
        return Response(status_code=204)
    op = request.query_params.get("op")
    if op != "scan":
        raise errors.invalid_parameter("op", op or "")
    item, info = state.scan_in(
        code,
        mms_id,
        holding_id,
        item_pid,
        library=request.query_params.get("library"),
        circ_desk=request.query_params.get("circ_desk"),
        department=request.query_params.get("department"),
        done=bool(flag(request, "done")),
    )
    return answer(request, views.scan_json(institution(request), item, info, base), root="item")


async def item_loans(request: Request) -> Response:
    """``GET …/items/{pid}/loans``: the item's active loan, with its borrower."""
    state = fake(request).state
    found = state.loans_of_item(
        institution_code(request),
        request.path_params["mms_id"],
        request.path_params["holding_id"],
        request.path_params["item_pid"],
    )
    page = [views.loan_json(institution(request), loan) for loan in found]
    body = views.listing("item_loan", page, len(found))
    return answer(request, body, root="item_loans", list_key="item_loan")


async def items_collection(request: Request) -> Response:
    """``GET`` a page of items of a holding (or ``ALL``); ``POST`` a new item."""
    state = fake(request).state
    code = institution_code(request)
    mms_id = request.path_params["mms_id"]
    holding_id = request.path_params["holding_id"]
    inst = institution(request)
    base = base_url(request)
    if request.method == "POST":
        body = await json_body(request)
        item = state.create_item(code, mms_id, holding_id, body)
        return answer(request, views.item_json(inst, item, base), root="item")
    limit, offset = paging(request)
    items = state.items_of(code, mms_id, holding_id)
    page = [views.item_json(inst, i, base) for i in items[offset : offset + limit]]
    return answer(request, views.listing("item", page, len(items)), root="items", list_key="item")


routes = [
    Route("/almaws/v1/items", item_by_barcode, methods=["GET"]),
    Route(ITEM, item_resource, methods=["GET", "PUT", "DELETE", "POST"]),
    Route(ITEM + "/loans", item_loans, methods=["GET"]),
    Route(ITEMS, items_collection, methods=["GET", "POST"]),
]
