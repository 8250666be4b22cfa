"""The SQL ledger's schema: one chain of Alembic revisions, no drift from tables.py, a startup
check."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from adapters.ledger.engine import create_ledger_engine
from adapters.ledger.migrate import alembic_config, current_revision, head_revision, upgrade
from adapters.ledger.sql import SqlLedger
from adapters.ledger.tables import metadata
from application.shared.ledger_records import LedgerNotMigrated
from tests.integration.ledger.support import FakeClock


async def test_check_ready_refuses_an_empty_database(empty_url: str, clock: FakeClock) -> None:
    ledger = SqlLedger.from_url(empty_url, clock)
    try:
        with pytest.raises(LedgerNotMigrated, match="almabridge db upgrade"):
            await ledger.check_ready()
    finally:
        await ledger.close()


async def test_upgrade_brings_the_database_to_head_once(empty_url: str, clock: FakeClock) -> None:
    assert await current_revision(empty_url) is None
    head = await upgrade(empty_url)
    assert head == await head_revision() == "0005"
    assert await current_revision(empty_url) == head
    assert await upgrade(empty_url) == head  # a second upgrade has nothing to do
    ledger = SqlLedger.from_url(empty_url, clock)
    try:
        await ledger.check_ready()
    finally:
        await ledger.close()


async def test_check_ready_refuses_a_database_behind_head(empty_url: str, clock: FakeClock) -> None:
    await upgrade(empty_url)
    ledger = SqlLedger.from_url(empty_url, clock)
    try:
        async with ledger.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
        with pytest.raises(LedgerNotMigrated, match=r"revision 0000.*almabridge db upgrade"):
            await ledger.check_ready()
    finally:
        await ledger.close()


def _drift(conn: Connection) -> tuple[list[object], dict[str, set[str]]]:
    diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    inspector = inspect(conn)
    columns = {
        table: {column["name"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }
    return diffs, columns


async def test_the_migrated_schema_matches_tables_py(empty_url: str) -> None:
    await upgrade(empty_url)
    engine = create_ledger_engine(empty_url)
    try:
        async with engine.connect() as conn:
            diffs, columns = await conn.run_sync(_drift)
    finally:
        await engine.dispose()
    assert diffs == []
    assert columns == {table.name: set(table.columns.keys()) for table in metadata.sorted_tables}


async def test_upgrade_needs_no_alembic_ini(
    empty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As installed: the working directory has no alembic.ini and no migrations folder.
    monkeypatch.chdir(tmp_path)
    assert not (tmp_path / "alembic.ini").exists()
    assert await upgrade(empty_url) == "0005"


def test_the_revisions_that_ship_form_one_chain() -> None:
    import migrations.versions

    versions = Path(migrations.versions.__file__).parent
    assert sorted(path.name for path in versions.glob("*.py") if path.name != "__init__.py") == [
        "0001_ledger.py",
        "0002_alma_call_schedules.py",
        "0003_job_runs.py",
        "0004_creating_mirrors.py",
        "0005_patron_data.py",
    ]


async def test_a_ledger_of_the_first_revision_upgrades_in_place(empty_url: str) -> None:
    """A ledger in service at 0001 keeps its rows and gains the call schedules (rule A4)."""
    config = alembic_config(empty_url)
    await asyncio.to_thread(command.upgrade, config, "0001")
    engine = create_ledger_engine(empty_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO events (occurred_at, action, outcome, details)"
                    " VALUES ('2026-12-01 10:00:00+00', 'items.sync', 'ok', '{}')"
                )
            )
        assert await upgrade(empty_url) == "0005"
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one() == 1
            schedules = await conn.execute(text("SELECT count(*) FROM alma_call_schedules"))
            assert schedules.scalar_one() == 0
    finally:
        await engine.dispose()


async def test_a_ledger_of_the_second_revision_upgrades_in_place(empty_url: str) -> None:
    """A ledger in service at 0002 keeps its rows and gains the batch runs (rule B1)."""
    config = alembic_config(empty_url)
    await asyncio.to_thread(command.upgrade, config, "0002")
    engine = create_ledger_engine(empty_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO alma_call_schedules (institution, starts, paused_until)"
                    " VALUES ('01AAA_AB', '[]', 0)"
                )
            )
        assert await upgrade(empty_url) == "0005"
        async with engine.connect() as conn:
            schedules = await conn.execute(text("SELECT count(*) FROM alma_call_schedules"))
            assert schedules.scalar_one() == 1
            for table in ("job_runs", "run_records"):
                rows = await conn.execute(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                assert rows.scalar_one() == 0
    finally:
        await engine.dispose()


async def test_the_batch_run_tables_downgrade_to_the_second_revision(empty_url: str) -> None:
    await upgrade(empty_url)
    await asyncio.to_thread(command.downgrade, alembic_config(empty_url), "0002")
    assert await current_revision(empty_url) == "0002"
    engine = create_ledger_engine(empty_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert "job_runs" not in tables
    assert "alma_call_schedules" in tables


async def test_a_mirror_row_written_before_its_item_becomes_creating(empty_url: str) -> None:
    """ADR 0006: a `lending` row without an item pid (the old write-ahead row) is `creating`;
    a `lending` row with its pid stays as it is."""
    config = alembic_config(empty_url)
    await asyncio.to_thread(command.upgrade, config, "0003")
    engine = create_ledger_engine(empty_url)
    row = (
        "INSERT INTO mirrored_items (institution, barcode, scf_mms_id, scf_holding_id,"
        " scf_item_pid, state, first_synced_at, last_synced_at) VALUES ('01AAA_AB', :barcode,"
        " '991', '221', :pid, 'lending', '2026-12-01 10:00:00+00', '2026-12-01 10:00:00+00')"
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(text(row), {"barcode": "B1", "pid": ""})
            await conn.execute(text(row), {"barcode": "B2", "pid": "231"})
        assert await upgrade(empty_url) == "0005"
        async with engine.connect() as conn:
            states = await conn.execute(
                text("SELECT barcode, state FROM mirrored_items ORDER BY barcode")
            )
            assert [tuple(r) for r in states] == [("B1", "creating"), ("B2", "lending")]
        await asyncio.to_thread(command.downgrade, config, "0003")
        async with engine.connect() as conn:
            states = await conn.execute(text("SELECT state FROM mirrored_items ORDER BY barcode"))
            assert [r[0] for r in states] == ["lending", "lending"]
    finally:
        await engine.dispose()


async def test_P2_revision_0005_scrubs_patron_data_of_an_old_ledger(empty_url: str) -> None:
    """Rule P2: a forwarded request's stored export record keeps only the patron identifier and
    which contact fields it had; a webhook body keeps only what the bridge reads of the SCF
    request's comment. Other rows are left as they were."""
    config = alembic_config(empty_url)
    await asyncio.to_thread(command.upgrade, config, "0004")
    engine = create_ledger_engine(empty_url)
    old_data = {
        "request_id": "R1",
        "request_type": "PATRON_PHYSICAL",
        "barcode": "B1",
        "patron": {
            "name": "Quaxley, Ottoline",
            "identifier": "ab_quax",
            "email": "ottoline.quaxley@p2.example",
            "address": "17 Zebrawood Lane",
        },
        "file_id": 3,
    }
    comment = (
        "Rush Patron: Quaxley, Ottoline, ab_quax, ottoline.quaxley@p2.example, 17 Zebrawood "
        "Lane || request type: HOLD || Internal identifier: R1 {Source Request 01AAA_AB-R1-ab_quax}"
    )
    body = json.dumps(
        {
            "id": "777",
            "action": "REQUEST",
            "event": {"value": "REQUEST_CANCELED"},
            "institution": {"value": "01AAA_RS"},
            "user_request": {"request_id": "S1", "comment": comment, "barcode": "B1X"},
            "webhook_user": {"user": {"first_name": "Ottoline", "contact_info": {"email": []}}},
        }
    ).encode()
    untouched = json.dumps({"id": "778", "action": "LOAN"}).encode()
    request_row = (
        "INSERT INTO forwarded_requests (source_institution, source_request_id, route, status,"
        " first_seen_at, updated_at, attempts, request_data) VALUES (:inst, :rid, 'item_hold',"
        " 'waiting_for_mirror', '2026-12-01 10:00:00+00', '2026-12-01 10:00:00+00', 1, :data)"
    )
    inbox_row = (
        "INSERT INTO inbox_messages (dedupe_key, received_at, body, status, attempts,"
        " available_at) VALUES (:key, '2026-12-01 10:00:00+00', :body, 'done', 1,"
        " '2026-12-01 10:00:00+00')"
    )
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(request_row), {"inst": "01AAA_AB", "rid": "R1", "data": json.dumps(old_data)}
            )
            no_patron = {**old_data, "request_id": "R2", "patron": None}
            await conn.execute(
                text(request_row), {"inst": "01AAA_AB", "rid": "R2", "data": json.dumps(no_patron)}
            )
            await conn.execute(text(inbox_row), {"key": "777", "body": body})
            await conn.execute(text(inbox_row), {"key": "778", "body": untouched})
        assert await upgrade(empty_url) == "0005"
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT source_request_id, request_data FROM forwarded_requests"
                    " ORDER BY source_request_id"
                )
            )
            data = {rid: _json(value) for rid, value in rows}
            bodies = dict(
                tuple(row)
                for row in await conn.execute(text("SELECT dedupe_key, body FROM inbox_messages"))
            )
    finally:
        await engine.dispose()
    assert data["R1"]["patron"] == {
        "identifier": "ab_quax",
        "withheld": ["name", "email", "address"],
    }
    assert {k: v for k, v in data["R1"].items() if k != "patron"} == {
        k: v for k, v in old_data.items() if k != "patron"
    }
    assert data["R2"]["patron"] is None
    scrubbed = bytes(bodies["777"])
    for word in ("Quaxley", "Ottoline", "p2.example", "Zebrawood", "Rush"):
        assert word.encode() not in scrubbed
    document = json.loads(scrubbed)
    assert document["user_request"]["comment"] == (
        "Internal identifier: R1 {Source Request 01AAA_AB-R1-ab_quax}"
    )
    assert "webhook_user" in document
    assert "first_name" not in document["webhook_user"]["user"]
    assert bytes(bodies["778"]) == untouched  # nothing to drop: byte for byte


def _json(value: object) -> dict[str, object]:
    loaded = json.loads(value) if isinstance(value, str) else value
    assert isinstance(loaded, dict)
    return loaded
