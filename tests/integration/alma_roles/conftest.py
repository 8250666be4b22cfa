"""The ``roles`` fixture: every contract test runs once per backend, on a fresh state."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.alma_roles.support import BACKENDS, BackendName, Roles, open_roles


@pytest.fixture(params=BACKENDS)
async def roles(request: pytest.FixtureRequest) -> AsyncIterator[Roles]:
    """The in-memory twins, then the HTTP adapters over the fake app."""
    name: BackendName = request.param
    async with open_roles(name) as opened:
        yield opened
