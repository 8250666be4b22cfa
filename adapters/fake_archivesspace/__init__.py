"""A fake ArchivesSpace backend: the calls aspace2alma makes (rule AS2), in ArchivesSpace's own
paths and shapes, over an in-memory state, with injectable faults, so that contract tests,
benchmarks and rehearsals run without a real ArchivesSpace. Entry points:

* :func:`create_fake_archivesspace_app` — the Starlette app over a :class:`FakeArchivesSpaceState`;
* :class:`MemoryArchivesSpace` — the in-memory twin of ``HttpArchivesSpace`` (no HTTP);
* :func:`build_state` / :func:`seed_reference` / :func:`seed_many` — seeding;
* :class:`FaultInjector` / :class:`FaultConfig` — latency, 5xx, resets, lost sessions, bad XML;
* :class:`CallLog` — every call, with the resource it concerns.
"""

from __future__ import annotations

from adapters.fake_archivesspace.app import create_fake_archivesspace_app
from adapters.fake_archivesspace.call_log import CallLog, CallRecord
from adapters.fake_archivesspace.core import FakeArchivesSpace, InjectedReset
from adapters.fake_archivesspace.faults import FaultConfig, FaultInjector
from adapters.fake_archivesspace.memory import MemoryArchivesSpace
from adapters.fake_archivesspace.seed import build_state, seed_many, seed_reference
from adapters.fake_archivesspace.state import (
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    FakeArchivesSpaceState,
)

__all__ = [
    "DEFAULT_PASSWORD",
    "DEFAULT_USER",
    "CallLog",
    "CallRecord",
    "FakeArchivesSpace",
    "FakeArchivesSpaceState",
    "FaultConfig",
    "FaultInjector",
    "InjectedReset",
    "MemoryArchivesSpace",
    "build_state",
    "create_fake_archivesspace_app",
    "seed_many",
    "seed_reference",
]
