"""Shared test helpers: where the reference samples live."""

from __future__ import annotations

from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = REPOSITORY.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The real Alma and Java-app samples beside the repository (../shared/reference)."""
    if not SHARED_REFERENCE.is_dir():
        pytest.fail(f"reference samples not found at {SHARED_REFERENCE}")
    return SHARED_REFERENCE
