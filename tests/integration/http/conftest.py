"""Fixtures of the HTTP service tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.http.support import Service, running_service


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    """The service with the admin token configured and no worker."""
    async with running_service(tmp_path) as running:
        yield running
