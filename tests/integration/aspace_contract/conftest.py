"""The ``backend`` fixture: every contract test runs once per backend, on a fresh state."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.aspace_contract.support import BACKENDS, Backend, BackendName, open_backend


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    """The HTTP adapter over the fake app, then the in-memory twin."""
    name: BackendName = request.param
    async with open_backend(name) as opened:
        yield opened
