"""Bibs and holdings: search, get, create (local, or linked from the network zone)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.fake_alma import errors, marc, views
from adapters.fake_alma.model import Bib
from adapters.fake_alma.web import (
    answer,
    base_url,
    fake,
    institution,
    institution_code,
    is_xml,
    json_body,
    record_from_body,
    text_body,
)


def _bib(request: Request, bib: Bib) -> dict[str, object]:
    active = fake(request).state.requests_of(institution_code(request), mms_id=bib.mms_id)
    return views.bib_json(bib, base_url(request), requests=len(active))


async def bibs_collection(request: Request) -> Response:
    """``GET /bibs?mms_id=a,b|nz_mms_id=|other_system_id=``; ``POST /bibs`` (local record in
    ``<bib><record>…</record></bib>``) or ``POST /bibs?from_nz_mms_id=`` (linked copy)."""
    state = fake(request).state
    code = institution_code(request)
    params = request.query_params
    if request.method == "POST":
        nz_mms_id = params.get("from_nz_mms_id")
        if nz_mms_id:
            bib = state.create_bib_from_nz(code, nz_mms_id)
        else:
            text = await text_body(request)
            if is_xml(request, text):
                record = record_from_body(text)
            else:
                anies = (await json_body(request)).get("anies") or []
                record = marc.find_record(marc.parse_xml(str(anies[0]))) if anies else None
            if record is None:
                raise errors.mandatory_field_missing("record")
            bib = state.create_bib(code, record)
        return answer(request, _bib(request, bib), root="bib")
    mms_ids = [m.strip() for m in (params.get("mms_id") or "").split(",") if m.strip()]
    nz_mms_id = params.get("nz_mms_id")
    other_system_id = params.get("other_system_id")
    if not (mms_ids or nz_mms_id or other_system_id):
        raise errors.invalid_parameter("mms_id", "")
    if len(mms_ids) > 100:
        raise errors.invalid_parameter("mms_id", f"{len(mms_ids)} ids (at most 100)")
    bibs = state.find_bibs(
        code, mms_ids=mms_ids, nz_mms_id=nz_mms_id, other_system_id=other_system_id
    )
    # The empty bib search keeps its array: {"bib":[],"total_record_count":0}
    # (ref:pulibrary-bibdata__not_found.json), unlike item lists.
    body = {"bib": [_bib(request, b) for b in bibs], "total_record_count": len(bibs)}
    return answer(request, body, root="bibs", list_key="bib")


async def bib_resource(request: Request) -> Response:
    """``GET /bibs/{mms}``."""
    bib = fake(request).state.bib(institution_code(request), request.path_params["mms_id"])
    return answer(request, _bib(request, bib), root="bib")


async def holdings_collection(request: Request) -> Response:
    """``GET /bibs/{mms}/holdings``; ``POST`` a holding (XML with an 852, or JSON ``anies``)."""
    state = fake(request).state
    code = institution_code(request)
    mms_id = request.path_params["mms_id"]
    if request.method == "POST":
        text = await text_body(request)
        if is_xml(request, text):
            root = marc.parse_xml(text)
            record = marc.find_record(root)
            suppress = (root.findtext("suppress_from_publishing") or "false").strip() == "true"
        else:
            body = await json_body(request)
            anies = body.get("anies") or []
            record = marc.find_record(marc.parse_xml(str(anies[0]))) if anies else None
            suppress = str(body.get("suppress_from_publishing", "false")).lower() == "true"
        if record is None:
            raise errors.mandatory_field_missing("record")
        holding = state.create_holding(
            code, mms_id, record=record, suppress_from_publishing=suppress
        )
        return answer(request, views.holding_json(holding), root="holding")
    bib = state.bib(code, mms_id)
    holdings = state.holdings_of(code, mms_id)
    body = views.holdings_list_json(institution(request), bib, holdings, base_url(request))
    return answer(request, body, root="holdings", list_key="holding")


async def holding_resource(request: Request) -> Response:
    """``GET /bibs/{mms}/holdings/{hid}``: XML as ``ref:scriptotek-php-alma-client__holding_
    response.xml`` (the ``<record>`` inside ``<holding>``), JSON with the record in ``anies``;
    a holding seeded with ``withhold_holding_record`` comes without its record (rule H2)."""
    state = fake(request).state
    code = institution_code(request)
    holding = state.holding(code, request.path_params["mms_id"], request.path_params["holding_id"])
    body = views.holding_json(holding)
    if state.holding_record_withheld(code, holding.holding_id):
        del body["anies"]
    return answer(request, body, root="holding")


routes = [
    Route("/almaws/v1/bibs", bibs_collection, methods=["GET", "POST"]),
    Route("/almaws/v1/bibs/{mms_id}", bib_resource, methods=["GET"]),
    Route("/almaws/v1/bibs/{mms_id}/holdings", holdings_collection, methods=["GET", "POST"]),
    Route("/almaws/v1/bibs/{mms_id}/holdings/{holding_id}", holding_resource, methods=["GET"]),
]
