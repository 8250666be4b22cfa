"""The fake served by a real uvicorn: the redirect over TCP and a real dropped connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from adapters.fake_alma import FaultConfig, FaultInjector, create_fake_alma_app, state_from_file
from tests.integration.fake_alma.conftest import AB, API, headers


@pytest.fixture
async def served() -> AsyncIterator[tuple[str, FaultInjector]]:
    """The demo consortium on an ephemeral loopback port."""
    state = state_from_file()
    faults = FaultInjector(FaultConfig(), clock=state.clock)
    app = create_fake_alma_app(state, faults)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no started event
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", faults
    finally:
        server.should_exit = True
        await task


async def test_redirect_and_drop_over_a_real_socket(served: tuple[str, FaultInjector]) -> None:
    base, faults = served
    async with httpx.AsyncClient(base_url=base) as http:
        redirect = await http.get(
            f"{API}/items", params={"item_barcode": "AB 0003+4&5#6"}, headers=headers(AB)
        )
        assert redirect.status_code == 302
        assert redirect.headers["location"].startswith(f"{base}{API}/bibs/")
        item = await http.get(redirect.headers["location"], headers=headers(AB))
        assert item.json()["item_data"]["barcode"] == "AB 0003+4&5#6"
        faults.fail_next(kind="drop")
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(f"{API}/conf/libraries", headers=headers(AB))
        again = await http.get(f"{API}/conf/libraries", headers=headers(AB))
        assert again.status_code == 200
