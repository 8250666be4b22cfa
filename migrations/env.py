"""Alembic environment of the ledger: runs from alembic.ini or from adapters.ledger.migrate.

The URL comes, in order, from the configuration attribute set by adapters.ledger.migrate, the
`sqlalchemy.url` option of an alembic.ini, or ALMABRIDGE_DATABASE_URL (default: almabridge.db).
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from adapters.ledger.database_url import async_database_url, configured_database_url
from adapters.ledger.engine import create_ledger_engine
from adapters.ledger.migrate import URL_ATTRIBUTE
from adapters.ledger.tables import metadata

config = context.config
target_metadata = metadata

# An arbitrary constant: the advisory lock that keeps two PostgreSQL upgrades from racing.
_PG_MIGRATION_LOCK = 0x616C6D61  # "alma"


def _database_url() -> str:
    given = config.attributes.get(URL_ATTRIBUTE) or config.get_main_option("sqlalchemy.url")
    return async_database_url(given) if given else configured_database_url()


def run_migrations_offline() -> None:
    """Print the SQL instead of running it (`alembic upgrade head --sql`)."""
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def _migrate(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async_migrations() -> None:
    engine = create_ledger_engine(_database_url())
    try:
        # One transaction for the whole upgrade: all of it lands or none (SQLite included, whose
        # BEGIN IMMEDIATE also makes a concurrent upgrade wait and then find nothing to do).
        async with engine.begin() as connection:
            await connection.run_sync(_migrate)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Migrate over an async engine, in an event loop of this (worker or CLI) thread."""
    connection = config.attributes.get("connection")
    if connection is not None:
        # A caller that already holds a synchronous connection (e.g. inside run_sync).
        _migrate(connection)
        return
    asyncio.run(_run_async_migrations())


if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
