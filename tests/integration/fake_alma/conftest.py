"""Fixtures for the fake Alma: a seeded state on a manual clock, its app and HTTP clients.

The ``client`` advances the clock 50 ms per request (20 calls/s, under Alma's 25/s), so
ordinary tests never meet the per-second threshold and nothing ever sleeps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from adapters.fake_alma import (
    FakeAlmaState,
    FaultConfig,
    FaultInjector,
    ManualClock,
    create_fake_alma_app,
    state_from_file,
)

AB = "01AAA_AB"
CD = "01AAA_CD"
SCF = "01AAA_RS"
KEYS = {AB: "ab-example-key", CD: "cd-example-key", SCF: "scf-example-key"}
BASE = "http://fake-alma"
API = "/almaws/v1"


def headers(institution: str, accept: str = "application/json") -> dict[str, str]:
    """Alma auth header for an institution of the demo seed."""
    return {"Authorization": f"apikey {KEYS[institution]}", "Accept": accept}


@pytest.fixture
def clock() -> ManualClock:
    """Frozen time that only tests move."""
    return ManualClock()


@pytest.fixture
def state(clock: ManualClock) -> FakeAlmaState:
    """The demo consortium (examples/conf.json's institutions)."""
    return state_from_file(clock=clock)


@pytest.fixture
def faults(clock: ManualClock) -> FaultInjector:
    """No faults; thresholds enforced; waiting advances the manual clock."""
    return FaultInjector(FaultConfig(), clock=clock, seed=7, sleeper=clock.sleep)


@pytest.fixture
def app(state: FakeAlmaState, faults: FaultInjector) -> Starlette:
    """The fake Alma app."""
    return create_fake_alma_app(state, faults)


@pytest.fixture
async def client(app: Starlette, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose every request moves the clock 50 ms."""

    async def tick(request: httpx.Request) -> None:
        clock.advance(0.05)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE,
        event_hooks={"request": [tick]},
    ) as http:
        yield http


@pytest.fixture
async def raw_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client that leaves the clock alone (rate-limit tests move it themselves)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as http:
        yield http


@pytest.fixture
def item_url(state: FakeAlmaState) -> Callable[[str, str], str]:
    """The canonical API path of a seeded item, by institution and barcode."""

    def build(institution: str, barcode: str) -> str:
        item = state.find_item(institution, barcode)
        assert item is not None, barcode
        return f"{API}/bibs/{item.mms_id}/holdings/{item.holding_id}/items/{item.pid}"

    return build


def error_code(response: httpx.Response) -> str:
    """The first Alma errorCode of a JSON error body."""
    body: dict[str, Any] = response.json()
    code: str = body["errorList"]["error"][0]["errorCode"]
    return code
