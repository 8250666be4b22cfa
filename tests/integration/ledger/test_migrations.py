"""The SQL ledger's schema: one chain of Alembic revisions, no drift from tables.py, a startup
check."""

from __future__ import annotations

import asyncio
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
    assert head == await head_revision() == "0004"
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
    assert await upgrade(empty_url) == "0004"


def test_the_revisions_that_ship_form_one_chain() -> None:
    import migrations.versions

    versions = Path(migrations.versions.__file__).parent
    assert sorted(path.name for path in versions.glob("*.py") if path.name != "__init__.py") == [
        "0001_ledger.py",
        "0002_alma_call_schedules.py",
        "0003_job_runs.py",
        "0004_creating_mirrors.py",
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
        assert await upgrade(empty_url) == "0004"
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
        assert await upgrade(empty_url) == "0004"
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
        assert await upgrade(empty_url) == "0004"
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
