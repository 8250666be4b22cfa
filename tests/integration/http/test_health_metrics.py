"""GET /health and GET /metrics, with the ledger up or down and a worker alive or not."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import types
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.ledger.sql import SqlLedger
from application.shared.ledger_records import Outcome
from entrypoints.container import Container, ServiceCannotStart
from tests.integration.http.support import (
    LOAN_RETURNED,
    Service,
    admin,
    alma_body,
    running_service,
    signed,
)

HEARTBEAT = "almabridge_worker_heartbeat_seconds"
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-z_]+="[^"]*",?)*\})? -?[0-9.e+]+$')


def break_the_ledger(service: Service, tmp_path: Path) -> None:
    """From now on the service's ledger is a database file that cannot be opened."""
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'ledger.db'}"
    service.container.ledger.override(SqlLedger.from_url(unreachable, service.container.clock()))


@pytest.fixture
def fake_worker(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """`entrypoints.worker_runtime` replaced by a worker that beats once and waits for stop."""
    seen: dict[str, object] = {"behaviour": "beat"}

    async def run_worker(
        container: Container, stop: asyncio.Event, *, owner: str | None = None
    ) -> None:
        seen["started"] = True
        if seen["behaviour"] == "crash":
            raise RuntimeError("the worker fell over")
        if seen["behaviour"] == "beat":
            container.metrics().set(HEARTBEAT, container.clock().now().timestamp())
        await stop.wait()
        seen["stopped"] = True

    module = types.ModuleType("entrypoints.worker_runtime")
    module.run_worker = run_worker  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "entrypoints.worker_runtime", module)
    return seen


async def test_health_is_ok_with_the_database_up_and_no_worker_in_this_process(
    service: Service,
) -> None:
    response = await service.client.get("/health")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert report["database"] == {"ok": True}
    assert report["worker"] == {"ok": True, "state": "not running in this process"}
    assert report["inbox"] == {"pending": 0, "processing": 0, "done": 0, "dead": 0}
    assert report["institutions"] == [
        {"code": "01AAA_AB", "last_items_sync": None, "last_requests_sync": None},
        {"code": "01AAA_CD", "last_items_sync": None, "last_requests_sync": None},
    ]


async def test_health_reports_each_institutions_last_successful_syncs(service: Service) -> None:
    async with service.ledger.unit_of_work() as uow:
        ok = await uow.events.append("items.sync", Outcome.OK, institution="01AAA_AB")
        await uow.events.append("items.sync", Outcome.FAILED, institution="01AAA_CD")
        await uow.events.append(
            "webhook.process",
            Outcome.OK,
            institution="01AAA_CD",
            details={"classification": "requests_sync_due"},
        )
        await uow.events.append(
            "webhook.process",
            Outcome.OK,
            institution="01AAA_CD",
            details={"classification": "items_sync_due"},
        )
        await uow.commit()
    [ab, cd] = (await service.client.get("/health")).json()["institutions"]
    assert ab == {
        "code": "01AAA_AB",
        "last_items_sync": ok.occurred_at.isoformat(),
        "last_requests_sync": None,
    }
    assert cd["last_items_sync"] is None
    assert cd["last_requests_sync"] is not None


async def test_health_is_degraded_503_when_the_database_is_unreachable(
    service: Service, tmp_path: Path
) -> None:
    break_the_ledger(service, tmp_path)
    response = await service.client.get("/health")
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "degraded"
    assert report["database"] == {"ok": False, "error": "OperationalError"}


async def test_W3_a_webhook_the_ledger_cannot_store_is_503_with_retry_after(
    service: Service, tmp_path: Path
) -> None:
    break_the_ledger(service, tmp_path)
    body = alma_body(LOAN_RETURNED)
    response = await service.client.post("/webhook", content=body, headers=signed(body))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert "Got message" not in response.text
    service.container.ledger.reset_override()
    retried = await service.client.post("/webhook", content=body, headers=signed(body))
    assert (retried.status_code, retried.text) == (200, "Got message")


async def test_a_running_worker_with_a_recent_heartbeat_is_alive_and_stopped_on_shutdown(
    tmp_path: Path, fake_worker: dict[str, object]
) -> None:
    async with running_service(tmp_path, run_worker=True) as service:
        await asyncio.sleep(0)  # let the worker task start
        report = (await service.client.get("/health")).json()
        assert report["status"] == "ok"
        assert report["worker"]["state"] == "alive"
        assert report["worker"]["last_heartbeat"] is not None
        assert "stopped" not in fake_worker
    assert fake_worker["stopped"] is True


async def test_a_stale_heartbeat_is_degraded(
    tmp_path: Path, fake_worker: dict[str, object]
) -> None:
    async with running_service(tmp_path, run_worker=True) as service:
        await asyncio.sleep(0)
        old = service.container.clock().now() - timedelta(minutes=10)
        service.container.metrics().set(HEARTBEAT, old.timestamp())
        response = await service.client.get("/health")
        assert response.status_code == 503
        assert response.json()["worker"]["state"] == "stale"


async def test_a_crashed_worker_is_degraded(
    tmp_path: Path, fake_worker: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    fake_worker["behaviour"] = "crash"
    async with running_service(tmp_path, run_worker=True) as service:
        await asyncio.sleep(0.01)
        response = await service.client.get("/health")
        assert response.status_code == 503
        assert response.json()["worker"]["state"] == "stopped"
    assert "the worker fell over" in caplog.text


async def test_run_worker_without_a_worker_module_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "entrypoints.worker_runtime", None)
    with pytest.raises(ServiceCannotStart, match="inbox worker"):
        async with running_service(tmp_path, run_worker=True):
            pass  # pragma: no cover


async def test_metrics_are_prometheus_text_with_webhooks_inbox_and_alma(service: Service) -> None:
    body = alma_body(LOAN_RETURNED)
    await service.client.post("/webhook", content=body, headers=signed(body))
    await service.client.post("/webhook", content=body, headers=signed(body))
    await service.client.post("/webhook", content=body, headers={})
    client = service.container.alma_client()
    client.throttle("01AAA_AB").record_remaining("49990")
    await client.throttle("01aaa_ab").pause(0.0)
    response = await service.client.get("/metrics", headers=admin())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    expected = [
        "almabridge_webhooks_received_total 1",
        "almabridge_webhooks_duplicate_total 1",
        'almabridge_webhooks_rejected_total{reason="signature"} 1',
        'almabridge_webhooks_rejected_total{reason="too_large"} 0',
        'almabridge_inbox_messages{status="pending"} 1',
        'almabridge_inbox_messages{status="dead"} 0',
        "almabridge_ledger_up 1",
        'almabridge_alma_calls_total{institution="01AAA_RS"} 0',
        'almabridge_alma_api_remaining{institution="01AAA_AB"} 49990',
        'almabridge_alma_rate_limited_total{institution="01AAA_AB"} 1',
        "almabridge_alma_retries_total 0",
        "# TYPE almabridge_webhooks_received_total counter",
        "# TYPE almabridge_inbox_messages gauge",
    ]
    for line in expected:
        assert line in text.splitlines(), line


async def test_metrics_show_the_worker_counters_and_survive_a_ledger_outage(
    service: Service, tmp_path: Path
) -> None:
    metrics = service.container.metrics()
    metrics.declare("almabridge_items_total", "counter", "Items synced.")
    metrics.inc("almabridge_items_total", 3, institution="01AAA_AB", outcome="created")
    metrics.inc(
        "almabridge_requests_total", institution="01AAA_CD", outcome="cancelled", reason='a "b"\n'
    )
    break_the_ledger(service, tmp_path)
    response = await service.client.get("/metrics", headers=admin())
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert "almabridge_ledger_up 0" in lines
    assert 'almabridge_items_total{institution="01AAA_AB",outcome="created"} 3' in lines
    escaped = 'institution="01AAA_CD",outcome="cancelled",reason="a \\"b\\"\\n"'
    assert f"almabridge_requests_total{{{escaped}}} 1" in lines
    assert "# TYPE almabridge_requests_total untyped" in lines
