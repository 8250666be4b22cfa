"""The two backends of the contract suite, over the same reference-seeded state.

* ``http``: `HttpArchivesSpace` talking to the fake's Starlette app through
  ``httpx.ASGITransport`` (a dropped connection reaches it as the app's `ConnectionResetError`);
* ``memory``: `MemoryArchivesSpace` over the state, no HTTP.

The user and password differ from each other and from every path segment, so that a message
naming the login path (``POST /users/archivist/login``) can be checked to carry no password.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from adapters.aspace.http_client import HttpArchivesSpace
from adapters.aspace.session_calls import ArchivesSpaceSession
from adapters.fake_archivesspace import (
    FakeArchivesSpaceState,
    FaultInjector,
    MemoryArchivesSpace,
    build_state,
    create_fake_archivesspace_app,
)
from application.shared.connections import Secret

BackendName = Literal["http", "memory"]
BACKENDS: tuple[BackendName, ...] = ("http", "memory")
BASE_URL = "http://fake-archivesspace"
USER = "archivist"
PASSWORD = "Pass-Word-4711!"
LIMIT = 4
REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "aspace2alma"


@dataclass
class Backend:
    """One side of the contract: the client, and the fake's state and faults behind it."""

    name: BackendName
    state: FakeArchivesSpaceState
    faults: FaultInjector
    aspace: ArchivesSpaceSession

    def client(self, password: str = PASSWORD, *, concurrency: int = LIMIT) -> ArchivesSpaceSession:
        """Another client of the same kind over the same fake (closed by the caller)."""
        return make_client(self.name, self.state, self.faults, password, concurrency)


def reference_state() -> FakeArchivesSpaceState:
    """The reference samples, served to ``USER`` / ``PASSWORD``."""
    return build_state(reference_dir=REFERENCE, user=USER, password=PASSWORD)


def make_client(
    name: BackendName,
    state: FakeArchivesSpaceState,
    faults: FaultInjector,
    password: str = PASSWORD,
    concurrency: int = LIMIT,
) -> ArchivesSpaceSession:
    """A client of kind ``name`` over ``state`` and ``faults``."""
    if name == "memory":
        return MemoryArchivesSpace(
            state, USER, Secret(password), concurrency=concurrency, faults=faults
        )
    transport = httpx.ASGITransport(app=create_fake_archivesspace_app(state, faults))
    return HttpArchivesSpace(
        BASE_URL, USER, Secret(password), concurrency=concurrency, transport=transport
    )


@asynccontextmanager
async def open_backend(name: BackendName) -> AsyncIterator[Backend]:
    """A fresh reference-seeded backend; its client is closed on exit."""
    state = reference_state()
    faults = FaultInjector()
    aspace = make_client(name, state, faults)
    try:
        yield Backend(name, state, faults, aspace)
    finally:
        await aspace.aclose()
