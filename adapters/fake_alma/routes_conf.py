"""Configuration: libraries and their locations."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.fake_alma import views
from adapters.fake_alma.web import answer, base_url, fake, institution, institution_code


async def libraries(request: Request) -> Response:
    """``GET /conf/libraries``: ``{"library": [...]}`` with no count, as in both samples."""
    base = base_url(request)
    found = [views.library_json(lib, base) for lib in institution(request).libraries.values()]
    return answer(request, {"library": found}, root="libraries", list_key="library")


async def library(request: Request) -> Response:
    """``GET /conf/libraries/{code}``."""
    lib = fake(request).state.library(institution_code(request), request.path_params["library"])
    return answer(request, views.library_json(lib, base_url(request)), root="library")


async def locations(request: Request) -> Response:
    """``GET /conf/libraries/{code}/locations``: with ``total_record_count`` (sample)."""
    lib = fake(request).state.library(institution_code(request), request.path_params["library"])
    base = base_url(request)
    found = [views.location_json(lib, loc, base) for loc in lib.locations.values()]
    body = {"location": found, "total_record_count": len(found)}
    return answer(request, body, root="locations", list_key="location")


async def location(request: Request) -> Response:
    """``GET /conf/libraries/{code}/locations/{location}``."""
    state = fake(request).state
    code = institution_code(request)
    lib = state.library(code, request.path_params["library"])
    loc = state.location(code, lib.code, request.path_params["location"])
    return answer(request, views.location_json(lib, loc, base_url(request)), root="location")


routes = [
    Route("/almaws/v1/conf/libraries", libraries, methods=["GET"]),
    Route("/almaws/v1/conf/libraries/{library}", library, methods=["GET"]),
    Route("/almaws/v1/conf/libraries/{library}/locations", locations, methods=["GET"]),
    Route("/almaws/v1/conf/libraries/{library}/locations/{location}", location, methods=["GET"]),
]
