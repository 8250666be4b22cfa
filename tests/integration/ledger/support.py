"""Helpers of the ledger contract suite: a fake clock and the databases the backends run on."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy.engine import make_url

from adapters.ledger.database_url import mask_password
from application.ports.ledger import Ledger

TEST_DATABASE_ENV = "ALMABRIDGE_TEST_DATABASE_URL"
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        """The fake current time."""
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move time forward, e.g. advance(seconds=5); returns the new time."""
        self.current += timedelta(**delta)
        return self.current


@dataclass
class Backend:
    """One ledger database under test; open() gives another ledger on the same database."""

    name: str
    clock: FakeClock
    url: str | None
    open_ledger: Callable[[], Ledger]
    opened: list[Ledger] = field(default_factory=list)

    def open(self) -> Ledger:
        """A ledger on this database: a new engine for SQL, the same instance in memory."""
        ledger = self.open_ledger()
        self.opened.append(ledger)
        return ledger

    async def close(self) -> None:
        """Dispose every engine opened."""
        for ledger in self.opened:
            await ledger.close()


def postgres_base_url() -> str | None:
    """The PostgreSQL URL from the environment, or None to skip PostgreSQL."""
    return os.environ.get(TEST_DATABASE_ENV) or None


def libpq_url(url: str) -> str:
    """The URL psycopg itself understands (no SQLAlchemy driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def with_search_path(url: str, schema: str) -> str:
    """The URL connecting with search_path set to schema (psycopg's `options` parameter)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}', safe='')}"


def sqlite_file_url(directory: Path) -> str:
    """A SQLite file URL in directory; the file does not exist yet."""
    return f"sqlite:///{directory / 'ledger.db'}"


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A URL into a fresh, empty PostgreSQL schema of its own, dropped afterwards."""
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"{TEST_DATABASE_ENV} is not set")
    schema = f"almabridge_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await psycopg.AsyncConnection.connect(libpq_url(base), autocommit=True)
    except psycopg.OperationalError as error:
        pytest.fail(f"{TEST_DATABASE_ENV}={mask_password(base)} is unreachable: {error}")
    async with admin:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield with_search_path(base, schema)
        finally:
            await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@asynccontextmanager
async def database(kind: str, directory: Path) -> AsyncIterator[str | None]:
    """An empty database of a kind: None for memory, else its URL."""
    if kind == "memory":
        yield None
    elif kind == "sqlite":
        yield sqlite_file_url(directory)
    else:
        async with postgres_schema() as url:
            yield url
