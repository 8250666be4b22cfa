"""The service refuses to start when it must (W2, unmigrated ledger); no secret ever leaks."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from entrypoints.container import ServiceCannotStart
from tests.integration.http.support import (
    ADMIN_TOKEN,
    LOAN_RETURNED,
    SECRETS,
    admin,
    alma_body,
    example_conf,
    running_service,
    signed,
)


async def test_an_unmigrated_ledger_stops_startup_naming_the_command(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    with pytest.raises(ServiceCannotStart, match="almabridge db upgrade"):
        async with running_service(tmp_path, migrate=False):
            pass  # pragma: no cover
    assert "almabridge cannot start" in caplog.text


async def test_W2_no_webhook_secret_stops_startup(tmp_path: Path) -> None:
    conf = example_conf(tmp_path)
    del conf["webhook_secret"]
    with pytest.raises(ServiceCannotStart, match="allow_unsigned_webhooks"):
        async with running_service(tmp_path, conf=conf):
            pass  # pragma: no cover


async def test_the_webhook_secret_may_come_from_the_environment(tmp_path: Path) -> None:
    conf = example_conf(tmp_path)
    del conf["webhook_secret"]
    env = {"ALMABRIDGE_WEBHOOK_SECRET": "from-the-environment"}
    async with running_service(tmp_path, conf=conf, env=env) as service:
        body = alma_body(LOAN_RETURNED)
        response = await service.client.post(
            "/webhook", content=body, headers=signed(body, "from-the-environment")
        )
        assert response.status_code == 200


async def test_no_secret_appears_in_any_response_or_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses: list[httpx.Response] = []
    async with running_service(tmp_path) as service:
        client = service.client
        body = alma_body(LOAN_RETURNED)
        responses += [
            await client.post("/webhook", content=body, headers=signed(body)),
            await client.post("/webhook", content=body, headers=signed(body)),
            await client.post("/webhook", content=body, headers=signed(body, "guess")),
            await client.post("/webhook", content=body, headers={"X-Exl-Signature": ADMIN_TOKEN}),
            await client.get("/webhook?challenge=c"),
            await client.get("/health"),
            await client.get("/metrics", headers=admin()),
            await client.get("/configuration", headers=admin()),
            await client.get("/logger", headers=admin()),
            await client.get("/ledger/events", headers=admin()),
            await client.get("/openapi.json", headers=admin()),
            await client.get("/metrics", headers=admin("almost-" + ADMIN_TOKEN)),
        ]
        broken = example_conf(tmp_path, alma_rate_limit_per_second="lots")
        broken["institutions"][0]["apikey"] = 42
        service.write_conf(broken)
        responses.append(await client.get("/configuration", headers=admin()))
    assert [r.status_code for r in responses][-1] == 422
    seen = "\n".join(r.text + str(r.headers) for r in responses) + caplog.text
    for secret in SECRETS:
        assert secret not in seen, secret
