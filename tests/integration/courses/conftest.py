"""Fixtures of the course-loading tests: every ledger backend (memory, SQLite, PostgreSQL when
ALMABRIDGE_TEST_DATABASE_URL is set) with a freshly seeded fake Alma."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.courses.support import Rig, fake_alma
from tests.integration.ledger.conftest import backend, clock
from tests.integration.ledger.support import Backend

__all__ = ["backend", "clock", "rig"]


@pytest.fixture
def rig(backend: Backend, tmp_path: Path) -> Rig:
    """A rig on each ledger backend, the fake Alma reached over its HTTP app."""
    return Rig(backend, fake_alma(), tmp_path)
