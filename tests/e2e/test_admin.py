"""The admin surface of `almabridge serve` as a subprocess: closed without the token, and closed
for good (403) when no token is configured; `/health` and Alma's webhook routes stay open."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx

from entrypoints.demo.setup import AB
from tests.e2e.harness import ADMIN_TOKEN, ServiceProcess, alma_side, running_service

ADMIN_ROUTES = (
    ("GET", "/metrics"),
    ("GET", "/configuration"),
    ("GET", "/logger"),
    ("PUT", "/logger?level=debug"),
    ("GET", "/ledger/events"),
    ("GET", f"/ledger/items/{AB}/AB0001"),
    ("GET", f"/ledger/requests/{AB}/1234"),
    ("GET", "/openapi.json"),
)
WRONG: tuple[dict[str, str], ...] = (
    {},
    {"Authorization": "Bearer not-the-token"},
    {"Authorization": f"Basic {ADMIN_TOKEN}"},
    {"Authorization": ADMIN_TOKEN},
)
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def _open_routes_answer(client: httpx.AsyncClient, url: str) -> None:
    assert (await client.get(f"{url}/health")).status_code == 200
    challenge = await client.get(f"{url}/webhook", params={"challenge": "abc123"})
    assert challenge.status_code == 200
    assert challenge.json() == {"challenge": "abc123"}


async def _with_token(client: httpx.AsyncClient, service: ServiceProcess) -> None:
    url = service.url
    for method, route in ADMIN_ROUTES:
        for headers in WRONG:
            answer = await client.request(method, url + route, headers=headers)
            assert answer.status_code == 401, (method, route, headers, answer.text)
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    # A refused PUT changed nothing.
    level = await client.get(f"{url}/logger", headers=BEARER)
    assert level.json() == {"level": "INFO"}
    for method, route in ADMIN_ROUTES:
        answer = await client.request(method, url + route, headers=BEARER)
        # The ledger is empty: an unknown barcode or request is a 404, not a refusal.
        unknown = route.startswith(("/ledger/items/", "/ledger/requests/"))
        assert answer.status_code == (404 if unknown else 200), route
    await _open_routes_answer(client, url)


async def _without_token(client: httpx.AsyncClient, service: ServiceProcess) -> None:
    url = service.url
    for method, route in ADMIN_ROUTES:
        for headers in (*WRONG, BEARER):
            answer = await client.request(method, url + route, headers=headers)
            assert answer.status_code == 403, (method, route, headers, answer.text)
            assert "ALMABRIDGE_ADMIN_TOKEN" in answer.json()["error"]
    await _open_routes_answer(client, url)


async def test_admin_routes_refuse_without_the_token_and_without_one_configured(
    tmp_path: Path,
) -> None:
    async with alma_side(tmp_path) as side, contextlib.AsyncExitStack() as stack:
        # Both services at once (same conf.json and ledger): one with a token, one without.
        guarded, closed = await asyncio.gather(
            stack.enter_async_context(running_service(side)),
            stack.enter_async_context(running_service(side, admin_token=None)),
        )
        await _with_token(side.client, guarded)
        await _without_token(side.client, closed)
