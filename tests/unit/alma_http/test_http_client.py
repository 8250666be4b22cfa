"""The HTTP Alma client against scripted responses: rules A1, A2, A3 and A5."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy, alma_path
from adapters.alma_http.gateway import HttpAlmaGateway
from application.shared.alma import (
    AlmaError,
    AlmaOutcomeUnknown,
    AlmaUnavailable,
    BibNotFound,
    ItemNotFound,
    QuotaExhausted,
)
from application.shared.connections import Secret

KEY = "l8xx-super-secret-key"
FAST = RetryPolicy(
    attempts=4,
    budget_seconds=5,
    wait_initial=0.001,
    wait_max=0.002,
    wait_jitter=0.0,
    rate_limit_pause=0.01,
)


def _gateway(handler: httpx.MockTransport) -> tuple[HttpAlmaGateway, AlmaHttpClient]:
    client = AlmaHttpClient("https://alma.test", retry=FAST, transport=handler)
    return HttpAlmaGateway(client, "01AAA_AB", Secret(KEY)), client


def _reference(shared: Path, name: str) -> bytes:
    return (shared / "alma-api" / name).read_bytes()


async def test_A1_key_travels_in_the_authorization_header_and_never_in_the_url() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"library": []})

    gateway, client = _gateway(httpx.MockTransport(handler))
    await gateway.libraries()
    await client.aclose()
    assert seen[0].headers["Authorization"] == f"apikey {KEY}"
    assert seen[0].headers["Accept"] == "application/json"
    assert KEY not in str(seen[0].url)


async def test_A5_every_path_segment_and_query_value_is_encoded() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    gateway, client = _gateway(httpx.MockTransport(handler))
    await gateway.item_by_barcode("a+b&c#d e")
    await gateway.get_user_request("jane/doe", "1 2")
    await client.aclose()
    assert seen[0].url.params["item_barcode"] == "a+b&c#d e"
    assert b"item_barcode=a%2Bb%26c%23d+e" in seen[0].url.raw_path or (
        b"item_barcode=a%2Bb%26c%23d%20e" in seen[0].url.raw_path
    )
    assert seen[1].url.raw_path == b"/almaws/v1/users/jane%2Fdoe/requests/1%202"
    assert alma_path(["bibs", "99#1"]) == "/almaws/v1/bibs/99%231"


async def test_A2_item_not_found_is_errorcode_401689_with_message_and_tracking_id(
    shared_reference: Path,
) -> None:
    body = _reference(shared_reference, "pulibrary-bibdata__barcode_32101108683143.json")
    transport = httpx.MockTransport(lambda r: httpx.Response(400, content=body))
    gateway, client = _gateway(transport)
    with pytest.raises(ItemNotFound) as caught:
        await gateway.item_by_barcode("32101108683143")
    await client.aclose()
    error = caught.value
    assert error.error_code == "401689"
    assert error.error_message == "No items found for barcode 32101108683143."
    assert error.tracking_id == "E01-0402154647-KYU6N-AWAE1038667562"
    assert error.institution == "01AAA_AB"
    assert "32101108683143" in str(error)


async def test_A2_a_400_with_another_code_is_not_a_not_found(shared_reference: Path) -> None:
    body = _reference(shared_reference, "tulibraries-alma_rb__scan_missing_params.json")
    transport = httpx.MockTransport(lambda r: httpx.Response(400, content=body))
    gateway, client = _gateway(transport)
    with pytest.raises(AlmaError) as caught:
        await gateway.scan_in("1", "2", "3", library="L", circ_desk="")
    await client.aclose()
    assert type(caught.value) is AlmaError
    assert caught.value.error_code == "40166415"


async def test_A2_the_xml_error_envelope_is_read_too() -> None:
    xml = (
        '<web_service_result xmlns="http://com/exlibris/urm/general/xmlbeans">'
        "<errorsExist>true</errorsExist><errorList><error><errorCode>402203</errorCode>"
        "<errorMessage>Input parameters mmsId 1 is not valid.</errorMessage>"
        "<trackingId>E01-X</trackingId></error></errorList></web_service_result>"
    )
    transport = httpx.MockTransport(
        lambda r: httpx.Response(400, content=xml.encode(), headers={"content-type": "text/xml"})
    )
    gateway, client = _gateway(transport)
    with pytest.raises(BibNotFound) as caught:
        await gateway.get_bib("1")
    await client.aclose()
    assert caught.value.tracking_id == "E01-X"


async def test_A3_server_errors_and_dropped_connections_are_retried_until_success() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("connection reset", request=request)
        if calls["n"] == 2:
            return httpx.Response(503, text="Service Unavailable")
        return httpx.Response(200, json={"library": [{"code": "ABRS", "name": "AB"}]})

    gateway, client = _gateway(httpx.MockTransport(handler))
    libraries = await gateway.libraries()
    await client.aclose()
    assert [lib.code for lib in libraries] == ["ABRS"]
    assert calls["n"] == 3
    assert client.retries == 2


async def test_A3_retries_stop_at_the_budget_with_a_typed_transient_error() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(500, text="boom"))
    gateway, client = _gateway(transport)
    with pytest.raises(AlmaUnavailable) as caught:
        await gateway.libraries()
    await client.aclose()
    assert caught.value.http_status == 500
    assert client.retries == FAST.attempts - 1


async def test_A3_per_second_429_pauses_the_institution_and_retries() -> None:
    calls = {"n": 0}
    body = {
        "errorsExist": True,
        "errorList": {
            "error": [
                {
                    "errorCode": "PER_SECOND_THRESHOLD",
                    "errorMessage": "HTTP requests are more than allowed per second",
                    "trackingId": "E01",
                }
            ]
        },
        "result": None,
    }

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] <= 2:
            return httpx.Response(429, json=body)
        return httpx.Response(200, json={"library": []})

    gateway, client = _gateway(httpx.MockTransport(handler))
    await gateway.libraries()
    await client.aclose()
    assert calls["n"] == 3
    assert client.throttle("01AAA_AB").rate_limited_responses == 2


async def test_A3_daily_threshold_is_quota_exhausted_and_not_retried() -> None:
    calls = {"n": 0}
    body = {
        "errorsExist": True,
        "errorList": {
            "error": [
                {
                    "errorCode": "DAILY_THRESHOLD",
                    "errorMessage": "Daily limit reached",
                    "trackingId": "E",
                }
            ]
        },
    }

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(429, json=body)

    gateway, client = _gateway(httpx.MockTransport(handler))
    with pytest.raises(QuotaExhausted):
        await gateway.libraries()
    await client.aclose()
    assert calls["n"] == 1


async def test_A4_x_exl_api_remaining_is_kept_per_institution() -> None:
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, json={}, headers={"X-Exl-Api-Remaining": "49999"})
    )
    gateway, client = _gateway(transport)
    await gateway.libraries()
    await client.aclose()
    assert gateway.api_remaining == 49999


async def test_A1_the_key_never_reaches_error_text_or_reprs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    gateway, client = _gateway(httpx.MockTransport(handler))
    with pytest.raises(AlmaUnavailable) as caught:
        await gateway.item_by_barcode("123")
    await client.aclose()
    everything = " ".join(
        [
            str(caught.value),
            repr(caught.value),
            repr(gateway),
            caplog.text,
            json.dumps({"args": [str(a) for a in caught.value.args]}),
        ]
    )
    assert KEY not in everything


def test_the_http_gateway_and_directory_satisfy_the_ports() -> None:
    from adapters.scf.alma_directory import HttpAlmaDirectory
    from application.ports.alma.gateway import AlmaDirectory, AlmaGateway

    client = AlmaHttpClient("https://alma.test")
    gateway: AlmaGateway = HttpAlmaGateway(client, "01AAA_AB", Secret(KEY))
    directory_type: type[AlmaDirectory] = HttpAlmaDirectory  # checked by mypy
    assert gateway.institution == "01AAA_AB"
    assert directory_type is HttpAlmaDirectory


# ---- writes that are not safe to repeat (I7, I8) ---------------------------------------------

Create = Callable[[HttpAlmaGateway], Awaitable[object]]
UNSAFE_CREATES: dict[str, tuple[Create, str]] = {
    "holding": (
        lambda g: g.create_holding("991", "RS", "rs_shared"),
        "/almaws/v1/bibs/991/holdings",
    ),
    "local bib": (lambda g: g.create_local_bib("<record/>"), "/almaws/v1/bibs"),
    "bib from NZ": (lambda g: g.create_bib_from_nz("9912"), "/almaws/v1/bibs"),
}
CREATED = {"holding_id": "221", "mms_id": "991"}
Fault = type[httpx.TransportError]
SENT_THEN_LOST: list[Fault] = [
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.RemoteProtocolError,
    httpx.WriteError,
    httpx.WriteTimeout,
]
NEVER_SENT: list[Fault] = [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout]


def _after_serving(fault: Fault | int, seen: list[httpx.Request]) -> httpx.MockTransport:
    """Serve every request (the server did the write), but lose the first answer: as a
    transport error of type `fault`, or with that status instead of 200."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) == 1:
            if isinstance(fault, int):
                return httpx.Response(fault, text=f"<html><h1>{fault}</h1></html>")
            raise fault(f"injected {fault.__name__}", request=request)
        return httpx.Response(200, json=CREATED)

    return httpx.MockTransport(handler)


def _name(fault: Fault | int) -> str:
    return str(fault) if isinstance(fault, int) else fault.__name__


@pytest.mark.parametrize("fault", SENT_THEN_LOST, ids=_name)
@pytest.mark.parametrize("create", list(UNSAFE_CREATES), ids=str)
async def test_A3_I8_an_unsafe_create_whose_answer_was_lost_is_not_repeated(
    create: str, fault: Fault
) -> None:
    """Rules I7, I8: Alma may have made the holding or bib; a blind repeat would make another,
    so the adapter sends it once and says the outcome is unknown (A3: one retry layer)."""
    seen: list[httpx.Request] = []
    gateway, client = _gateway(_after_serving(fault, seen))
    call, path = UNSAFE_CREATES[create]
    with pytest.raises(AlmaOutcomeUnknown) as caught:
        await call(gateway)
    await client.aclose()
    assert [r.method for r in seen] == ["POST"]  # the server saw exactly one POST
    assert client.retries == 0
    error = caught.value
    assert (error.institution, error.method, error.path) == ("01AAA_AB", "POST", path)
    assert "Alma may have applied this; look before repeating it" in str(error)
    assert fault.__name__ in str(error)
    assert KEY not in str(error) + repr(error)
    assert "?" not in error.path  # no query values in the error


@pytest.mark.parametrize("status", [502, 504])
@pytest.mark.parametrize("create", list(UNSAFE_CREATES), ids=str)
async def test_A3_I8_a_gateway_502_or_504_on_an_unsafe_create_is_an_unknown_outcome(
    create: str, status: int
) -> None:
    """A proxy lost or gave up on Alma's answer; Alma may still have created the record."""
    seen: list[httpx.Request] = []
    gateway, client = _gateway(_after_serving(status, seen))
    call, _path = UNSAFE_CREATES[create]
    with pytest.raises(AlmaOutcomeUnknown) as caught:
        await call(gateway)
    await client.aclose()
    assert len(seen) == 1
    assert caught.value.http_status == status


@pytest.mark.parametrize("status", [500, 503])
@pytest.mark.parametrize("create", list(UNSAFE_CREATES), ids=str)
async def test_A3_a_500_or_503_on_an_unsafe_create_is_retried_as_not_applied(
    create: str, status: int
) -> None:
    """Alma's own 500 (its envelope: the create failed) and a 503 (refused before Alma took it
    on) mean nothing was made: retried as any call."""
    seen: list[httpx.Request] = []
    gateway, client = _gateway(_after_serving(status, seen))
    call, _path = UNSAFE_CREATES[create]
    await call(gateway)
    await client.aclose()
    assert [r.method for r in seen] == ["POST", "POST"]
    assert client.retries == 1


@pytest.mark.parametrize("fault", NEVER_SENT, ids=_name)
@pytest.mark.parametrize("create", list(UNSAFE_CREATES), ids=str)
async def test_A3_an_unsafe_create_that_never_left_is_retried(create: str, fault: Fault) -> None:
    """No connection, nothing sent: Alma cannot have applied it, so the adapter retries."""
    sent: list[httpx.Request] = []
    attempts = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise fault("injected", request=request)  # before the server ever saw it
        sent.append(request)
        return httpx.Response(200, json=CREATED)

    gateway, client = _gateway(httpx.MockTransport(handler))
    call, _path = UNSAFE_CREATES[create]
    await call(gateway)
    await client.aclose()
    assert attempts["n"] == 2
    assert [r.method for r in sent] == ["POST"]
    assert client.retries == 1


async def test_A3_an_unsafe_create_that_never_connects_gives_up_as_unavailable() -> None:
    """Out of attempts without ever sending: Alma has nothing, so not an unknown outcome."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    gateway, client = _gateway(httpx.MockTransport(handler))
    with pytest.raises(AlmaUnavailable) as caught:
        await gateway.create_holding("991", "RS", "rs_shared")
    await client.aclose()
    assert not isinstance(caught.value, AlmaOutcomeUnknown)
    assert client.retries == FAST.attempts - 1


@pytest.mark.parametrize("fault", [*SENT_THEN_LOST, 502, 504], ids=_name)
async def test_A3_safe_writes_and_reads_are_retried_as_before(fault: Fault | int) -> None:
    """Everything not flagged unsafe keeps rule A3: an item creation (Alma refuses a second
    barcode, 401873), a loan ("already loaned") and reads are retried after a lost answer."""
    calls: list[Callable[[HttpAlmaGateway], Awaitable[object]]] = [
        lambda g: g.create_item("991", "221", {"item_data": {"barcode": "B1X"}}),
        lambda g: g.create_loan("U1", "231", circ_desk="DESK", library="RS"),
        lambda g: g.list_holdings("991"),
    ]
    for call in calls:
        seen: list[httpx.Request] = []
        gateway, client = _gateway(_after_serving(fault, seen))
        await call(gateway)
        await client.aclose()
        assert len(seen) == 2
        assert client.retries == 1
