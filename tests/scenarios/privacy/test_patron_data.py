"""Rule P2: patron data stays in Alma.

A consortium run with a patron whose name, e-mail, postal address and phone are distinctive:
request files carry them (R2), the member's Alma user has them, and the SCF request's comment
carries them back in a `REQUEST_CANCELED` webhook. The run goes through the request sync
(forwarded, waiting then forwarded after the items sync, cancelled, failed), the service's
webhook endpoint and the inbox worker (C2), with the P1 reports written as CSV files. Then every
column of every ledger table, every log line at DEBUG, `/metrics`, `/status` and the P1 CSVs are
searched for the patron's data: 0 hits. The R5 comment still carries it into the SCF request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.ledger.engine import create_ledger_engine
from adapters.ledger.migrate import upgrade
from adapters.ledger.tables import metadata
from adapters.scf.reports.csv_reports import CsvFailureReports
from application.scf.inbox.worker import InboxWorker
from application.shared.ledger_records import RequestStatus
from entrypoints.bridge_wiring import BridgePorts, bridge_handlers, request_forwarding
from entrypoints.container import Container
from entrypoints.http import create_app
from tests.integration.http.support import ADMIN_TOKEN, admin, example_conf, signed
from tests.scenarios.requests.support import member_item_request, mirror, record_mirror
from tests.scenarios.world import AB, SCF, LedgerKind, World, open_world, request_export

PATRON_ID = "p2_user_41"
NAME = "Zyxwvut, Quenneth"
EMAIL = "quenneth.zyxwvut@privacy-p2.example"
ADDRESS = "88 Obsidian Marrowlane, Gloomhaven"
PHONE = "+1 555 0134 777"
NEEDLES = ("zyxwvut", "quenneth", "privacy-p2.example", "obsidian", "marrowlane", "gloomhaven")
NEEDLES += ("0134 777",)
"""Each distinctive part of the patron's data, searched case-insensitively."""

ALMA_USER: dict[str, Any] = {
    "primary_id": PATRON_ID,
    "first_name": "Quenneth",
    "last_name": "Zyxwvut",
    "contact_info": {
        "address": [
            {
                "line1": "88 Obsidian Marrowlane",
                "city": "Gloomhaven",
                "preferred": True,
                "address_type": [{"value": "home"}],
            }
        ],
        "email": [{"email_address": EMAIL, "preferred": True}],
        "phone": [{"phone_number": PHONE, "preferred": True}],
    },
}
EXPORT_PATRON = {
    "patronName": NAME,
    "patronIdentifier": PATRON_ID,
    "patronEmail": EMAIL,
    "patronAddress": ADDRESS,
}


def _hits(text: str) -> list[str]:
    folded = text.casefold()
    return [needle for needle in NEEDLES if needle in folded]


def _text(value: object) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


async def _ledger_hits(url: str) -> dict[str, list[str]]:
    """Every column of every ledger table, searched; what was found, by table.column."""
    found: dict[str, list[str]] = {}
    engine = create_ledger_engine(url)
    try:
        async with engine.connect() as conn:
            for table in metadata.sorted_tables:
                for row in await conn.execute(select(table)):
                    for column, value in row._mapping.items():
                        hits = _hits(_text(value))
                        if hits:
                            found.setdefault(f"{table.name}.{column}", []).extend(hits)
    finally:
        await engine.dispose()
    return found


@asynccontextmanager
async def _service(
    world: World, tmp_path: Path
) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
    """The HTTP service over the world's ledger (its worker not started: the test runs one)."""
    assert world.database_url is not None
    conf_path = tmp_path / "conf.json"
    conf_path.write_text(json.dumps(example_conf(tmp_path)))
    container = Container()
    container.environ.override(
        {
            "ALMABRIDGE_DATABASE_URL": world.database_url,
            "CONFIG_FILE": str(conf_path),
            "ALMABRIDGE_ADMIN_TOKEN": ADMIN_TOKEN,
        }
    )
    app = create_app(container, run_worker=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge.test") as client:
            yield container, client


async def _request_sync(world: World, bridge: BridgePorts) -> dict[str, str]:
    """Forwarded, waiting (then forwarded after the items sync), cancelled and failed requests
    of the patron; the SCF comments of the two forwarded ones, by member request id."""
    world.state.add_user(AB, ALMA_USER)
    scf_item = mirror(world, AB, "AB0002")
    await record_mirror(world, AB, "AB0002", scf_item)
    forwarded = member_item_request(world, AB, "AB0002", PATRON_ID)
    waiting = member_item_request(world, AB, "AB0001", PATRON_ID)
    cancelled = member_item_request(world, AB, "AB0004", PATRON_ID)  # AB0004: AB's open stacks

    def export(request_id: str | None, barcode: str) -> dict[str, object]:
        mms_id = world.state.item_by_barcode(AB, barcode).mms_id
        entry: dict[str, object] = {
            "requestType": "PATRON_PHYSICAL",
            "barcode": barcode,
            "mmsId": mms_id,
        }
        if request_id is not None:
            entry["requestId"] = request_id
        entry["patron"] = EXPORT_PATRON
        return entry

    requests = [
        export(forwarded.request_id, "AB0002"),
        export(waiting.request_id, "AB0001"),
        export(cancelled.request_id, "AB0004"),
        export(None, "AB0001"),  # no requestId: failed and reported (P1)
    ]
    world.drop_request_file(AB, "requests_p2.xml", request_export(requests))
    forwarding = request_forwarding(bridge)
    summary = await forwarding.run(AB)
    assert (summary.forwarded, summary.waiting, summary.cancelled, summary.failed) == (1, 1, 1, 1)

    # The items sync mirrors AB0001; the waiting request goes from the ledger's data (R7).
    world.clock.advance(hours=2)
    await record_mirror(world, AB, "AB0001", mirror(world, AB, "AB0001"))
    retried = await forwarding.retry_waiting(AB)
    assert retried.forwarded == 1
    row = (await world.ledger.request_record(AB, waiting.request_id)).request
    assert row is not None
    assert row.status is RequestStatus.FORWARDED

    comments = {}
    for placed in world.state.requests_of(SCF, active=True):
        comment = str(placed.fields["comment"])
        source = forwarded if forwarded.request_id in comment else waiting
        comments[source.request_id] = comment
    return comments


async def _circulation(
    world: World, bridge: BridgePorts, container: Container, client: httpx.AsyncClient
) -> None:
    """The SCF cancels the first forwarded request (its comment in the webhook), and Alma sends
    a USER webhook with the whole user: both through the service's webhook endpoint."""
    placed = next(
        request
        for request in world.state.requests_of(SCF, active=True)
        if request.item_pid is not None
    )
    canceled = {
        "id": "9000000000000001",
        "action": "REQUEST",
        "institution": {"value": SCF},
        "time": "2026-12-01T10:00:00.000Z",
        "event": {"value": "REQUEST_CANCELED", "desc": "Request canceled"},
        "user_request": {
            "request_id": placed.request_id,
            "user_primary_id": placed.user_primary_id,
            "request_type": "HOLD",
            "barcode": "AB0002X" if "AB0002" in str(placed.fields) else "AB0001X",
            "comment": placed.fields["comment"],
        },
    }
    user = {
        "id": "9000000000000002",
        "action": "USER",
        "institution": {"value": AB},
        "event": {"value": "USER_UPDATED"},
        "webhook_user": {"user": ALMA_USER, "method": "UPDATE"},
    }
    for document in (canceled, user):
        body = json.dumps(document).encode()
        response = await client.post("/webhook", content=body, headers=signed(body))
        assert response.status_code == 200, response.text
    # The service stamped the messages with the real time: the world's clock catches up.
    world.clock.current = max(world.clock.now(), datetime.now(UTC)) + timedelta(minutes=1)
    worker = InboxWorker(
        world.ledger,
        bridge_handlers(bridge),
        lambda: bridge.settings.consortium,
        world.clock,
        container.metrics(),
        owner="p2",
        lease=timedelta(minutes=10),
    )
    while await worker.run_once():
        pass
    assert await world.ledger.inbox_depth() is not None
    cancel_events = await world.events(action="circulation.cancel_source")
    assert [event.outcome.value for event in cancel_events] == ["ok"], cancel_events


@pytest.mark.parametrize("ledger", ["sqlite", "postgres"])
async def test_P2_no_patron_data_in_ledger_logs_metrics_status_or_reports(
    tmp_path: Path, ledger: LedgerKind, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    reports = tmp_path / "reports"
    async with open_world(tmp_path, ledger=ledger) as world:
        bridge = replace(world.bridge, reports=CsvFailureReports(reports))
        assert world.database_url is not None
        await upgrade(world.database_url)
        comments = await _request_sync(world, bridge)
        async with _service(world, tmp_path) as (container, client):
            await _circulation(world, bridge, container, client)
            metrics = (await client.get("/metrics", headers=admin())).text
            status = await client.get("/status", headers=admin())
            assert status.status_code == 200
            status_page = status.text

        # R5 still carries the patron into the SCF request: from the file, and read again
        # from the member's Alma for the request forwarded from the ledger.
        assert len(comments) == 2
        for comment in comments.values():
            assert f"Patron: {NAME}, {PATRON_ID}, {EMAIL}" in comment
        from_file, from_ledger = comments.values()
        assert ADDRESS in from_file
        assert "88 Obsidian Marrowlane, Gloomhaven" in from_ledger

        # ... and nowhere else.
        assert await _ledger_hits(world.database_url) == {}
        csvs = sorted(reports.glob("*.csv"))
        assert {path.name.split("_log_")[0] for path in csvs} >= {"RequestHandler"}
        for path in csvs:
            assert _hits(path.read_text()) == [], path.name
        assert _hits(metrics) == []
        assert "almabridge" in metrics
        assert _hits(status_page) == []
        # Alma's side (the fake) is Alma: what it logs is not the bridge's.
        lines = [
            f"{record.name} {record.getMessage()} {record.exc_text or ''}"
            for record in caplog.records
            if not record.name.startswith("adapters.fake_alma")
        ]
        assert any(line.startswith("application.scf") for line in lines)
        assert [line for line in lines if _hits(line)] == []
