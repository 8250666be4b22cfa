"""Courses: search with ``q`` (``year~2025`` included), page with ``limit``/``offset``, get one,
with its reading lists under ``view=full``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.fake_alma import views
from adapters.fake_alma.web import answer, base_url, fake, institution_code, paging


async def courses(request: Request) -> Response:
    """``GET /courses?q=code~X AND name~Y&limit=&offset=``."""
    limit, offset = paging(request)
    found = fake(request).state.search_courses(
        institution_code(request), request.query_params.get("q")
    )
    base = base_url(request)
    page = [views.course_json(c, base) for c in found[offset : offset + limit]]
    body = views.listing("course", page, len(found))
    return answer(request, body, root="courses", list_key="course")


async def course(request: Request) -> Response:
    """``GET /courses/{id}[?view=full]``: ``view=full`` adds the reading lists (rules L5, L8)."""
    state = fake(request).state
    code = institution_code(request)
    found = state.course(code, request.path_params["course_id"])
    lists = None
    if request.query_params.get("view") == "full":
        lists = state.reading_lists_of(code, found.course_id)
    body = views.course_json(found, base_url(request), reading_lists=lists)
    return answer(request, body, root="course")


routes = [
    Route("/almaws/v1/courses", courses, methods=["GET"]),
    Route("/almaws/v1/courses/{course_id}", course, methods=["GET"]),
]
