"""Where the throttle admits a call on the network (rule A4, `AlmaHttpClient._admitted`).

Alma counts a call when it arrives. Over the real network transport the client is admitted when
its connection is ready and the request's headers are about to be written, so neither opening a
connection nor waiting for one passes between the booked start and Alma; a call that never got a
connection books no start. (Measured before: the A4 e2e test saw 26 calls in one of the fake's
seconds about every other run with the admission before `send`.)
"""

from __future__ import annotations

import socket

import httpx
import pytest

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.alma_http.gateway import HttpAlmaGateway
from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import state_from_file
from application.shared.alma import AlmaUnavailable
from application.shared.connections import Secret
from entrypoints.demo.servers import http_server

AB, AB_KEY = "01AAA_AB", "ab-example-key"
QUICK = RetryPolicy(attempts=2, budget_seconds=5, wait_initial=0.001, wait_max=0.01)


async def test_A4_each_call_and_redirect_hop_is_admitted_once_on_the_wire() -> None:
    state = state_from_file()
    faults = FaultInjector(FaultConfig(enforce_thresholds=False))
    async with http_server(create_fake_alma_app(state, faults)) as url:
        client = AlmaHttpClient(url, rate_per_second=1000, retry=QUICK)
        try:
            gateway = HttpAlmaGateway(client, AB, Secret(AB_KEY))
            await gateway.libraries()
            await gateway.item_by_barcode("AB0001")  # a 302, then the item: two calls
        finally:
            await client.aclose()
    assert len(state.call_log.records()) == 3
    assert client.throttle(AB).calls_started == 3


async def test_A4_a_call_that_got_no_connection_books_no_start() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens here once closed
    client = AlmaHttpClient(f"http://127.0.0.1:{port}", rate_per_second=1000, retry=QUICK)
    try:
        with pytest.raises(AlmaUnavailable):
            await HttpAlmaGateway(client, AB, Secret(AB_KEY)).libraries()
    finally:
        await client.aclose()
    assert client.throttle(AB).calls_started == 0


async def test_A4_other_transports_are_admitted_before_sending() -> None:
    state = state_from_file()
    app = create_fake_alma_app(state, FaultInjector(FaultConfig(enforce_thresholds=False)))
    client = AlmaHttpClient(
        "http://fake-alma", rate_per_second=1000, transport=httpx.ASGITransport(app=app)
    )
    try:
        await HttpAlmaGateway(client, AB, Secret(AB_KEY)).libraries()
    finally:
        await client.aclose()
    assert client.throttle(AB).calls_started == 1
