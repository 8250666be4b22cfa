"""POST and GET /webhook: rules W1 (challenge), W2 (signature first), W3 (store once, ack)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from application.shared.ledger_records import InboxDepth, Outcome
from domain.scf.webhooks import dedupe_key
from entrypoints.container import ServiceCannotStart
from entrypoints.http.inbox_writer import InboxWriter
from tests.integration.http.support import (
    LOAN_CREATED,
    LOAN_RETURNED,
    ON_SHELF,
    REQUEST_CANCELED,
    Service,
    alma_body,
    example_conf,
    running_service,
    signed,
)

EMPTY = InboxDepth(pending=0, processing=0, done=0, dead=0)


async def test_W1_the_challenge_is_echoed_as_json(service: Service) -> None:
    response = await service.client.get("/webhook", params={"challenge": "abc-123 é"})
    assert response.status_code == 200
    assert response.json() == {"challenge": "abc-123 é"}
    assert response.headers["content-type"].startswith("application/json")


async def test_W1_without_a_challenge_the_answer_is_an_empty_object(service: Service) -> None:
    response = await service.client.get("/webhook")
    assert (response.status_code, response.json()) == (200, {})


@pytest.mark.parametrize(
    ("name", "signature"),
    [
        (LOAN_RETURNED, "Yzugn+CyVX4fSuC4Hpukr2ykqXawjExr+NmN/WyVj0I="),
        (REQUEST_CANCELED, "yNnQNC2a7vCO/XnilUuJU7BNgtW8dGdAh0kIn2K1aPU="),
        (LOAN_CREATED, "vqYqdGnnhx2AWnMgnLr/vqpS7YRb7VEGi8Vfhq+GlFQ="),
        (ON_SHELF, "JtY3FdVta7wSOdOiCmtBky2jSGCDgHLqH0/4F/VZjvM="),
    ],
)
async def test_W2_W3_a_real_signed_body_is_stored_then_acknowledged(
    service: Service, name: str, signature: str
) -> None:
    body = alma_body(name)
    response = await service.client.post(
        "/webhook", content=body, headers={"X-Exl-Signature": signature}
    )
    assert (response.status_code, response.text) == (200, "Got message")
    assert (await service.ledger.inbox_depth()).pending == 1
    [event] = await service.ledger.events(action="webhook.received")
    assert event.outcome is Outcome.OK
    assert event.details == {"dedupe_key": dedupe_key(body), "size": len(body)}
    async with service.ledger.unit_of_work() as uow:
        assert event.inbox_id is not None
        stored = await uow.inbox.get(event.inbox_id)
    assert stored is not None
    assert stored.body == body  # the raw bytes, not re-serialised JSON
    assert stored.dedupe_key == json.loads(body)["id"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Exl-Signature": ""},
        {"X-Exl-Signature": "Yzugn+CyVX4fSuC4Hpukr2ykqXawjExr+NmN/WyVj0I="},  # another body's
        {"X-Exl-Signature": "not base64 at all \u00e9".encode("latin-1")},
    ],
    ids=["missing", "empty", "other-body", "garbage"],
)
async def test_W2_a_missing_or_wrong_signature_is_401_and_nothing_is_stored(
    service: Service, headers: dict[str, str | bytes]
) -> None:
    body = alma_body(REQUEST_CANCELED)
    response = await service.client.post("/webhook", content=body, headers=headers)
    assert response.status_code == 401
    assert "Got message" not in response.text
    assert await service.ledger.inbox_depth() == EMPTY
    assert await service.ledger.events() == []
    metrics = service.container.metrics()
    assert metrics.value("almabridge_webhooks_rejected_total", reason="signature") == 1


async def test_W2_a_body_signed_with_another_secret_is_refused(service: Service) -> None:
    body = alma_body(LOAN_RETURNED)
    response = await service.client.post("/webhook", content=body, headers=signed(body, "other"))
    assert response.status_code == 401
    assert await service.ledger.inbox_depth() == EMPTY


async def test_W2_one_changed_byte_breaks_the_signature(service: Service) -> None:
    body = alma_body(LOAN_RETURNED)
    headers = signed(body)
    response = await service.client.post("/webhook", content=body + b" ", headers=headers)
    assert response.status_code == 401


async def test_W3_the_same_webhook_twice_is_one_inbox_row(service: Service) -> None:
    body = alma_body(LOAN_RETURNED)
    first = await service.client.post("/webhook", content=body, headers=signed(body))
    second = await service.client.post("/webhook", content=body, headers=signed(body))
    assert (first.status_code, first.text) == (200, "Got message")
    assert (second.status_code, second.text) == (200, "Got message")
    assert (await service.ledger.inbox_depth()).pending == 1
    [received] = await service.ledger.events(action="webhook.received")
    [duplicate] = await service.ledger.events(action="webhook.duplicate")
    assert duplicate.outcome is Outcome.SKIPPED
    assert duplicate.inbox_id == received.inbox_id
    metrics = service.container.metrics()
    assert metrics.value("almabridge_webhooks_received_total") == 1
    assert metrics.value("almabridge_webhooks_duplicate_total") == 1


async def test_W3_bodies_without_an_id_dedupe_on_their_bytes(service: Service) -> None:
    for body in (b'{"action": "JOB_END"}', b'{"action": "JOB_END"}', b"not json"):
        response = await service.client.post("/webhook", content=body, headers=signed(body))
        assert response.status_code == 200
    assert (await service.ledger.inbox_depth()).pending == 2


async def test_a_body_over_the_default_limit_of_1_MiB_is_413_and_not_stored(
    service: Service,
) -> None:
    body = b"x" * (1024 * 1024 + 1)
    response = await service.client.post("/webhook", content=body, headers=signed(body))
    assert response.status_code == 413
    assert await service.ledger.inbox_depth() == EMPTY
    exactly = b" " * (1024 * 1024)
    response = await service.client.post("/webhook", content=exactly, headers=signed(exactly))
    assert response.status_code == 200


async def test_the_limit_holds_for_a_chunked_body_without_content_length(tmp_path: Path) -> None:
    env = {"ALMABRIDGE_WEBHOOK_MAX_BYTES": "1000"}
    async with running_service(tmp_path, env=env) as service:

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(5):
                yield b"y" * 300

        response = await service.client.post(
            "/webhook", content=chunks(), headers=signed(b"y" * 1500)
        )
        assert response.status_code == 413
        assert await service.ledger.inbox_depth() == EMPTY
        metrics = service.container.metrics()
        assert metrics.value("almabridge_webhooks_rejected_total", reason="too_large") == 1


async def test_allow_unsigned_webhooks_without_a_secret_accepts_unsigned_bodies(
    tmp_path: Path,
) -> None:
    conf = example_conf(tmp_path, allow_unsigned_webhooks="true")
    del conf["webhook_secret"]
    async with running_service(tmp_path, conf=conf) as service:
        response = await service.client.post("/webhook", content=b'{"id": "1"}')
        assert (response.status_code, response.text) == (200, "Got message")
        assert (await service.ledger.inbox_depth()).pending == 1


async def test_with_a_secret_configured_allow_unsigned_still_verifies(tmp_path: Path) -> None:
    conf = example_conf(tmp_path, allow_unsigned_webhooks=True)
    async with running_service(tmp_path, conf=conf) as service:
        response = await service.client.post("/webhook", content=b'{"id": "1"}')
        assert response.status_code == 401


async def test_a_reloaded_secret_is_used_for_the_next_webhook(
    service: Service, tmp_path: Path
) -> None:
    service.write_conf(example_conf(tmp_path, webhook_secret="rotated-secret"))
    reload = await service.client.get(
        "/configuration", headers={"Authorization": "Bearer admin-token-for-tests-0123456789"}
    )
    assert reload.status_code == 200
    body = alma_body(LOAN_RETURNED)
    old = await service.client.post("/webhook", content=body, headers=signed(body))
    new = await service.client.post(
        "/webhook", content=body, headers=signed(body, "rotated-secret")
    )
    assert (old.status_code, new.status_code) == (401, 200)


async def test_concurrent_webhooks_are_each_stored_once(service: Service) -> None:
    # On SQLite concurrent webhooks share transactions (group commit); duplicates among them
    # still make one row each, and every answer comes after the commit that holds it.
    payloads = [json.dumps({"id": f"{n % 40}", "action": "JOB_END"}).encode() for n in range(60)]
    responses = await asyncio.gather(
        *(service.client.post("/webhook", content=b, headers=signed(b)) for b in payloads)
    )
    assert {(r.status_code, r.text) for r in responses} == {(200, "Got message")}
    assert (await service.ledger.inbox_depth()).pending == 40
    assert len(await service.ledger.events(action="webhook.received")) == 40
    assert len(await service.ledger.events(action="webhook.duplicate")) == 20


async def test_one_transaction_per_webhook_where_the_ledger_has_many_writers(
    tmp_path: Path,
) -> None:
    # The PostgreSQL path (no grouping), run here over the same SQLite ledger.
    async with running_service(tmp_path) as service:
        writer = InboxWriter(service.container.ledger, service.container.clock(), grouped=False)
        assert await writer.store("k1", b"one") is True
        assert await writer.store("k1", b"one") is False
        assert (await service.ledger.inbox_depth()).pending == 1


async def test_a_signed_empty_body_is_400_and_not_stored(service: Service) -> None:
    response = await service.client.post("/webhook", content=b"", headers=signed(b""))
    assert response.status_code == 400
    assert await service.ledger.inbox_depth() == EMPTY


async def test_other_methods_on_webhook_are_405_naming_get_and_post(service: Service) -> None:
    response = await service.client.put("/webhook", content=b"{}")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}


async def test_a_bad_body_limit_setting_stops_the_service(tmp_path: Path) -> None:
    with pytest.raises(ServiceCannotStart, match="ALMABRIDGE_WEBHOOK_MAX_BYTES"):
        async with running_service(tmp_path, env={"ALMABRIDGE_WEBHOOK_MAX_BYTES": "1MB"}):
            pass  # pragma: no cover
