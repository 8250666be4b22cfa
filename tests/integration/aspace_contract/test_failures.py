"""Contract, how calls fail and how many are in flight (rule AS2): a 5xx or a reset is
`ArchivesSpaceUnavailable` (worth retrying the resource), a 404 is `ArchivesSpaceError`, a wrong
password `ArchivesSpaceLoginFailed`; sessions are renewed once; never more than the limit in
flight; no message carries the password or a session token."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import httpx
import pytest

from adapters.aspace.http_client import HttpArchivesSpace
from application.aspace.ports import (
    ArchivesSpaceError,
    ArchivesSpaceLoginFailed,
    ArchivesSpaceUnavailable,
)
from application.shared.connections import Secret
from tests.integration.aspace_contract.support import (
    BASE_URL,
    LIMIT,
    PASSWORD,
    REFERENCE,
    USER,
    Backend,
)

MARC_1511 = "/repositories/3/resources/marc21/1511.xml"


def _no_secret_in(backend: Backend, *messages: str) -> None:
    for message in messages:
        assert PASSWORD not in message
        for token in backend.state.issued_tokens:
            assert token not in message


async def test_a_500_is_unavailable_and_the_next_call_succeeds(backend: Backend) -> None:
    backend.faults.fail(3, 1511, status=500)
    with pytest.raises(ArchivesSpaceUnavailable) as raised:
        await backend.aspace.resource_marcxml(3, 1511)
    assert str(raised.value).startswith(f"GET {MARC_1511}: HTTP 500")
    assert (
        await backend.aspace.resource_marcxml(3, 1511) == (REFERENCE / "marc_1511.xml").read_bytes()
    )
    assert backend.state.call_log.count((3, 1511)) == 2  # no retry inside the adapter


async def test_a_reset_connection_is_unavailable(backend: Backend) -> None:
    backend.faults.reset(3, 1511, count=3)
    for _ in range(3):
        with pytest.raises(ArchivesSpaceUnavailable) as raised:
            await backend.aspace.resource_marcxml(3, 1511)
        assert str(raised.value).startswith(f"GET {MARC_1511}: no answer")
    assert await backend.aspace.resource_marcxml(3, 1512)
    assert await backend.aspace.resource_marcxml(3, 1511)
    # Upstream's spec: three resets on 1511 mean 4 requests for 1511 and 1 for 1512.
    assert backend.state.call_log.count((3, 1511)) == 4
    assert backend.state.call_log.count((3, 1512)) == 1
    assert len(backend.state.call_log.records(fault="reset")) == 3


async def test_a_reset_container_search_is_unavailable_too(backend: Backend) -> None:
    backend.faults.reset(3, 1511, endpoint="top_containers")
    assert await backend.aspace.resource_marcxml(3, 1511)
    with pytest.raises(ArchivesSpaceUnavailable, match="top_containers/search: no answer"):
        await backend.aspace.top_containers(3, 1511)


async def test_a_missing_resource_is_an_error_not_worth_retrying(backend: Backend) -> None:
    with pytest.raises(ArchivesSpaceError) as raised:
        await backend.aspace.resource_marcxml(3, 9999)
    assert not isinstance(raised.value, ArchivesSpaceUnavailable)
    assert str(raised.value) == (
        "GET /repositories/3/resources/marc21/9999.xml: HTTP 404 (Resource not found)"
    )
    with pytest.raises(ArchivesSpaceError, match="HTTP 404"):
        await backend.aspace.resource_ids(42)


async def test_broken_marcxml_comes_back_as_sent(backend: Backend) -> None:
    backend.faults.corrupt_marcxml(3, 1512)
    data = await backend.aspace.resource_marcxml(3, 1512)
    assert data != (REFERENCE / "marc_1512.xml").read_bytes()
    assert data.endswith(b"<datafield tag=")  # the workflow's parser records it failed (AS5)


async def test_a_container_doc_whose_json_is_not_json_is_an_error(backend: Backend) -> None:
    uri = "/repositories/3/resources/1512"
    backend.state.add_container_doc(3, {"collection_uri_u_sstr": [uri], "json": "{not json"})
    with pytest.raises(ArchivesSpaceError, match="is not JSON") as raised:
        await backend.aspace.top_containers(3, 1512)
    assert not isinstance(raised.value, ArchivesSpaceUnavailable)


async def test_a_wrong_password_fails_the_login_once_for_all(backend: Backend) -> None:
    wrong = "Wrong-Pass-0815"
    aspace = backend.client(wrong)
    try:
        with pytest.raises(ArchivesSpaceLoginFailed) as first:
            await aspace.repositories()
        with pytest.raises(ArchivesSpaceLoginFailed) as second:
            await aspace.resource_marcxml(3, 1511)
    finally:
        await aspace.aclose()
    assert str(first.value) == (
        f"POST /users/{USER}/login: ArchivesSpace refused the login (HTTP 403: Login failed)"
    )
    assert str(second.value) == str(first.value)
    assert backend.state.call_log.logins() == 1  # not sent again: accounts may lock
    assert wrong not in str(first.value)


async def test_a_lost_session_is_renewed_once_and_the_call_goes_through(
    backend: Backend,
) -> None:
    await backend.aspace.repositories()
    backend.state.expire_sessions()  # a backend restart
    assert await backend.aspace.resource_ids(3) == [1511, 1512]
    assert backend.state.call_log.logins() == 2
    statuses = [r.status for r in backend.state.call_log.records(path_prefix="/repositories/3")]
    assert statuses == [412, 200]


async def test_a_session_lost_twice_in_one_call_is_an_error_without_the_token(
    backend: Backend,
) -> None:
    await backend.aspace.repositories()
    backend.faults.lose_sessions(2)
    with pytest.raises(ArchivesSpaceError) as raised:
        await backend.aspace.resource_ids(3)
    message = str(raised.value)
    assert message.startswith("GET /repositories/3/resources: HTTP 412 (No session found for ***")
    assert backend.state.call_log.logins() == 2
    _no_secret_in(backend, message)


async def test_many_first_calls_at_once_share_one_login(backend: Backend) -> None:
    calls: list[Awaitable[object]] = [backend.aspace.resource_marcxml(3, 1511) for _ in range(10)]
    calls += [backend.aspace.top_containers(3, 1512) for _ in range(10)]
    await asyncio.gather(*calls)
    assert backend.state.call_log.logins() == 1
    assert backend.aspace.logins == 1


async def test_never_more_calls_in_flight_than_the_limit(backend: Backend) -> None:
    await backend.aspace.repositories()  # logged in: only the calls below are held
    gate = asyncio.Event()
    all_in = asyncio.Event()
    arrived = 0

    async def held(_seconds: float) -> None:
        nonlocal arrived
        arrived += 1
        if arrived >= LIMIT:
            all_in.set()
        await gate.wait()

    backend.faults.use_sleeper(held)
    backend.faults.configure(latency=1.0)  # goes through the gate: no real waiting
    tasks = [asyncio.create_task(backend.aspace.resource_marcxml(3, 1511)) for _ in range(12)]
    async with asyncio.timeout(5):
        await all_in.wait()
    for _ in range(50):  # every other task gets its turn; none may get past the limit
        await asyncio.sleep(0)
    assert arrived == LIMIT
    assert backend.state.in_flight == LIMIT
    gate.set()
    await asyncio.gather(*tasks)
    assert backend.state.max_in_flight == LIMIT
    assert backend.state.call_log.count((3, 1511)) == 12


async def test_no_error_message_carries_the_password_or_a_token(backend: Backend) -> None:
    messages: list[str] = []
    await backend.aspace.repositories()
    backend.faults.fail(3, 1511, status=503)
    backend.faults.reset(3, 1512)
    backend.faults.lose_sessions(2)
    for call in (
        backend.aspace.resource_ids(3),
        backend.aspace.resource_marcxml(3, 1511),
        backend.aspace.resource_marcxml(3, 1512),
        backend.aspace.resource_marcxml(3, 9999),
    ):
        with pytest.raises(ArchivesSpaceError) as raised:
            await call
        messages.append(str(raised.value))
    wrong = backend.client("Not-The-Password-1")
    try:
        with pytest.raises(ArchivesSpaceLoginFailed) as refused:
            await wrong.repositories()
    finally:
        await wrong.aclose()
    messages.append(str(refused.value))
    assert len(backend.state.issued_tokens) >= 2
    _no_secret_in(backend, *messages)
    assert all("Not-The-Password-1" not in m for m in messages)


async def test_http_an_answer_that_is_not_json_is_an_error() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/login"):
            assert b"password=" in request.content  # in the form body, never the URL
            assert "password" not in str(request.url)
            return httpx.Response(200, json={"session": "tok-0123456789"})
        assert request.headers["X-ArchivesSpace-Session"] == "tok-0123456789"
        return httpx.Response(200, text="<html>proxy login page</html>")

    aspace = HttpArchivesSpace(
        BASE_URL, USER, Secret(PASSWORD), transport=httpx.MockTransport(answer)
    )
    try:
        with pytest.raises(ArchivesSpaceError, match=r"^GET /repositories: the answer is not JSON"):
            await aspace.repositories()
    finally:
        await aspace.aclose()


async def test_http_a_refused_connection_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    aspace = HttpArchivesSpace(
        BASE_URL, USER, Secret(PASSWORD), transport=httpx.MockTransport(refuse)
    )
    try:
        with pytest.raises(ArchivesSpaceUnavailable) as raised:
            await aspace.repositories()
    finally:
        await aspace.aclose()
    assert str(raised.value) == (
        f"POST /users/{USER}/login: no answer (ConnectError: [Errno 111] Connection refused)"
    )
