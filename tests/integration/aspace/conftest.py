"""Fixtures of the aspace2alma tests: every ledger backend (memory, SQLite, PostgreSQL when
ALMABRIDGE_TEST_DATABASE_URL is set) with the fake ArchivesSpace (the reference samples) and
the demo-seeded fake Alma; AS2's waits recorded, never slept."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from application.aspace.export_collection import ExportCollection
from entrypoints import aspace_wiring
from tests.integration.aspace.support import Rig, fake_alma, fake_aspace
from tests.integration.ledger.conftest import backend, clock
from tests.integration.ledger.support import Backend

__all__ = ["backend", "clock", "rig"]


@pytest.fixture
def rig(backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rig:
    """A rig on each ledger backend; the wiring's `ExportCollection` sleeps through the rig's
    `RecordingSleep`."""
    made = Rig(backend, fake_alma(), fake_aspace(), tmp_path)
    patched = functools.partial(ExportCollection, sleep=made.sleep)
    monkeypatch.setattr(aspace_wiring, "ExportCollection", patched)
    return made
