"""The staff status page over ASGI: who gets in (header, cookie, form), CSRF, replay, escaping,
and the page's numbers against the ledger on every ledger backend (issue 7)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from dependency_injector import providers

from adapters.ledger.memory import MemoryLedger
from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from application.ports.ledger import Ledger
from application.scf.staff_status import chart_days, series_of, summarise_webhook
from application.shared.ledger_records import DailyCount, InboxStatus, LedgerEvent, Outcome
from entrypoints.http import create_app
from entrypoints.http.status_page import (
    ASSETS,
    SESSION_COOKIE,
    SESSION_SECONDS,
    StaffSession,
)
from tests.browser.page_text import Element, parse
from tests.browser.status_seed import (
    AB,
    ALMA_MESSAGE,
    CD,
    HOSTILE,
    MEMBERS,
    NOW,
    PATRON_SECRET,
    Seeded,
    expected,
    seed,
)
from tests.integration.http.support import (
    ADMIN_TOKEN,
    SECRETS,
    Service,
    admin,
    example_conf,
    make_container,
    running_service,
)
from tests.integration.ledger.support import FakeClock, database

CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@asynccontextmanager
async def status_service(
    tmp_path: Path, backend: str = "sqlite", *, scheme: str = "http"
) -> AsyncIterator[tuple[Service, FakeClock]]:
    """The service on a ledger backend whose clock (and the page's) is a fake at NOW."""
    clock = FakeClock(NOW)
    async with database(backend, tmp_path) as url:
        container = make_container(
            tmp_path, example_conf(tmp_path), {"ALMABRIDGE_ADMIN_TOKEN": ADMIN_TOKEN}
        )
        ledger: Ledger
        if url is None:
            ledger = MemoryLedger(clock)
        else:
            await upgrade(url)
            ledger = SqlLedger.from_url(url, clock)
        container.clock.override(providers.Object(clock))
        container.ledger.override(providers.Object(ledger))
        app = create_app(container, run_worker=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url=f"{scheme}://bridge.test"
            ) as client:
                yield Service(container, app, client, tmp_path / "conf.json"), clock


async def seeded(service: Service, clock: FakeClock) -> Seeded:
    return await seed(service.ledger, clock)


async def log_in(client: httpx.AsyncClient, token: str = ADMIN_TOKEN) -> httpx.Response:
    return await client.post("/status/login", data={"token": token})


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


# ---- who gets in -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/status"),
        ("GET", "/status/login"),
        ("POST", "/status/login"),
        ("POST", "/status/logout"),
        ("POST", "/status/replay/1"),
    ],
)
async def test_without_a_configured_token_the_page_is_closed_with_403(
    tmp_path: Path, method: str, path: str
) -> None:
    async with running_service(tmp_path, env={}) as service:
        for headers in ({}, admin(), admin("")):
            response = await service.client.request(
                method, path, headers=headers, data={"token": "", "csrf": "x"}
            )
            assert response.status_code == 403
            assert response.headers["content-type"].startswith("text/html")
            assert "ALMABRIDGE_ADMIN_TOKEN" in response.text
            assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_a_visitor_without_the_token_gets_the_login_form_with_401(
    service: Service,
) -> None:
    for headers in ({}, admin("wrong"), {"Cookie": f"{SESSION_COOKIE}=v1.9999999999.forged"}):
        response = await service.client.get("/status", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        page = parse(response.text)
        field = page.find("input", id="token")
        assert field.attrs["type"] == "password"
        assert page.find("label", for_="token").text == "Admin token"
        assert page.find("form").attrs["action"] == "/status/login"
        assert "dead-message" not in response.text


async def test_the_bearer_header_opens_the_page_under_a_strict_policy(service: Service) -> None:
    response = await service.client.get("/status", headers=admin())
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    page = parse(response.text)
    assert page.find("html").attrs["lang"] == "en"
    assert len(page.find_all("h1")) == 1
    assert [h.text for h in page.find_all("h3")] == list(MEMBERS)
    # Signed in by header, there is no cookie session to end.
    assert page.find_all("form", action="/status/logout") == []


async def test_the_login_form_sets_a_signed_cookie_that_is_not_the_token(
    service: Service,
) -> None:
    response = await log_in(service.client)
    assert response.status_code == 303
    assert response.headers["location"] == "/status"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/status", f"Max-Age={SESSION_SECONDS}"):
        assert attribute.lower() in cookie.lower()
    assert "secure" not in cookie.lower()  # plain http: a Secure cookie would never come back
    value = service.client.cookies[SESSION_COOKIE]
    assert ADMIN_TOKEN not in value
    assert all(ADMIN_TOKEN not in header for header in response.headers.values())

    page = await service.client.get("/status")
    assert page.status_code == 200
    assert parse(page.text).find("form", action="/status/logout")


async def test_the_cookie_is_secure_over_https(tmp_path: Path) -> None:
    async with status_service(tmp_path, "memory", scheme="https") as (service, _clock):
        response = await log_in(service.client)
        assert response.status_code == 303
        assert "; secure" in response.headers["set-cookie"].lower()


async def test_a_wrong_token_shows_the_form_again_with_an_error_and_401(service: Service) -> None:
    for token in ("wrong", ADMIN_TOKEN + "x", " ", ""):
        response = await log_in(service.client, token)
        assert response.status_code == 401
        assert "set-cookie" not in response.headers
        page = parse(response.text)
        assert "not the admin token" in page.find(id="login-error").text
        assert page.find("input", id="token").attrs["aria-invalid"] == "true"
    # A body that is not a form is no login either.
    response = await service.client.post("/status/login", json={"token": ADMIN_TOKEN})
    assert response.status_code == 401


async def test_a_session_expires_and_a_new_token_ends_every_session(tmp_path: Path) -> None:
    async with status_service(tmp_path, "memory") as (service, clock):
        await log_in(service.client)
        assert (await service.client.get("/status")).status_code == 200
        clock.current = NOW + timedelta(seconds=SESSION_SECONDS - 1)
        assert (await service.client.get("/status")).status_code == 200
        clock.current = NOW + timedelta(seconds=SESSION_SECONDS)
        assert (await service.client.get("/status")).status_code == 401
    # A cookie signed under another token (the token was changed) is refused.
    other = StaffSession("another-token").new_cookie(NOW)
    mine = StaffSession(ADMIN_TOKEN)
    assert not mine.cookie_valid(other, NOW)
    assert mine.cookie_valid(mine.new_cookie(NOW), NOW)
    for broken in ("", "v1", "v1.x.y", "v2.99999999999.abc", mine.new_cookie(NOW) + "0"):
        assert not mine.cookie_valid(broken, NOW)


async def test_logout_needs_the_csrf_token_and_ends_the_session(service: Service) -> None:
    await log_in(service.client)
    page = await service.client.get("/status")
    assert (await service.client.post("/status/logout")).status_code == 403
    bad = await service.client.post("/status/logout", data={"csrf": "0" * 64})
    assert bad.status_code == 403
    assert (await service.client.get("/status")).status_code == 200  # still signed in

    response = await service.client.post("/status/logout", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 303
    assert response.headers["location"] == "/status/login"
    assert SESSION_COOKIE not in service.client.cookies
    assert (await service.client.get("/status")).status_code == 401


# ---- replay ------------------------------------------------------------------------------------


async def test_replay_without_the_csrf_token_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    async with status_service(tmp_path, "memory") as (service, clock):
        ids = await seeded(service, clock)
        target = ids.dead[0]
        await log_in(service.client)
        page = await service.client.get("/status")
        other_session = StaffSession(ADMIN_TOKEN).csrf_for("v1.1.other")
        for data in ({}, {"csrf": ""}, {"csrf": "f" * 64}, {"csrf": other_session}):
            response = await service.client.post(f"/status/replay/{target}", data=data)
            assert response.status_code == 403, data
            assert "security token" in response.text
        # The header's session has its own token: the cookie session's is not it.
        response = await service.client.post(
            f"/status/replay/{target}",
            data={"csrf": csrf_of(page.text)},
            headers={**admin(), "Cookie": ""},
        )
        assert response.status_code == 403
        unauthenticated = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=service.app), base_url="http://bridge.test"
        )
        async with unauthenticated:
            response = await unauthenticated.post(
                f"/status/replay/{target}", data={"csrf": csrf_of(page.text)}
            )
            assert response.status_code == 401
        async with service.ledger.unit_of_work() as uow:
            message = await uow.inbox.get(target)
        assert message is not None
        assert message.status is InboxStatus.DEAD
        assert await service.ledger.events(action="inbox.replay") == []


async def test_replay_requeues_the_message_and_says_so(tmp_path: Path) -> None:
    async with status_service(tmp_path, "sqlite") as (service, clock):
        ids = await seeded(service, clock)
        target = ids.dead[0]
        await log_in(service.client)
        page = await service.client.get("/status")
        assert parse(page.text).find("tr", data_message=str(target))

        response = await service.client.post(
            f"/status/replay/{target}", data={"csrf": csrf_of(page.text)}
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/status?flash=queued-{target}#dead"
        async with service.ledger.unit_of_work() as uow:
            message = await uow.inbox.get(target)
        assert message is not None
        assert (message.status, message.attempts) == (InboxStatus.PENDING, 0)
        assert message.available_at == NOW
        (event,) = await service.ledger.events(action="inbox.replay")
        assert (event.inbox_id, event.outcome) == (target, Outcome.OK)
        assert "status page" in (event.message or "")

        after = await service.client.get(response.headers["location"])
        flash = parse(after.text).find(id="flash")
        assert flash.attrs["aria-live"] == "polite"
        assert f"Message {target} queued for replay" in flash.text
        assert parse(after.text).find_all("tr", data_message=str(target)) == []

        # Again (now pending: requeued again), a done message, one that does not exist.
        csrf = csrf_of(after.text)
        for message_id, outcome in [
            (ids.done, "refused"),
            (999_999, "missing"),
        ]:
            response = await service.client.post(
                f"/status/replay/{message_id}", data={"csrf": csrf}
            )
            assert response.headers["location"] == f"/status?flash={outcome}-{message_id}#dead"
            shown = await service.client.get(response.headers["location"])
            assert str(message_id) in parse(shown.text).find(id="flash").text
        response = await service.client.post("/status/replay/abc", data={"csrf": csrf})
        assert response.status_code == 404


async def test_the_header_session_can_replay_with_its_own_csrf_token(tmp_path: Path) -> None:
    async with status_service(tmp_path, "memory") as (service, clock):
        ids = await seeded(service, clock)
        page = await service.client.get("/status", headers=admin())
        response = await service.client.post(
            f"/status/replay/{ids.dead[1]}", data={"csrf": csrf_of(page.text)}, headers=admin()
        )
        assert response.status_code == 303
        async with service.ledger.unit_of_work() as uow:
            message = await uow.inbox.get(ids.dead[1])
        assert message is not None
        assert message.status is InboxStatus.PENDING


async def test_an_unknown_flash_is_a_400_and_never_echoed(service: Service) -> None:
    for value in ("queued-", "deleted-1", "queued-1<script>", "queued-1&flash=missing-2"):
        response = await service.client.get("/status", params={"flash": value}, headers=admin())
        assert response.status_code == 400
        assert "<script>" not in response.text


# ---- what the page shows -----------------------------------------------------------------------


async def test_hostile_text_from_the_ledger_is_escaped_and_bodies_are_not_shown(
    tmp_path: Path,
) -> None:
    async with status_service(tmp_path, "memory") as (service, clock):
        await seeded(service, clock)
        response = await service.client.get("/status", headers=admin())
    assert response.status_code == 200
    assert HOSTILE not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert PATRON_SECRET not in response.text  # the dead webhook's body stays in the ledger
    for secret in SECRETS:
        assert secret not in response.text
    page = parse(response.text)
    dead = {
        row.attrs["data-message"]: row.text for row in page.find_all("tr", class_="dead-message")
    }
    assert any("LOAN / LOAN_RETURNED from 01AAA_RS" in text for text in dead.values())
    assert any("JOB_END from 01AAA_CD" in text for text in dead.values())
    # The JSON block for the chart is data, not markup.
    assert page.find("script", id="activity-data").attrs["type"] == "application/json"


@pytest.mark.parametrize(
    "backend",
    ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def test_the_pages_numbers_are_the_ledgers(tmp_path: Path, backend: str) -> None:
    async with status_service(tmp_path, backend) as (service, clock):
        await seeded(service, clock)
        want = await expected(service.ledger)
        response = await service.client.get("/status", headers=admin())
    assert response.status_code == 200
    page = parse(response.text)
    # The seed is rich enough for the comparison to mean something.
    assert want.items_total > 0
    assert want.requests_total > 0
    assert want.dead
    assert any(want.failures.values())
    assert want.waiting[AB]

    section = page.find("section", id="activity")
    assert section.find(data_total="items").text == str(want.items_total)
    assert section.find(data_total="requests").text == str(want.requests_total)
    table = page.find("table", id="activity-table")
    rows = table.find("tbody").find_all("tr")
    assert [row.attrs["data-day"] for row in rows] == list(want.items_per_day)
    assert {row.attrs["data-day"]: int(row.find(data_column="items").text) for row in rows} == (
        want.items_per_day
    )
    assert {
        row.attrs["data-day"]: int(row.find(data_column="requests").text) for row in rows
    } == want.requests_per_day
    assert table.find("tfoot").find(data_column="items").text == str(want.items_total)

    for code in MEMBERS:
        article = page.find("article", data_institution=code)
        assert article.find(data_total="items").text == str(want.items_by_institution[code])
        assert article.find(data_total="requests").text == str(want.requests_by_institution[code])
        assert article.find(data_total="failures").text == str(len(want.failures[code]))
        assert article.find(data_total="waiting").text == str(len(want.waiting[code]))
        failure_rows = article.find_all("tr", class_="failure")
        assert [row.find_all("td")[3].text for row in failure_rows] == [
            event.message for event in want.failures[code]
        ]
        assert [row.find_all("td")[4].text for row in failure_rows] == [
            event.error_code or "" for event in want.failures[code]
        ]
        assert [
            row.find("th").text for row in article.find_all("tr", class_="waiting-request")
        ] == (want.waiting[code])
        _assert_sync_row(article, "items", want.last_items_sync[code])
        _assert_sync_row(article, "requests", want.last_requests_sync[code])
        # rule W6, rule W7: the last 7 days' requests and items by webhook and by file.
        assert arrived(article) == want.arrivals[code]
    assert want.arrivals[AB]["items"] == {"webhook": 3, "file": 5}  # the seed is rich enough
    assert want.arrivals[CD]["requests"] == {"webhook": 1, "file": 2}
    assert page.find("article", data_institution=AB).find("p", class_="arrivals").text == (
        "Last 7 days: requests 1 by webhook, 1 by file; items 3 by webhook, 5 by file."
    )
    block = page.find("script", id="arrivals-data")
    assert block.attrs["type"] == "application/json"
    assert json.loads("".join(block.parts))["institutions"] == want.arrivals
    assert ALMA_MESSAGE in page.find("article", data_institution=AB).text
    dead_rows = page.find_all("tr", class_="dead-message")
    assert [int(row.attrs["data-message"]) for row in dead_rows] == want.dead


def arrived(article: Element) -> dict[str, dict[str, int]]:
    """A member's "Last 7 days: requests N by webhook, N by file; items ..." line, read back."""
    line = article.find("p", class_="arrivals")
    numbers = {
        cell.attrs["data-arrived"]: int(cell.text) for cell in line.find_all(data_arrived=None)
    }
    return {
        family: {path: numbers[f"{family}-{path}"] for path in ("webhook", "file")}
        for family in ("requests", "items")
    }


def _assert_sync_row(article: Element, kind: str, event: LedgerEvent | None) -> None:
    row = article.find("tr", data_sync=kind)
    if event is None:
        assert "No run recorded" in row.text
        return
    assert row.find("time").attrs["datetime"] == event.occurred_at.isoformat()
    assert row.find(class_="outcome").text == event.outcome.value
    files = event.details["files"]
    assert isinstance(files, list)
    assert row.find(data_files=None).text == str(len(files))
    assert [li.text for li in row.find("ul", class_="files").find_all("li")] == files
    counts = event.details["counts"]
    assert isinstance(counts, dict)
    assert {
        li.attrs["data-count"]: int(li.find("strong").text)
        for li in row.find_all("li", data_count=None)
    } == counts


async def test_an_empty_ledger_shows_thirty_zero_days_and_no_runs(service: Service) -> None:
    response = await service.client.get("/status", headers=admin())
    page = parse(response.text)
    rows = page.find("table", id="activity-table").find("tbody").find_all("tr")
    assert len(rows) == 30
    assert {row.find(data_column="items").text for row in rows} == {"0"}
    for code in MEMBERS:
        article = page.find("article", data_institution=code)
        assert "No run recorded" in article.find("tr", data_sync="items").text
        assert "No failures" in article.text
    assert "No dead messages" in page.find("section", id="dead").text


async def test_a_ledger_that_does_not_answer_gives_a_503_page(service: Service) -> None:
    unreachable = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    service.container.ledger.override(SqlLedger.from_url(unreachable, service.container.clock()))
    response = await service.client.get("/status", headers=admin())
    assert response.status_code == 503
    assert "ledger" in parse(response.text).find("h2").text.lower()


# ---- static files ------------------------------------------------------------------------------


async def test_static_files_are_served_from_the_package_with_an_etag(service: Service) -> None:
    response = await service.client.get("/status/static/chart.umd.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == (ASSETS / "static" / "vendor" / "chart.umd.js").read_bytes()
    again = await service.client.get(
        "/status/static/chart.umd.js", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    css = await service.client.get("/status/static/status.css")
    assert css.headers["content-type"].startswith("text/css")
    for name in ("nope.js", "..%2Fstatus_page.py", "vendor%2Fchart.umd.js", "status.html"):
        assert (await service.client.get(f"/status/static/{name}")).status_code == 404


async def test_the_requests_sync_of_ab_is_in_health_too(tmp_path: Path) -> None:
    async with status_service(tmp_path, "memory") as (service, clock):
        await seeded(service, clock)
        want = await expected(service.ledger)
        report = (await service.client.get("/health")).json()
    last = want.last_requests_sync[AB]
    assert last is not None
    by_code = {entry["code"]: entry for entry in report["institutions"]}
    assert by_code[AB]["last_requests_sync"] == last.occurred_at.isoformat()
    assert by_code[CD]["last_requests_sync"] is None


# ---- the use case's small parts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "summary"),
    [
        (b"not json", (None, None, None, False)),
        (b"[1, 2]", (None, None, None, False)),
        (b"{" * 100_000, (None, None, None, False)),
        (b"\xff\xfe", (None, None, None, False)),
        (b"{}", (None, None, None, True)),
        (b'{"action": 7, "event": [], "institution": {"value": null}}', (None, None, None, True)),
        (
            b'{"action": "LOAN", "event": {"value": "LOAN_RETURNED"}, "institution": "X"}',
            ("LOAN", "LOAN_RETURNED", "X", True),
        ),
        (b'{"action": "' + b"A" * 500 + b'"}', ("A" * 64, None, None, True)),
    ],
)
def test_a_dead_webhook_is_summarised_by_three_codes_whatever_its_body(
    body: bytes, summary: tuple[object, ...]
) -> None:
    found = summarise_webhook(body)
    assert (found.action, found.event, found.institution, found.readable) == summary


def test_the_chart_has_thirty_days_ending_today_and_zero_fills() -> None:
    days = chart_days(NOW)
    assert len(days) == 30
    assert days[-1] == NOW.date()
    assert days[0] == (NOW - timedelta(days=29)).date()
    series = series_of(
        days,
        [
            DailyCount(days[3], AB, "item.create", 2),
            DailyCount(days[3], CD, "item.create", 1),
            DailyCount(days[5], AB, "request.forward", 4),
            DailyCount(days[5], AB, "item.update", 9),  # not a mirror
        ],
    )
    assert [d.day for d in series] == list(days)
    assert (series[3].items_mirrored, series[5].requests_forwarded) == (3, 4)
    assert sum(d.items_mirrored for d in series) == 3
    assert sum(d.requests_forwarded for d in series) == 4
