"""Ledger backends for the contract suite: in-memory, a migrated SQLite file, a PostgreSQL schema.

PostgreSQL runs only when ALMABRIDGE_TEST_DATABASE_URL is set; once set, an unreachable server
fails the tests instead of skipping them. Each PostgreSQL test gets its own schema, dropped after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.ledger.memory import MemoryLedger
from adapters.ledger.migrate import upgrade
from adapters.ledger.sql import SqlLedger
from application.ports.ledger import Ledger
from tests.integration.ledger.support import Backend, FakeClock, database


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 2026-01-01 09:00 UTC."""
    return FakeClock()


BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]
SQL_BACKENDS = BACKENDS[1:]


@pytest.fixture(params=SQL_BACKENDS)
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An unmigrated SQL database (SQLite file, PostgreSQL schema)."""
    async with database(request.param, tmp_path) as url:
        assert url is not None
        yield url


@pytest.fixture(params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[Backend]:
    """Each ledger backend in turn, migrated and empty."""
    name: str = request.param
    async with database(name, tmp_path) as url:
        if url is None:
            shared = MemoryLedger(clock)
            result = Backend(name, clock, None, lambda: shared)
        else:
            await upgrade(url)
            result = Backend(name, clock, url, lambda: SqlLedger.from_url(url, clock))
        try:
            yield result
        finally:
            await result.close()


@pytest.fixture
def ledger(backend: Backend) -> Ledger:
    """The backend's ledger."""
    return backend.open()
