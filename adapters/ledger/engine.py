"""Creates the ledger's async engine, with the SQLite settings that make concurrent writers safe."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from adapters.ledger.database_url import async_database_url

# Connections carrying this execution option begin a read snapshot instead of a write lock.
READ_ONLY = "almabridge_read_only"

# How long a SQLite writer waits for the write lock before failing, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 30_000


POOL_SIZE = 10
POOL_OVERFLOW = 20
"""PostgreSQL connections kept, and opened beyond them at busy times. A member webhook in flight
holds one connection for its advisory locks (`Ledger.lock_session`: its member shared, its
barcode, an SCF bib being created, W7) and needs one more now and then for a unit of work; with a
worker's ten messages, lease renewals, a sync's lock and the web endpoint beside them,
SQLAlchemy's default 5 + 10 could run out, and holders waiting for a connection would wait on
each other."""


def create_ledger_engine(url: str | None) -> AsyncEngine:
    """An async engine for a configured ledger URL (see database_url), ready for the ledger."""
    async_url = async_database_url(url)
    if async_url.startswith("sqlite"):
        engine = create_async_engine(async_url)
        _serialize_sqlite_writers(engine)
        return engine
    # A server restart or failover leaves dead pooled connections; test each before use.
    return create_async_engine(
        async_url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
    )


def _serialize_sqlite_writers(engine: AsyncEngine) -> None:
    """WAL, busy timeout, foreign keys, and BEGIN IMMEDIATE for every writing transaction.

    sqlite3's deferred BEGIN takes the write lock only at the first write; a transaction that read
    first then fails at once with "database is locked" instead of waiting (anchors doc §2.3).
    Taking the lock at BEGIN makes writers queue on the busy timeout instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from emitting its own (deferred) BEGIN; the begin hook below does it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            # synchronous stays FULL: a webhook is acknowledged once its inbox row is committed
            # (rule W3), so a commit must survive power loss too.
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # A deferred BEGIN in WAL mode is a consistent snapshot that never blocks writers.
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
