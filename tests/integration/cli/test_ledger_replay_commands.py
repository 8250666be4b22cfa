"""`almabridge ledger` (table, JSON, CSV, filters) and `almabridge replay` (message, file,
request)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.ledger.clock import SystemClock
from adapters.ledger.sql import SqlLedger
from application.shared.ledger_records import InboxStatus
from entrypoints.cli.ledger_commands import parse_moment
from entrypoints.demo.alma_files import PublishedItem, PublishedRecord, publishing_archive
from tests.integration.cli.support import AB, Bridge, bridge_at


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[Bridge]:
    with bridge_at(tmp_path) as running:
        yield running


def _synced(bridge: Bridge) -> None:
    bridge.publish("AB_new_1")
    code, output = bridge.run("sync-items", AB)
    assert code == 0, output


def _ledger(bridge: Bridge) -> SqlLedger:
    return SqlLedger.from_url(bridge.database_url, SystemClock())


def test_I13_ledger_events_as_table_json_and_csv(bridge: Bridge) -> None:
    _synced(bridge)
    code, output = bridge.run_ledger("events", "-i", AB, "--action", "item.create")
    assert code == 0, output
    assert "Events (2)" in output
    assert "created AB0001X" in output
    code, output = bridge.run_ledger("events", "--action", "item.create", "--json")
    events = json.loads(output)
    assert {event["barcode"] for event in events} == {"AB0001", "AB0002"}
    code, output = bridge.run_ledger("events", "--since", "1h", "--csv", "--limit", "3")
    rows = list(csv.DictReader(io.StringIO(output)))
    assert len(rows) == 3
    assert rows[0]["action"] == "file.claim"
    assert json.loads(rows[0]["details"])["kind"] == "items"


def test_ledger_events_filters_by_outcome_and_time(bridge: Bridge) -> None:
    _synced(bridge)
    code, output = bridge.run_ledger("events", "--outcome", "failed")
    assert (code, output.strip()) == (0, "no events")
    code, output = bridge.run_ledger("events", "--until", "2000-01-01")
    assert output.strip() == "no events"
    code, output = bridge.run_ledger("events", "--newest-first", "--limit", "1", "--json")
    assert json.loads(output)[0]["action"] == "items.sync"


def test_ledger_refuses_bad_options_with_exit_code_2(bridge: Bridge) -> None:
    code, output = bridge.run_ledger("events", "--since", "yesterday-ish")
    assert code == 2
    assert "is not a time" in output
    code, output = bridge.run_ledger("events", "--json", "--csv")
    assert code == 2
    code, output = bridge.run_ledger("events", "--outcome", "maybe")
    assert code == 2


def test_ledger_of_an_unknown_barcode_or_request_exits_1(bridge: Bridge) -> None:
    code, output = bridge.run_ledger("item", AB, "NOPE")
    assert code == 1
    assert "knows nothing of barcode NOPE of 01AAA_AB" in output
    code, output = bridge.run_ledger("request", AB, "123")
    assert code == 1


def test_ledger_item_as_a_table_and_csv(bridge: Bridge) -> None:
    _synced(bridge)
    code, output = bridge.run_ledger("item", AB, "AB0002")
    assert code == 0, output
    assert "Mirror of AB0002 (01AAA_AB)" in output
    assert "│ state            │ mirrored" in output
    code, output = bridge.run_ledger("item", AB, "AB0002", "--csv")
    assert output.splitlines()[0].startswith("id,occurred_at,institution,barcode")


def test_an_unmigrated_ledger_is_refused(tmp_path: Path) -> None:
    with bridge_at(tmp_path, migrate=False) as bridge:
        code, output = bridge.run_ledger("events")
    assert code == 2
    assert "almabridge db upgrade" in output


def test_parse_moment_forms() -> None:
    now = datetime(2025, 1, 31, 12, tzinfo=UTC)
    assert parse_moment("2h", "--since", now) == datetime(2025, 1, 31, 10, tzinfo=UTC)
    assert parse_moment("7d", "--since", now) == datetime(2025, 1, 24, 12, tzinfo=UTC)
    assert parse_moment("2025-01-31", "--since") == datetime(2025, 1, 31, tzinfo=UTC)
    assert parse_moment("2025-01-31T10:00+02:00", "--since") == datetime(2025, 1, 31, 8, tzinfo=UTC)
    assert parse_moment(None, "--since") is None


# --- replay ---------------------------------------------------------------------------------


async def _dead_message(bridge: Bridge, body: bytes) -> int:
    ledger = _ledger(bridge)
    try:
        async with ledger.unit_of_work() as uow:
            added = await uow.inbox.add("replay-test", body, datetime.now(UTC))
            await uow.inbox.mark_dead(added.id, "Alma kept answering 503")
            await uow.commit()
        return added.id
    finally:
        await ledger.close()


async def _finish(bridge: Bridge, message_id: int) -> None:
    ledger = _ledger(bridge)
    try:
        async with ledger.unit_of_work() as uow:
            await uow.inbox.mark_done(message_id)
            await uow.commit()
    finally:
        await ledger.close()


async def _status(bridge: Bridge, message_id: int) -> InboxStatus | None:
    ledger = _ledger(bridge)
    try:
        async with ledger.unit_of_work() as uow:
            message = await uow.inbox.get(message_id)
        return None if message is None else message.status
    finally:
        await ledger.close()


def test_replay_message_puts_a_dead_message_back_and_says_so(bridge: Bridge) -> None:
    message_id = asyncio.run(_dead_message(bridge, b'{"action": "JOB_END"}'))
    code, output = bridge.run("replay", "message", str(message_id))
    assert code == 0, output
    assert f"inbox message {message_id} (replay-test) is pending again" in output
    assert "Alma kept answering 503" in output
    assert asyncio.run(_status(bridge, message_id)) is InboxStatus.PENDING
    code, output = bridge.run_ledger("events", "--action", "inbox.replay", "--json")
    assert json.loads(output)[0]["inbox_id"] == message_id
    asyncio.run(_finish(bridge, message_id))
    code, output = bridge.run("replay", "message", str(message_id))
    assert code == 1
    assert f"inbox message {message_id} is done: nothing to replay" in output
    code, output = bridge.run("replay", "message", "999")
    assert code == 1
    assert "there is no inbox message 999" in output


def test_replay_file_moves_a_failed_file_back_and_runs_it(bridge: Bridge) -> None:
    (bridge.folder(AB, "items") / "AB_fixed.tar.gz").write_bytes(b"truncated")
    assert bridge.run("sync-items", AB)[0] == 1
    events = json.loads(bridge.run_ledger("events", "--action", "file.finish", "--json")[1])
    file_id = events[0]["file_id"]
    # The operator fixes the file where the bridge left it (OLD/), then replays it.
    claimed = bridge.folder(AB, "items") / "OLD" / "AB_fixed.tar.gz"
    item = bridge.state.item_by_barcode(AB, "AB0001")
    record = PublishedRecord(
        item.mms_id, "A title", (PublishedItem("AB0001", "ABRS", "rs_shared_in_ab"),)
    )
    claimed.write_bytes(publishing_archive("AB_fixed", [record]))
    code, output = bridge.run("replay", "file", str(file_id), "--run")
    assert code == 0, output
    assert f"file {file_id} moved back to" in output
    assert "│ created   │ 1" in output
    code, output = bridge.run("replay", "file", str(file_id))
    assert code == 1
    assert f"file {file_id} was already replayed" in output


def test_replay_file_refuses_a_clean_or_unknown_file(bridge: Bridge) -> None:
    _synced(bridge)
    events = json.loads(bridge.run_ledger("events", "--action", "file.finish", "--json")[1])
    code, output = bridge.run("replay", "file", str(events[0]["file_id"]))
    assert code == 1
    assert "done without failures; use --force" in output
    code, output = bridge.run("replay", "file", "4242")
    assert code == 1
    assert "there is no transfer file 4242" in output


def test_replay_request_retries_from_the_ledger(bridge: Bridge) -> None:
    request_id = bridge.request_file("requests_1.xml")
    code, output = bridge.run("send-requests", AB)  # no mirror yet: it waits (R7)
    assert code == 0, output
    assert "waiting" in output
    _synced(bridge)  # the items job releases it already (R7) ...
    code, output = bridge.run("replay", "request", AB, request_id)
    assert code == 0, output  # ... so the replay finds it handled (R6)
    assert f"request {request_id} of 01AAA_AB: already handled" in output
    code, output = bridge.run("replay", "request", AB, "nope")
    assert code == 1
    assert "never saw request nope" in output
