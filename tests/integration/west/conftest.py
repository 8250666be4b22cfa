"""Fixtures of the WEST export's tests: every ledger backend (memory, SQLite, PostgreSQL when
ALMABRIDGE_TEST_DATABASE_URL is set) times both ways of reaching the fake Alma (HTTP, memory)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.ledger.conftest import backend, clock
from tests.integration.ledger.support import Backend
from tests.integration.west.support import AlmaName, FakeAlma, Rig, fake_alma

__all__ = ["alma", "backend", "clock", "http_rig", "rig"]


@pytest.fixture(params=["http", "memory"])
async def alma(request: pytest.FixtureRequest) -> AsyncIterator[FakeAlma]:
    """The fake Alma over HTTP (the wiring's workflow), then through the memory twins."""
    name: AlmaName = request.param
    async with fake_alma(name) as opened:
        yield opened


@pytest.fixture
def rig(backend: Backend, alma: FakeAlma, tmp_path: Path) -> Rig:
    """A rig on each ledger backend and each way to Alma."""
    return Rig(backend, alma, tmp_path)


@pytest.fixture
async def http_rig(backend: Backend, tmp_path: Path) -> AsyncIterator[Rig]:
    """A rig over HTTP only, for what only HTTP shows: the fake's call log, its faults, the
    answers a transport can spoil."""
    async with fake_alma("http") as opened:
        yield Rig(backend, opened, tmp_path)
