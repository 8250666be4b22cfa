"""Applies the ledger's Alembic migrations from code: `almabridge db upgrade` and the startup check.

Works from an installed package, where no alembic.ini exists: the configuration is built here,
pointing at the directory of the installed `migrations` package.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

import migrations
from adapters.ledger.database_url import async_database_url
from adapters.ledger.engine import create_ledger_engine

# migrations/env.py reads the URL from here when present (see run_migrations_online there).
URL_ATTRIBUTE = "almabridge_database_url"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the installed migrations and an (async) ledger URL."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # Passed as an attribute, not a main option: configparser would choke on a "%" in a password.
    config.attributes[URL_ATTRIBUTE] = async_database_url(url)
    return config


@cache
def _head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config(None)).get_current_head()
    if head is None:
        raise RuntimeError("the migrations package holds no revision")
    return head


async def head_revision() -> str:
    """The newest revision this almabridge ships (read once from disk, off the event loop)."""
    return await asyncio.to_thread(_head_revision)


async def upgrade(url: str | None) -> str:
    """Migrate the ledger at url (ALMABRIDGE_DATABASE_URL forms) to head; returns the head."""
    config = alembic_config(url)
    # Alembic's command API is synchronous; migrations/env.py runs its own event loop in the
    # worker thread, so this loop stays free while DDL runs.
    await asyncio.to_thread(command.upgrade, config, "head")
    return await head_revision()


async def current_revision(url: str | None) -> str | None:
    """The revision the ledger at url is at, or None when it has no almabridge schema."""
    engine = create_ledger_engine(url)
    try:
        async with engine.connect() as conn:
            return await revision_of_connection(conn)
    finally:
        await engine.dispose()


async def revision_of_connection(conn: AsyncConnection) -> str | None:
    """The revision recorded in alembic_version on this connection, None if there is none."""
    return await conn.run_sync(_revision_of)


def _revision_of(sync_conn: Connection) -> str | None:
    return MigrationContext.configure(sync_conn).get_current_revision()
