"""The gateway: keys, thresholds, X-Exl-Api-Remaining, injected faults and the call log.

Time is a manual clock: the tests move it instead of sleeping.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette

from adapters.fake_alma import FakeAlmaState, FaultConfig, FaultInjector, ManualClock
from adapters.fake_alma.gateway import ConnectionDropped
from tests.integration.fake_alma.conftest import AB, API, CD, KEYS, SCF, error_code, headers

CONF = f"{API}/conf/libraries"


async def test_unknown_key_is_alma_unauthorized_without_echoing_the_key(
    raw_client: httpx.AsyncClient, state: FakeAlmaState, faults: FaultInjector
) -> None:
    response = await raw_client.get(CONF, headers={"Authorization": "apikey secret-guess-123"})
    assert response.status_code == 400
    assert error_code(response) == "UNAUTHORIZED"
    assert response.json()["errorList"]["error"][0]["errorMessage"] == (
        "API-key not defined or not configured to allow this API."
    )
    assert "secret-guess-123" not in response.text
    missing = await raw_client.get(CONF)
    assert error_code(missing) == "UNAUTHORIZED"
    faults.configure(gateway_errors_as_xml=True)
    as_xml = await raw_client.get(
        CONF, params={"apikey": "secret-guess-123"}, headers={"Accept": "application/json"}
    )
    assert as_xml.headers["content-type"].startswith("application/xml")
    assert ET.fromstring(as_xml.content).tag.endswith("web_service_result")  # noqa: S314 - trusted: a repo sample or the fake's own output
    assert [r.institution for r in state.call_log] == [None, None, None]
    assert all("secret-guess-123" not in r.query for r in state.call_log)


async def test_query_apikey_works_and_is_masked_in_the_log(
    raw_client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    response = await raw_client.get(CONF, params={"apikey": KEYS[SCF], "format": "json"})
    assert response.status_code == 200
    (record,) = state.call_log
    assert record.institution == SCF
    assert KEYS[SCF] not in record.query
    assert record.param("apikey") == "***"
    assert record.param("format") == "json"


async def test_every_answer_carries_the_remaining_daily_budget(
    raw_client: httpx.AsyncClient, state: FakeAlmaState
) -> None:
    state.institution(AB).daily_quota = 1000
    first = await raw_client.get(CONF, headers=headers(AB))
    second = await raw_client.get(
        f"{API}/items", params={"item_barcode": "nope"}, headers=headers(AB)
    )
    assert first.headers["X-Exl-Api-Remaining"] == "999"
    assert second.headers["X-Exl-Api-Remaining"] == "998"
    other = await raw_client.get(CONF, headers=headers(CD))
    assert other.headers["X-Exl-Api-Remaining"] == "99999"


async def test_A4_per_second_threshold_counts_every_call_in_a_sliding_window_per_institution(
    raw_client: httpx.AsyncClient, clock: ManualClock, state: FakeAlmaState
) -> None:
    state.institution(AB).per_second_threshold = 5
    statuses = []
    for _ in range(6):
        statuses.append((await raw_client.get(CONF, headers=headers(AB))).status_code)
        clock.advance(0.1)
    assert statuses == [200] * 5 + [429]
    refused = state.call_log.records(status=429)[0]
    assert refused.fault == "per_second"
    # Another institution has its own window.
    assert (await raw_client.get(CONF, headers=headers(CD))).status_code == 200
    # At t=0.9 the call made at t=0.0 is still inside the last second.
    clock.advance(0.3)
    assert (await raw_client.get(CONF, headers=headers(AB))).status_code == 429
    # At t=1.01 it has left, but the refused calls of t=0.5 and t=0.9 count too (A4): Alma
    # counts every call that arrives, so knocking again keeps the window full.
    clock.advance(0.11)
    assert (await raw_client.get(CONF, headers=headers(AB))).status_code == 429
    # Once a whole second passed without a call, the window is empty again.
    clock.advance(1.01)
    assert (await raw_client.get(CONF, headers=headers(AB))).status_code == 200


async def test_per_second_refusal_has_alma_s_exact_body(
    raw_client: httpx.AsyncClient, faults: FaultInjector
) -> None:
    faults.configure(per_second_threshold=1)
    await raw_client.get(CONF, headers=headers(SCF))
    response = await raw_client.get(CONF, headers=headers(SCF))
    assert response.status_code == 429
    body = response.json()
    assert body["errorsExist"] is True
    assert body["result"] is None
    (error,) = body["errorList"]["error"]
    assert error["errorCode"] == "PER_SECOND_THRESHOLD"
    assert error["errorMessage"] == "HTTP requests are more than allowed per second"
    assert "X-Exl-Api-Remaining" in response.headers


async def test_daily_quota_refuses_until_midnight(
    client: httpx.AsyncClient, clock: ManualClock, faults: FaultInjector
) -> None:
    faults.configure(daily_quota=3)
    statuses = [(await client.get(CONF, headers=headers(CD))).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = await client.get(CONF, headers=headers(CD))
    assert error_code(refused) == "DAILY_THRESHOLD"
    assert refused.headers["X-Exl-Api-Remaining"] == "0"
    clock.advance(24 * 3600)
    assert (await client.get(CONF, headers=headers(CD))).status_code == 200


async def test_thresholds_can_be_switched_off(
    raw_client: httpx.AsyncClient, faults: FaultInjector
) -> None:
    faults.configure(enforce_thresholds=False, per_second_threshold=1)
    statuses = {(await raw_client.get(CONF, headers=headers(AB))).status_code for _ in range(5)}
    assert statuses == {200}


async def test_5xx_rate_is_roughly_as_configured_and_replays_by_seed(
    state: FakeAlmaState, clock: ManualClock
) -> None:
    from adapters.fake_alma import create_fake_alma_app

    async def run(seed: int) -> list[int]:
        faults = FaultInjector(
            FaultConfig(error_rate=0.2, enforce_thresholds=False), clock=clock, seed=seed
        )
        app = create_fake_alma_app(state, faults)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://fake-alma") as http:
            return [(await http.get(CONF, headers=headers(AB))).status_code for _ in range(500)]

    first = await run(11)
    errors = [s for s in first if s >= 500]
    assert 70 <= len(errors) <= 130  # 100 expected; ±3σ ≈ ±27
    assert set(errors) <= {500, 502, 503, 504}
    assert len(set(errors)) > 1
    assert await run(11) == first
    assert await run(12) != first


async def test_injected_500_is_alma_s_envelope_and_502_is_html(
    raw_client: httpx.AsyncClient, faults: FaultInjector, state: FakeAlmaState
) -> None:
    faults.fail_next(kind="error", status=500)
    faults.fail_next(kind="error", status=503, path_contains="/conf/")
    first = await raw_client.get(CONF, headers=headers(AB))
    assert first.status_code == 500
    assert error_code(first) == "401652"
    second = await raw_client.get(CONF, headers=headers(AB))
    assert second.status_code == 503
    assert second.headers["content-type"].startswith("text/html")
    assert (await raw_client.get(CONF, headers=headers(AB))).status_code == 200
    assert [r.fault for r in state.call_log] == ["error", "error", None]


async def test_scripted_faults_target_an_institution_and_a_path(
    raw_client: httpx.AsyncClient, faults: FaultInjector
) -> None:
    faults.fail_next(2, kind="per_second", institution=CD, path_contains="/items")
    assert (
        await raw_client.get(f"{API}/items", params={"item_barcode": "AB0001"}, headers=headers(AB))
    ).status_code == 302
    assert (await raw_client.get(CONF, headers=headers(CD))).status_code == 200
    cd = [
        await raw_client.get(f"{API}/items", params={"item_barcode": "CD0001"}, headers=headers(CD))
        for _ in range(3)
    ]
    assert [r.status_code for r in cd] == [429, 429, 302]
    assert error_code(cd[0]) == "PER_SECOND_THRESHOLD"
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.fail_next(kind="explode")  # type: ignore[arg-type]


async def test_latency_and_stalls_wait_on_the_injected_sleeper(
    raw_client: httpx.AsyncClient, faults: FaultInjector, clock: ManualClock
) -> None:
    faults.configure(latency=0.25)
    start = clock.now()
    await raw_client.get(CONF, headers=headers(AB))
    assert (clock.now() - start).total_seconds() == pytest.approx(0.25)
    faults.fail_next(kind="stall")
    faults.configure(stall_seconds=30.0)
    start = clock.now()
    stalled = await raw_client.get(CONF, headers=headers(AB))
    assert stalled.status_code == 200
    assert (clock.now() - start).total_seconds() == pytest.approx(30.25)


async def test_stall_trips_a_client_timeout_with_a_real_sleeper(state: FakeAlmaState) -> None:
    from adapters.fake_alma import create_fake_alma_app

    faults = FaultInjector(FaultConfig(stall_rate=1.0, stall_seconds=30.0), clock=state.clock)
    app = create_fake_alma_app(state, faults)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://fake-alma"
    ) as http:
        import asyncio

        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await http.get(CONF, headers=headers(AB))


async def test_dropped_connection_breaks_the_response(
    app: Starlette, faults: FaultInjector, state: FakeAlmaState
) -> None:
    faults.fail_next(kind="drop")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fake-alma") as http:
        with pytest.raises(ConnectionDropped):
            await http.get(CONF, headers=headers(AB))
        assert (await http.get(CONF, headers=headers(AB))).status_code == 200
    assert [r.fault for r in state.call_log] == ["drop", None]


async def test_call_log_records_time_institution_method_path_query_status(
    client: httpx.AsyncClient,
    state: FakeAlmaState,
    clock: ManualClock,
    item_url: Callable[[str, str], str],
) -> None:
    await client.get(f"{API}/items", params={"item_barcode": "AB 0003+4&5#6"}, headers=headers(AB))
    await client.post(
        item_url(CD, "CD0003"),
        params={"op": "scan", "library": "CDRS", "circ_desk": "DEFAULT_CIRC_DESK", "done": "true"},
        headers=headers(CD),
    )
    first, second = state.call_log
    assert (first.institution, first.method, first.path, first.status) == (
        AB,
        "GET",
        f"{API}/items",
        302,
    )
    assert first.param("item_barcode") == "AB 0003+4&5#6"
    assert (second.institution, second.method, second.status) == (CD, "POST", 200)
    assert second.param("op") == "scan"
    assert second.time > first.time
    assert state.call_log.records(institution=CD, method="post") == [second]
    assert state.call_log.records(path_prefix=f"{API}/items") == [first]
    state.call_log.clear()
    assert len(state.call_log) == 0


async def test_control_api_reads_calls_and_changes_faults(
    raw_client: httpx.AsyncClient, faults: FaultInjector
) -> None:
    await raw_client.get(CONF, params={"apikey": KEYS[AB]})
    calls = (await raw_client.get("/_fake_alma/calls")).json()
    assert calls["total"] == 1
    assert calls["calls"][0]["query"] == "apikey=%2A%2A%2A"
    changed = await raw_client.put(
        "/_fake_alma/faults", json={"error_rate": 0.5, "error_statuses": [503]}
    )
    assert changed.json()["error_rate"] == 0.5
    assert faults.config.error_statuses == (503,)
    bad = await raw_client.put("/_fake_alma/faults", json={"error_rate": 2})
    assert bad.status_code == 400
    scripted = await raw_client.post(
        "/_fake_alma/faults", json={"count": 1, "kind": "error", "status": 502}
    )
    assert scripted.status_code == 200
    assert (await raw_client.get(CONF, headers=headers(AB))).status_code == 502


async def test_unknown_api_path_is_an_alma_error(raw_client: httpx.AsyncClient) -> None:
    response = await raw_client.get(f"{API}/nothing/here", headers=headers(AB))
    assert response.status_code == 404
    assert response.json()["errorsExist"] is True
