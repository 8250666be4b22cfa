"""Contract of `CourseCatalog` (rules L5, L8) on both backends, and the fake's courses against the
real sample (``tulibraries-alma_rb__courses.json``)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.alma_http.courses import HttpCourseCatalog
from adapters.fake_alma import FakeAlmaState, create_fake_alma_app
from application.ports.alma.courses import (
    CourseNotFound,
    CourseSummary,
    CourseWithReadingLists,
    ReadingList,
)
from application.shared.alma import AlmaError
from application.shared.connections import Secret
from tests.integration.alma_roles.support import (
    AB,
    API,
    GATEWAY_URL,
    KEYS,
    Roles,
    facts,
    open_roles,
    recording_client,
    reference,
)
from tests.integration.fake_alma.shapes import assert_same_shape

SAMPLE = "tulibraries-alma_rb__courses.json"
ENG200: dict[str, Any] = {
    "code": "ENG200",
    "name": "American Literature",
    "section": "70412",
    "year": "2025",
    "searchable_id": ["70412", "2025Fall-T-ENG200"],
    "term": [{"value": "AUTUMN", "desc": "Autumn"}],
    "start_date": "2025-08-25Z",
    "end_date": "2025-12-12Z",
    "academic_department": {"value": "LAS", "desc": "Liberal Arts"},
    "processing_department": {"value": "MAIN_RESERVES", "desc": "Main Reserves"},
}


def seed_eng200(state: FakeAlmaState) -> str:
    """ENG200 (2025, section 70412) with two reading lists; its course id."""
    course = state.add_course(AB, ENG200)
    state.add_reading_list(AB, course.course_id, code="ENG200-RL1", name="Week 1", list_id="7701")
    state.add_reading_list(
        AB,
        course.course_id,
        code="ENG200-RL2",
        name="Week 2",
        status=("BeingPrepared", "Being prepared"),
        list_id="7702",
    )
    return course.course_id


async def test_search_gives_the_courses_fields(roles: Roles) -> None:
    course_id = seed_eng200(roles.state)

    page = await roles.courses().search("code~ENG200")

    assert list(page.records) == [
        CourseSummary(
            course_id=course_id,
            code="ENG200",
            name="American Literature",
            section="70412",
            year="2025",
            terms=("AUTUMN",),
            searchable_ids=("70412", "2025Fall-T-ENG200"),
            status="ACTIVE",
            start_date=date(2025, 8, 25),
            end_date=date(2025, 12, 12),
            academic_department="LAS",
            processing_department="MAIN_RESERVES",
        )
    ]
    assert (page.total_record_count, page.next_offset) == (1, None)


async def test_search_pages_with_limit_and_offset(roles: Roles) -> None:
    courses = roles.courses()

    first = await courses.search(limit=1)
    second = await courses.search(limit=1, offset=1)
    everything = await courses.search()

    assert [c.code for c in first.records] == ["HIST101"]
    assert (first.total_record_count, first.next_offset) == (2, 1)
    assert [c.code for c in second.records] == ["LIS500"]
    assert [c.code for c in everything.records] == ["HIST101", "LIS500"]
    with pytest.raises(ValueError, match="0 to 100"):
        await courses.search(limit=500)


async def test_get_full_gives_the_reading_lists(roles: Roles) -> None:
    course_id = seed_eng200(roles.state)
    courses = roles.courses()
    (history,) = (await courses.search("code~HIST101")).records

    full = await courses.get_full(course_id)
    bare = await courses.get_full(history.course_id)

    assert full.course.code == "ENG200"
    assert full.reading_lists == (
        ReadingList("7701", "ENG200-RL1", "Week 1", "Complete"),
        ReadingList("7702", "ENG200-RL2", "Week 2", "BeingPrepared"),
    )
    assert full.has_reading_lists
    assert bare == CourseWithReadingLists(history, ())
    assert not bare.has_reading_lists


async def test_an_unknown_course_is_course_not_found(roles: Roles) -> None:
    with pytest.raises(CourseNotFound) as caught:
        await roles.courses().get_full("0")

    assert facts(caught.value) == (
        CourseNotFound,
        AB,
        "get course with reading lists",
        400,
        "401006",
        "Course with ID 0 was not found.",
        {"course": "0"},
    )


async def test_a_malformed_course_query_is_refused(roles: Roles) -> None:
    with pytest.raises(AlmaError) as caught:
        await roles.courses().search("no tilde here")

    assert caught.value.error_code == "402204"


async def test_courses_by_year_reads_every_page_and_keeps_that_year_only(roles: Roles) -> None:
    seed_eng200(roles.state)
    roles.state.add_course(AB, {"code": "OLD100", "section": "1", "year": "2024"})
    # Alma's "~" is a partial match: this one answers year~2025 but is not of 2025 (L8).
    roles.state.add_course(AB, {"code": "SPAN300", "section": "1", "year": "2025/26"})
    for n in range(150):
        roles.state.add_course(AB, {"code": f"BIO{n:03d}", "section": "1", "year": "2026"})
    courses = roles.courses()

    of_2025 = [c.code async for c in courses.courses_by_year(2025)]
    of_2026 = [c.code async for c in courses.courses_by_year("2026")]

    assert of_2025 == ["HIST101", "LIS500", "ENG200"]
    assert of_2026 == [f"BIO{n:03d}" for n in range(150)]
    if roles.name == "http":
        calls = roles.calls("/courses")
        assert [(c.param("q"), c.param("offset")) for c in calls] == [
            ("year~2025", "0"),
            ("year~2026", "0"),
            ("year~2026", "100"),
        ]
    with pytest.raises(ValueError, match="four digits"):
        [c async for c in courses.courses_by_year("25")]


async def test_queries_and_ids_are_encoded_and_the_key_stays_in_the_header() -> None:
    async with recording_client({"total_record_count": 0}) as (client, sent):
        courses = HttpCourseCatalog(client, AB, Secret(KEYS[AB]))
        await courses.search("code~A&B AND section~1/2", limit=10)
        with pytest.raises(AlmaError, match="has no id"):  # the recorder's answer is no course
            await courses.get_full("12/34")

    search, full = sent
    assert search.url.params["q"] == "code~A&B AND section~1/2"
    assert b"A%26B" in search.url.raw_path
    assert full.url.raw_path == b"/almaws/v1/courses/12%2F34?view=full"
    assert all(r.headers["authorization"] == f"apikey {KEYS[AB]}" for r in sent)


async def test_the_fake_serves_a_full_course_as_the_real_course_plus_reading_lists() -> None:
    sample = json.loads(reference(SAMPLE).read_text(encoding="utf-8"))["course"][0]
    async with open_roles("memory") as roles:
        course_id = seed_eng200(roles.state)
        app = create_fake_alma_app(roles.state)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL
        ) as http:
            response = await http.get(
                f"{API}/courses/{course_id}",
                params={"view": "full"},
                headers={"Authorization": f"apikey {KEYS[AB]}", "Accept": "application/json"},
            )

    body = response.json()
    # No public sample shows view=full; searchable_id[] and term[] are newer tenants' keys.
    assert_same_shape(sample, body, extra={"$.reading_lists", "$.searchable_id", "$.term"})
    assert [r["code"] for r in body["reading_lists"]["reading_list"]] == [
        "ENG200-RL1",
        "ENG200-RL2",
    ]


async def test_the_real_sample_reads_through_the_http_adapter() -> None:
    data = json.loads(reference(SAMPLE).read_text(encoding="utf-8"))
    async with recording_client(data) as (client, _):
        page = await HttpCourseCatalog(client, AB, Secret(KEYS[AB])).search(limit=10)

    assert page.total_record_count == 246
    assert len(page.records) == 10
    first = page.records[0]
    assert (first.course_id, first.code, first.section, first.year) == (
        "2703155000006421",
        "000",
        None,
        None,
    )
    assert (first.start_date, first.end_date) == (date(2020, 8, 31), date(2021, 1, 31))
    assert first.academic_department == "GSG-246"
