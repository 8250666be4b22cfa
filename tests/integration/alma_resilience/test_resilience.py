"""The HTTP Alma adapter under faults from the fake Alma: rules A1, A3 and A4 end to end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import httpx
import pytest
from starlette.types import ASGIApp

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.alma_http.gateway import HttpAlmaGateway
from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from application.shared.alma import AlmaError, AlmaOutcomeUnknown, RateLimited
from application.shared.connections import Secret
from entrypoints.demo.servers import http_server
from tests.reliability.support import LateResets

AB_KEY = "ab-example-key"
PATIENT = RetryPolicy(
    attempts=12,
    budget_seconds=30,
    wait_initial=0.001,
    wait_max=0.01,
    wait_jitter=0.001,
    rate_limit_pause=0.05,
)
# Tests of retries, not of the threshold: the fake's own 25/s would only slow them down.
NO_THRESHOLD = 100_000


def _gateway(
    state: FakeAlmaState, faults: FaultInjector, *, rate: int = 25
) -> tuple[HttpAlmaGateway, AlmaHttpClient]:
    app = create_fake_alma_app(state, faults)
    client = AlmaHttpClient(
        "http://fake-alma",
        rate_per_second=rate,
        retry=PATIENT,
        transport=httpx.ASGITransport(app=app),
    )
    return HttpAlmaGateway(client, "01AAA_AB", Secret(AB_KEY)), client


async def test_A3_with_30_percent_server_errors_every_call_still_succeeds() -> None:
    state = state_from_file()
    faults = FaultInjector(FaultConfig(error_rate=0.3, per_second_threshold=NO_THRESHOLD), seed=7)
    gateway, client = _gateway(state, faults, rate=1000)
    results = [await gateway.item_by_barcode("AB0001") for _ in range(40)]
    await client.aclose()
    assert all(item.barcode == "AB0001" for item in results)
    faulted = [c for c in state.call_log.records() if c.status >= 500]
    assert len(faulted) >= 5  # the storm really happened
    assert client.retries >= len(faulted)


async def test_A3_a_burst_of_per_second_429s_is_waited_out_and_retried() -> None:
    state = state_from_file()
    faults = FaultInjector(FaultConfig(), seed=1)
    faults.fail_next(3, kind="per_second", institution="01AAA_AB")
    gateway, client = _gateway(state, faults, rate=1000)
    libraries = await gateway.libraries()
    await client.aclose()
    assert libraries
    assert client.throttle("01AAA_AB").rate_limited_responses == 3
    assert [c.status for c in state.call_log.records()] == [429, 429, 429, 200]


async def test_A3_per_second_429s_do_not_spend_the_attempts_kept_for_failures() -> None:
    """A storm's 429 burst filled a call's attempts before its 502s ended it (CI, 2026-12-06):
    a 429 is Alma's window being full, so only the budget bounds it; 3 attempts still allow
    2 failures after 6 refusals."""
    state = state_from_file()
    faults = FaultInjector(FaultConfig(), seed=1)
    faults.fail_next(3, kind="per_second", institution="01AAA_AB")
    faults.fail_next(1, kind="error", status=502, institution="01AAA_AB")
    faults.fail_next(3, kind="per_second", institution="01AAA_AB")
    faults.fail_next(1, kind="error", status=503, institution="01AAA_AB")
    app = create_fake_alma_app(state, faults)
    client = AlmaHttpClient(
        "http://fake-alma",
        rate_per_second=1000,
        retry=replace(PATIENT, attempts=3),
        transport=httpx.ASGITransport(app=app),
    )
    gateway = HttpAlmaGateway(client, "01AAA_AB", Secret(AB_KEY))
    libraries = await gateway.libraries()
    await client.aclose()
    assert libraries
    statuses = [c.status for c in state.call_log.records()]
    assert statuses == [429, 429, 429, 502, 429, 429, 429, 503, 200]


async def test_A3_per_second_429s_end_when_the_budget_is_spent() -> None:
    state = state_from_file()
    faults = FaultInjector(FaultConfig(), seed=1)
    faults.fail_next(1000, kind="per_second", institution="01AAA_AB")
    app = create_fake_alma_app(state, faults)
    client = AlmaHttpClient(
        "http://fake-alma",
        rate_per_second=1000,
        retry=replace(PATIENT, attempts=2, budget_seconds=0.3, rate_limit_pause=0.01),
        transport=httpx.ASGITransport(app=app),
    )
    gateway = HttpAlmaGateway(client, "01AAA_AB", Secret(AB_KEY))
    with pytest.raises(RateLimited):
        await gateway.libraries()
    await client.aclose()
    assert 2 < len(state.call_log.records()) < 1000


def _most_starts_in_any_second(times: list[float]) -> int:
    window: deque[float] = deque()
    most = 0
    for started in sorted(times):
        window.append(started)
        while started - window[0] >= 1.0:
            window.popleft()
        most = max(most, len(window))
    return most


class _StartStamps(httpx.AsyncBaseTransport):
    """Stamps each request as the bridge sends it: in one process the fake's own stamps are
    taken after the event loop gets round to its handler, which a busy machine bunches."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.starts: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.starts.append(time.monotonic())
        return await self.inner.handle_async_request(request)


async def test_A4_200_concurrent_callers_never_start_more_than_25_calls_in_any_second() -> None:
    state = state_from_file()
    faults = FaultInjector(FaultConfig(per_second_threshold=NO_THRESHOLD), seed=3)
    stamps = _StartStamps(httpx.ASGITransport(app=create_fake_alma_app(state, faults)))
    client = AlmaHttpClient("http://fake-alma", rate_per_second=25, retry=PATIENT, transport=stamps)
    gateway = HttpAlmaGateway(client, "01AAA_AB", Secret(AB_KEY))
    callers = [gateway.item_by_barcode("AB0001") for _ in range(50)]
    callers += [gateway.libraries() for _ in range(150)]
    results = await asyncio.gather(*callers)
    await client.aclose()
    assert len(results) == 200
    # Each item-by-barcode is two calls (the 302 and the item); the limiter counts both.
    assert len(stamps.starts) == 2 * 50 + 150
    assert _most_starts_in_any_second(stamps.starts) <= 25
    # The bound is met with little to spare: 250 calls take about ten seconds.
    assert stamps.starts[-1] - stamps.starts[0] < 250 / 25 + 1.5


async def test_A1_keys_never_reach_logs_or_error_texts(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    state = state_from_file()
    faults = FaultInjector(FaultConfig(error_rate=0.5, per_second_threshold=NO_THRESHOLD), seed=11)
    gateway, client = _gateway(state, faults, rate=1000)
    texts: list[str] = []
    for barcode in ("AB0001", "missing-barcode", "AB0002"):
        try:
            await gateway.item_by_barcode(barcode)
        except AlmaError as error:
            texts += [str(error), repr(error)]
    await client.aclose()
    faults.configure(error_rate=1.0)
    broken, broken_client = _gateway(state, faults, rate=1000)
    with pytest.raises(AlmaError) as caught:
        await broken.libraries()
    await broken_client.aclose()
    texts += [str(caught.value), repr(caught.value), caplog.text]
    assert texts
    for text in texts:
        assert AB_KEY not in text


# ---- creations whose answer is lost, over a real HTTP port (I7, I8) --------------------------

SCF_KEY = "scf-example-key"
SCF = "01AAA_RS"


@contextlib.asynccontextmanager
async def _over_http(
    state: FakeAlmaState, faults: FaultInjector, wrap: Callable[[ASGIApp], ASGIApp]
) -> AsyncIterator[tuple[HttpAlmaGateway, AlmaHttpClient]]:
    """The fake under uvicorn: a reset there is a real one, as httpx meets it in production."""
    async with http_server(wrap(create_fake_alma_app(state, faults))) as url:
        client = AlmaHttpClient(url, rate_per_second=1000, retry=PATIENT)
        try:
            yield HttpAlmaGateway(client, SCF, Secret(SCF_KEY)), client
        finally:
            await client.aclose()


def _holding_posts(state: FakeAlmaState, mms_id: str) -> list[int]:
    path = f"/almaws/v1/bibs/{mms_id}/holdings"
    return [c.status for c in state.call_log.records() if (c.method, c.path) == ("POST", path)]


async def test_I8_a_holding_created_but_its_answer_reset_is_sent_once_and_unknown() -> None:
    """Rule I8: the fake Alma creates the holding, the connection resets before the answer
    arrives; the adapter does not send the POST again (Alma would make a second holding)."""
    state = state_from_file()
    bib = state.create_bib(SCF, title="Lost answers")
    faults = FaultInjector(FaultConfig(enforce_thresholds=False), seed=1)
    late: list[LateResets] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        late.append(LateResets(app, rate=1.0, seed=1, paths=[("POST", r"/holdings$")], limit=1))
        return late[0]

    async with _over_http(state, faults, wrap) as (gateway, client):
        with pytest.raises(AlmaOutcomeUnknown) as caught:
            await gateway.create_holding(bib.mms_id, "RS", "rs_shared")
        assert client.retries == 0
        # Looking is safe: the one holding the POST made is there.
        (holding,) = await gateway.list_holdings(bib.mms_id)
    assert len(late[0].resets) == 1
    assert _holding_posts(state, bib.mms_id) == [200]
    assert [(h.library, h.location) for h in state.holdings_of(SCF, bib.mms_id)] == [
        ("RS", "rs_shared")
    ]
    assert holding.holding_id == state.holdings_of(SCF, bib.mms_id)[0].holding_id
    assert caught.value.path == f"/almaws/v1/bibs/{bib.mms_id}/holdings"
    assert SCF_KEY not in str(caught.value)


async def test_A3_a_reset_before_serving_an_unsafe_create_is_unknown_too_and_made_nothing() -> None:
    """The fake's `drop` cuts the answer before serving: the client cannot tell it from a late
    reset, so the outcome is unknown as well; Alma holds nothing, which a look would show."""
    state = state_from_file()
    bib = state.create_bib(SCF, title="Dropped")
    faults = FaultInjector(FaultConfig(enforce_thresholds=False), seed=1)
    faults.fail_next(1, kind="drop", institution=SCF, path_contains="/holdings")
    async with _over_http(state, faults, lambda app: app) as (gateway, _client):
        with pytest.raises(AlmaOutcomeUnknown):
            await gateway.create_holding(bib.mms_id, "RS", "rs_shared")
    assert _holding_posts(state, bib.mms_id) == [0]
    assert state.holdings_of(SCF, bib.mms_id) == []


async def test_A3_per_second_429_and_500_on_an_unsafe_create_are_retried_to_one_holding() -> None:
    """A 429 is refused before Alma takes the call on; a 500 is Alma's own failure, not applied:
    both are retried by the adapter, and one holding results."""
    state = state_from_file()
    bib = state.create_bib(SCF, title="Refused first")
    faults = FaultInjector(FaultConfig(enforce_thresholds=False), seed=1)
    faults.fail_next(1, kind="per_second", institution=SCF, path_contains="/holdings")
    faults.fail_next(1, kind="error", status=500, institution=SCF, path_contains="/holdings")
    async with _over_http(state, faults, lambda app: app) as (gateway, client):
        created = await gateway.create_holding(bib.mms_id, "RS", "rs_shared")
    assert client.retries == 2
    assert _holding_posts(state, bib.mms_id) == [429, 500, 200]
    assert [h.holding_id for h in state.holdings_of(SCF, bib.mms_id)] == [created.holding_id]


async def test_A4_after_a_per_second_429_the_retry_waits_only_until_the_window_moves_on() -> None:
    """Five calls fill a rate of 5; the sixth is refused anyway (another client of the
    institution, or jitter). The retry goes once the oldest start of the window is a second old,
    not a whole second (plus backoff) after the refusal."""
    state = state_from_file()
    faults = FaultInjector(FaultConfig(per_second_threshold=NO_THRESHOLD), seed=1)
    client = AlmaHttpClient(
        "http://fake-alma",
        rate_per_second=5,
        retry=RetryPolicy(),  # the service's: a pause of up to 1 s, backoff from 0.2 s
        transport=httpx.ASGITransport(app=create_fake_alma_app(state, faults)),
    )
    gateway = HttpAlmaGateway(client, "01AAA_AB", Secret(AB_KEY))
    for _ in range(5):
        await gateway.libraries()
    faults.fail_next(1, kind="per_second", institution="01AAA_AB")
    await gateway.libraries()
    await client.aclose()
    log = state.call_log.records()
    starts = [call.time.timestamp() for call in log]
    refused = next(i for i, call in enumerate(log) if call.status == 429)
    assert [call.status for call in log[refused:]] == [429, 200]
    # The refused call was the sixth start: the window moves on when the second start is 1 s old.
    assert starts[refused + 1] - starts[1] < 1.2
    assert starts[refused + 1] - starts[refused] < 0.5
