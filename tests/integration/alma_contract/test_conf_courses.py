"""Contract: libraries, locations and courses (search with paging, get)."""

from __future__ import annotations

import pytest

from application.shared.alma import AlmaError
from tests.integration.alma_contract.support import AB, Backend


async def test_libraries_of_the_institution(backend: Backend) -> None:
    libraries = await backend.gateway(AB).libraries()

    assert [(lib.code, lib.name) for lib in libraries] == [
        ("ABRS", "AB Remote Storage Library"),
        ("ABMAIN", "AB Main Library"),
    ]
    assert libraries[0].raw["link"] == "http://fake-alma/almaws/v1/conf/libraries/ABRS"


async def test_locations_of_a_library_and_an_unknown_library(backend: Backend) -> None:
    gateway = backend.gateway(AB)

    locations = await gateway.locations("ABRS")

    assert [loc.code for loc in locations] == ["rs_shared_in_ab", "stacks"]
    assert locations[0].raw["remote_storage"] == "SCF"
    with pytest.raises(AlmaError) as caught:
        await gateway.locations("NOPE")
    assert caught.value.error_code == "402221"


async def test_search_courses_pages_and_filters(backend: Backend) -> None:
    gateway = backend.gateway(AB)

    everything = await gateway.search_courses()
    second = await gateway.search_courses(limit=1, offset=1)
    history = await gateway.search_courses("code~hist")
    none = await gateway.search_courses("name~astronomy")

    assert [c.code for c in everything.records] == ["HIST101", "LIS500"]
    assert everything.total_record_count == 2
    assert [c.code for c in second.records] == ["LIS500"]
    assert (second.total_record_count, second.next_offset) == (2, None)
    assert [c.code for c in history.records] == ["HIST101"]
    assert (list(none.records), none.total_record_count) == ([], 0)
    assert (await backend.gateway().search_courses()).total_record_count == 0


async def test_a_malformed_course_query_is_refused(backend: Backend) -> None:
    with pytest.raises(AlmaError) as caught:
        await backend.gateway(AB).search_courses("no tilde here")

    assert caught.value.error_code == "402204"


async def test_get_course_and_an_unknown_one(backend: Backend) -> None:
    gateway = backend.gateway(AB)
    (found,) = (await gateway.search_courses("code~LIS500")).records

    course = await gateway.get_course(str(found.course_id))

    assert course == found
    assert course.raw["name"] == "Remote Storage Management"
    with pytest.raises(AlmaError) as caught:
        await gateway.get_course("0")
    assert caught.value.error_code == "401006"
