"""Contract of `AnalyticsReports` (rule O5) on both backends, and the fake's report pages against
the real samples (``scriptotek-php-alma-client__analytics_*.xml``, ``…report_not_found…``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.alma_http.analytics import HttpAnalyticsReports, parse_page, row_keys
from adapters.alma_http.client import AlmaHttpClient
from adapters.fake_alma import FakeAlmaState, create_fake_alma_app
from adapters.fake_alma.marc import ANIES_DECLARATION
from application.ports.alma.analytics import AnalyticsStillLoading, ReportNotFound
from application.shared.alma import TransientAlmaError
from application.shared.connections import Secret
from tests.integration.alma_roles.support import (
    AB,
    API,
    FAST_RETRY,
    GATEWAY_URL,
    KEYS,
    Roles,
    facts,
    open_roles,
    reference,
)
from tests.integration.fake_alma.shapes import xml_paths

PATH = "/shared/UTON Network 01OCUL_NETWORK/Reports/OCLC Identifiers/OCLC-doublecheck"
HEADINGS = ["Network Id", "035a", "035z", "Lifecycle"]
ROWS = [
    {
        "Network Id": f"99{n:04d}5151",
        "035a": f"(OCoLC){n}",
        "035z": "" if n % 3 else f"(OCoLC)9{n}",
        "Lifecycle": "Active" if n % 2 else "",
    }
    for n in range(7)
]
PARTS = [f"scriptotek-php-alma-client__analytics_response_part{n}.xml" for n in (1, 2, 3)]
SINGLE = "scriptotek-php-alma-client__analytics_response.xml"
LOADING = "scriptotek-php-alma-client__analytics_still_loading_response.xml"
NOT_FOUND = "scriptotek-php-alma-client__report_not_found_response.xml"
PART1_TOKEN = (
    "9672D715A8E2EAAA6F30DD22FC52BE4CCAE35E29D921E0AC8BE8C6734C9E1571"
    "B4E48EEFCA4046EFF8CD7D1662C2D0A7677D3AD05EDC3CA7F06182E34E9D7A2F"
)


async def read_all(roles: Roles, path: str = PATH, **options: Any) -> list[dict[str, str]]:
    """Every row the port gives for a report."""
    return [row async for row in roles.analytics().report_rows(path, **options)]


def sent(roles: Roles) -> list[tuple[str | None, str | None]]:
    """(path, token) of each report call the fake logged (HTTP only)."""
    return [(c.param("path"), c.param("token")) for c in roles.calls("/analytics/reports")]


# ---- the contract, on both backends ----------------------------------------------------------


async def test_rows_come_keyed_by_heading_page_after_page(roles: Roles) -> None:
    roles.state.add_report(AB, PATH, HEADINGS, ROWS, page_size=3)

    rows = await read_all(roles, limit=25)

    assert rows == ROWS
    if roles.name == "http":
        calls = roles.calls("/analytics/reports")
        first, *later = calls
        assert (first.param("path"), first.param("token")) == (PATH, None)
        assert (first.param("limit"), first.param("col_names")) == ("25", "true")
        tokens = {c.param("token") for c in later}
        assert len(later) == 2
        assert len(tokens) == 1
        assert None not in tokens
        assert all(c.param("path") is None for c in later)


@pytest.mark.parametrize(
    "knobs",
    [
        {"column_order": ["Lifecycle", "035z", "Network Id", "035a"]},
        {"omit_empty": False},
        {"rowset_namespace": False},
        {"page_size": 1},
    ],
    ids=["columns reordered", "empty cells sent", "no rowset namespace", "pages of one"],
)
async def test_the_rows_do_not_depend_on_how_alma_lays_the_pages_out(
    roles: Roles, knobs: dict[str, Any]
) -> None:
    # O5: columns by heading, not position; with or without the rowset namespace; an empty
    # cell left out by Alma and one sent empty read the same ("").
    roles.state.add_report(AB, PATH, HEADINGS, ROWS, **{"page_size": 3, **knobs})

    assert await read_all(roles) == ROWS


async def test_still_loading_before_the_first_page_asks_again_with_the_path(roles: Roles) -> None:
    roles.state.add_report(AB, PATH, HEADINGS, ROWS, page_size=5, still_loading_polls=2)

    assert await read_all(roles) == ROWS
    if roles.name == "http":
        calls = sent(roles)
        assert calls[:3] == [(PATH, None)] * 3
        assert [path for path, _ in calls[3:]] == [None]


async def test_still_loading_after_the_first_page_asks_again_with_the_token(roles: Roles) -> None:
    # As the php client's spec: part 1, "still loading", then the rest, all with part 1's token.
    roles.state.add_report(
        AB, PATH, HEADINGS, ROWS, page_size=3, still_loading_polls=3, still_loading_after_page=1
    )

    assert await read_all(roles) == ROWS
    if roles.name == "http":
        calls = sent(roles)
        assert calls[0] == (PATH, None)
        assert len(calls) == 1 + 3 + 2
        assert len({token for _, token in calls[1:]}) == 1


async def test_a_report_that_stays_loading_is_analytics_still_loading(roles: Roles) -> None:
    roles.state.add_report(
        AB, PATH, HEADINGS, ROWS, page_size=3, still_loading_polls=9, still_loading_after_page=1
    )
    reader = roles.analytics(max_polls=5)

    got: list[dict[str, str]] = []

    async def read() -> None:
        async for row in reader.report_rows(PATH):
            got.append(row)

    with pytest.raises(AnalyticsStillLoading) as caught:
        await read()

    assert got == ROWS[:3]
    assert isinstance(caught.value, TransientAlmaError)
    assert facts(caught.value) == (
        AnalyticsStillLoading,
        AB,
        "read analytics report",
        None,
        None,
        "Alma still loading the report after 5 polls",
        {"path": PATH},
    )


async def test_an_unknown_report_path_is_report_not_found(roles: Roles) -> None:
    with pytest.raises(ReportNotFound) as caught:
        await read_all(roles, "/test/path")

    assert facts(caught.value) == (
        ReportNotFound,
        AB,
        "read analytics report",
        400,
        "INTERNAL_SERVER_ERROR",
        "Path not found (/test/path)",
        {"path": "/test/path"},
    )


async def test_an_empty_report_has_no_rows(roles: Roles) -> None:
    roles.state.add_report(AB, "/empty", HEADINGS, [])

    assert await read_all(roles, "/empty") == []


def test_keys_come_from_headings_with_alma_s_constant_column_left_out() -> None:
    page = parse_page(
        '<QueryResult><IsFinished>true</IsFinished><ResultXml><rowset xmlns="urn:x">'
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:saw-sql="urn:saw-sql">'
        '<xsd:element name="Column0" saw-sql:columnHeading="0"/>'
        '<xsd:element name="Column1" saw-sql:columnHeading="Title"/>'
        '<xsd:element name="Column2"/>'
        '<xsd:element name="Column3" saw-sql:columnHeading="Title"/>'
        "</xsd:schema><Row><Column0>0</Column0><Column1>a</Column1><Column3>b</Column3></Row>"
        "</rowset></ResultXml></QueryResult>"
    )

    keys = row_keys(page.columns)

    # A heading met again keeps its column's name; a column without a heading is its name.
    assert keys == [("Column1", "Title"), ("Column2", "Column2"), ("Column3", "Title (Column3)")]
    assert [{k: r.get(n, "") for n, k in keys} for r in page.rows] == [
        {"Title": "a", "Column2": "", "Title (Column3)": "b"}
    ]


async def test_page_sizes_alma_refuses_are_refused_before_any_call(roles: Roles) -> None:
    roles.state.add_report(AB, PATH, HEADINGS, ROWS)

    for limit in (10, 1001):
        with pytest.raises(ValueError, match="25 to 1000"):
            await read_all(roles, limit=limit)
    assert roles.calls("/analytics") == []


async def test_the_filter_goes_with_the_first_call_only(roles: Roles) -> None:
    roles.state.add_report(AB, PATH, HEADINGS, ROWS, page_size=5)
    wanted = '<sawx:expr op="equal">"Network Id" = \'99000051&51\'</sawx:expr>'

    assert await read_all(roles, filter=wanted) == ROWS
    if roles.name == "http":
        first, second = roles.calls("/analytics/reports")
        assert (first.param("filter"), second.param("filter")) == (wanted, None)
        assert b"%26" in first.query.encode()


# ---- the fake against the real samples -------------------------------------------------------


def sample_pages() -> list[str]:
    return [reference(name).read_text(encoding="utf-8") for name in PARTS]


def sample_rows() -> tuple[list[str], list[dict[str, str]]]:
    """The column names and every row of parts 1–3 (no headings in part 1: names as keys)."""
    pages = [parse_page(text) for text in sample_pages()]
    keys = row_keys(pages[0].columns)
    rows = [{key: row.get(name, "") for name, key in keys} for p in pages for row in p.rows]
    return [name for name, _ in keys], rows


def seed_sample_report(state: FakeAlmaState) -> None:
    """The report of parts 1–3 in the fake: same columns, types, rows and pages of 150."""
    names, rows = sample_rows()
    columns = parse_page(sample_pages()[0]).columns or ()
    root = ET.fromstring(sample_pages()[0].encode())  # noqa: S314 - our own sample
    types = {
        e.get("name"): e.get("{urn:saw-sql}type")
        for e in root.iter("{http://www.w3.org/2001/XMLSchema}element")
    }
    assert [c.name for c in columns][1:] == names
    state.add_report(
        AB,
        PATH,
        names,
        rows,
        page_size=150,
        column_types={n: str(types[n]) for n in names},
    )


async def fake_pages(state: FakeAlmaState, count: int, **params: str) -> list[httpx.Response]:
    """``count`` XML answers of the fake for the report, as the php client asks for them."""
    app = create_fake_alma_app(state)
    headers = {"Authorization": f"apikey {KEYS[AB]}", "Accept": "application/xml"}
    answers: list[httpx.Response] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL
    ) as http:
        query = {"path": PATH, "limit": "1000", **params}
        for _ in range(count):
            answer = await http.get(f"{API}/analytics/reports", params=query, headers=headers)
            answers.append(answer)
            token = parse_page(answer.text).token if answer.is_success else None
            if token:
                query = {"token": token, "limit": "1000", **params}
    return answers


def cells(document: str) -> list[list[tuple[str, str]]]:
    """The non-empty cells of every row, by local tag name."""
    root = ET.fromstring(document.encode())  # noqa: S314 - the fake's or our sample's XML
    return [
        [(c.tag.rsplit("}", 1)[-1], c.text or "") for c in row if c.text]
        for row in root.iter()
        if row.tag.rsplit("}", 1)[-1] == "Row"
    ]


def structure(document: str) -> list[str]:
    """The page's elements other than rows and schema, in order (tags without namespace)."""
    root = ET.fromstring(document.encode())  # noqa: S314 - the fake's or our sample's XML
    found = []
    for element in root.iter():
        name = element.tag.rsplit("}", 1)[-1]
        if name in ("report", "QueryResult", "ResumptionToken", "IsFinished", "ResultXml"):
            found.append(name)
        elif name in ("rowset", "schema"):
            found.append(f"{name} {element.tag.partition('}')[0].lstrip('{')}")
    return found


async def test_the_fake_serves_parts_1_to_4_as_the_samples() -> None:
    async with open_roles("memory") as roles:
        seed_sample_report(roles.state)
        answers = await fake_pages(roles.state, 4, col_names="false")

    *pages, after = answers
    for served, sample in zip(pages, sample_pages(), strict=True):
        assert structure(served.text) == structure(sample)
        assert cells(served.text) == cells(sample)
    assert [parse_page(p.text).finished for p in pages] == [False, False, True]
    # Part 1's schema, without headings as Alma sent it (col_names=false).
    assert xml_paths(ET.fromstring(pages[0].text.encode())) == xml_paths(  # noqa: S314
        ET.fromstring(sample_pages()[0].encode())  # noqa: S314
    )
    sample_error = ET.fromstring(reference(PARTS[0].replace("1", "4")).read_bytes())  # noqa: S314
    served_error = ET.fromstring(after.content)  # noqa: S314 - the fake's answer
    assert after.status_code == 400
    assert xml_paths(served_error) == xml_paths(sample_error)
    code = "{http://com/exlibris/urm/general/xmlbeans}errorCode"
    message = "{http://com/exlibris/urm/general/xmlbeans}errorMessage"
    assert [served_error.findtext(f".//{t}") for t in (code, message)] == [
        sample_error.findtext(f".//{t}") for t in (code, message)
    ]


async def test_parts_1_to_3_give_the_same_rows_through_the_fake(roles: Roles) -> None:
    seed_sample_report(roles.state)
    _, expected = sample_rows()

    rows = await read_all(roles)

    assert len(rows) == 150 + 150 + 88
    assert rows == expected


async def test_the_fake_serves_a_one_page_report_with_headings_as_the_sample() -> None:
    sample = reference(SINGLE).read_text(encoding="utf-8")
    page = parse_page(sample)
    keys = row_keys(page.columns)
    headings = [key for _, key in keys]
    rows = [{key: row.get(name, "") for name, key in keys} for row in page.rows]
    async with open_roles("memory") as roles:
        roles.state.add_report(AB, PATH, headings, rows)
        (served,) = await fake_pages(roles.state, 1)

    served_page = parse_page(served.text)
    assert [(c.name, c.heading) for c in served_page.columns or ()] == [
        (c.name, c.heading) for c in page.columns or ()
    ]
    assert (served_page.finished, served_page.token) == (True, None)
    assert structure(served.text) == structure(sample)
    assert cells(served.text) == cells(sample)
    assert len(rows) == 25
    assert rows[0]["Title"].startswith('"- og denne Videnskab')
    assert rows[4]["Source Library Code"] == ""  # <Column4/> in the sample


async def test_the_fake_answers_still_loading_and_not_found_as_the_samples() -> None:
    async with open_roles("memory") as roles:
        roles.state.add_report(AB, PATH, HEADINGS, ROWS, still_loading_polls=1)
        (loading,) = await fake_pages(roles.state, 1)
        app = create_fake_alma_app(roles.state)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL
        ) as http:
            missing = await http.get(
                f"{API}/analytics/reports",
                params={"path": "/test/path"},
                headers={"Authorization": f"apikey {KEYS[AB]}", "Accept": "application/xml"},
            )

    loading_sample = ET.fromstring(reference(LOADING).read_bytes())  # noqa: S314 - our sample
    assert xml_paths(ET.fromstring(loading.content)) == xml_paths(loading_sample)  # noqa: S314
    assert parse_page(loading.text) == parse_page(reference(LOADING).read_text("utf-8"))
    not_found = ET.fromstring(reference(NOT_FOUND).read_bytes())  # noqa: S314 - our sample
    served = ET.fromstring(missing.content)  # noqa: S314 - the fake's answer
    assert xml_paths(served) == xml_paths(not_found)
    texts: Callable[[ET.Element], list[str | None]] = lambda root: [  # noqa: E731
        e.text for e in root.iter() if e.tag.endswith(("errorCode", "errorMessage"))
    ]
    assert texts(served) == texts(not_found)


@pytest.mark.parametrize("form", ["xml", "json"])
async def test_the_real_sample_sequence_reads_through_the_http_adapter(form: str) -> None:
    # The php client's spec: part 1, "still loading", part 2, part 3; Alma's own bytes, as
    # XML or wrapped in JSON's anies.
    answers = [reference(n).read_text("utf-8") for n in (PARTS[0], LOADING, *PARTS[1:])]
    requests: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        document = answers[len(requests) - 1]
        if form == "xml":
            return httpx.Response(200, text=document, headers={"content-type": "application/xml"})
        query_result = document[document.index("<QueryResult>") : document.rindex("</report>")]
        return httpx.Response(200, json={"anies": [ANIES_DECLARATION + query_result]})

    client = AlmaHttpClient(GATEWAY_URL, retry=FAST_RETRY, transport=httpx.MockTransport(answer))
    try:
        reader = HttpAnalyticsReports(client, AB, Secret(KEYS[AB]), poll_interval=0.0)
        rows = [row async for row in reader.report_rows("/shared/xyz", limit=1000)]
    finally:
        await client.aclose()

    _, expected = sample_rows()
    assert rows == expected
    assert [r.url.params.get("path") for r in requests] == ["/shared/xyz", None, None, None]
    assert [r.url.params.get("token") for r in requests] == [None] + [PART1_TOKEN] * 3
    assert all(r.headers["authorization"] == f"apikey {KEYS[AB]}" for r in requests)
