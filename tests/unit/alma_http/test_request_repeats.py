"""A request POST whose answer is lost (rules R5, A3; ADR 0007).

Under `allow_same_request=false` Alma refuses a second request for the same user and item, so
the adapter may send the POST again; the bridge then adopts its earlier attempt's request. Under
`allow_same_request=true` Alma would make a second request: the lost answer is an unknown
outcome, never sent twice by the adapter.
"""

from __future__ import annotations

import httpx
import pytest

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.alma_http.gateway import HttpAlmaGateway
from application.shared.alma import AlmaOutcomeUnknown, AlmaUnavailable
from application.shared.connections import Secret

QUICK = RetryPolicy(
    attempts=3,
    budget_seconds=5,
    wait_initial=0.001,
    wait_max=0.001,
    wait_jitter=0.0,
    rate_limit_pause=0.001,
)


def _gateway(posts: list[httpx.Request]) -> tuple[HttpAlmaGateway, AlmaHttpClient]:
    def lose_the_answer(request: httpx.Request) -> httpx.Response:
        posts.append(request)
        raise httpx.ReadError("connection reset after the request was sent", request=request)

    client = AlmaHttpClient(
        "http://alma.test",
        rate_per_second=1000,
        retry=QUICK,
        transport=httpx.MockTransport(lose_the_answer),
    )
    return HttpAlmaGateway(client, "01AAA_RS", Secret("scf-key")), client


async def test_R5_an_item_request_alma_may_duplicate_is_sent_once_and_unknown() -> None:
    posts: list[httpx.Request] = []
    gateway, client = _gateway(posts)
    with pytest.raises(AlmaOutcomeUnknown):
        await gateway.create_item_request(
            "991", "221", "231", "01AAA_AB-ABRS", {}, allow_same_request=True
        )
    await client.aclose()
    assert len(posts) == 1


async def test_R5_a_title_request_alma_may_duplicate_is_sent_once_and_unknown() -> None:
    posts: list[httpx.Request] = []
    gateway, client = _gateway(posts)
    with pytest.raises(AlmaOutcomeUnknown):
        await gateway.create_title_request("991", "01AAA_AB-ABRS", {}, allow_same_request=True)
    await client.aclose()
    assert len(posts) == 1


async def test_R5_a_request_alma_would_refuse_twice_is_retried() -> None:
    posts: list[httpx.Request] = []
    gateway, client = _gateway(posts)
    with pytest.raises(AlmaUnavailable):
        await gateway.create_item_request("991", "221", "231", "01AAA_AB-ABRS", {})
    await client.aclose()
    assert len(posts) == QUICK.attempts
