"""The two backends of the role-port contract suites, over the same demo seed and frozen clock.

* ``memory``: the in-memory twins of ``adapters.fake_alma.memory_roles`` (and
  ``memory_set_writes``) over a `FakeAlmaState`;
* ``http``: the ``Http…`` adapters over one `AlmaHttpClient` talking to the fake app through
  ``httpx.ASGITransport``, with the demo seed's API keys.

Each test seeds ``roles.state`` (the state behind either backend) and then calls the port; the
fake's ids are drawn from the seed, so both backends give the same ids, dates and views.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from adapters.alma_http.analytics import HttpAnalyticsReports
from adapters.alma_http.client import AlmaHttpClient, RetryPolicy
from adapters.alma_http.courses import HttpCourseCatalog
from adapters.alma_http.holdings import HttpHoldingsReader
from adapters.alma_http.jobs import HttpJobInstances
from adapters.alma_http.set_writes import HttpItemizedSets
from adapters.alma_http.sets import HttpSetMembers
from adapters.fake_alma import (
    CallRecord,
    FakeAlmaState,
    FaultConfig,
    FaultInjector,
    ManualClock,
    create_fake_alma_app,
    state_from_file,
)
from adapters.fake_alma.memory_roles import (
    MemoryAnalyticsReports,
    MemoryCourseCatalog,
    MemoryHoldingsReader,
    MemoryJobInstances,
    MemorySetMembers,
)
from adapters.fake_alma.memory_set_writes import MemoryItemizedSets
from application.ports.alma.analytics import AnalyticsReports
from application.ports.alma.courses import CourseCatalog
from application.ports.alma.holdings import HoldingsReader
from application.ports.alma.jobs import JobInstances
from application.ports.alma.sets import ItemizedSets, SetMembers
from application.shared.alma import AlmaError
from application.shared.connections import Secret
from tests.conftest import SHARED_REFERENCE

BackendName = Literal["memory", "http"]
BACKENDS: tuple[BackendName, ...] = ("memory", "http")

AB = "01AAA_AB"
CD = "01AAA_CD"
KEYS = {AB: "ab-example-key", CD: "cd-example-key", "01AAA_RS": "scf-example-key"}
GATEWAY_URL = "http://fake-alma"
API = "/almaws/v1"
REFERENCE = SHARED_REFERENCE / "alma-api"

# Retries are the resilience suite's subject; here they only have to be quick if one happens.
FAST_RETRY = RetryPolicy(
    attempts=3,
    budget_seconds=5.0,
    wait_initial=0.001,
    wait_max=0.01,
    wait_jitter=0.0,
    rate_limit_pause=0.01,
)
MAX_POLLS = 5
"""The contract suites' bound on "still loading" answers (the adapters' default is 20)."""


@dataclass
class Roles:
    """One side of the contracts: the port adapters of an institution, and the state behind."""

    name: BackendName
    state: FakeAlmaState
    clock: ManualClock
    client: AlmaHttpClient | None = None

    def _key(self, institution: str) -> Secret:
        return Secret(KEYS[institution])

    def _client(self) -> AlmaHttpClient:
        assert self.client is not None
        return self.client

    def holdings(self, institution: str = AB) -> HoldingsReader:
        if self.name == "memory":
            return MemoryHoldingsReader(self.state, institution)
        return HttpHoldingsReader(self._client(), institution, self._key(institution))

    def sets(self, institution: str = AB) -> SetMembers:
        if self.name == "memory":
            return MemorySetMembers(self.state, institution)
        return HttpSetMembers(self._client(), institution, self._key(institution))

    def set_writes(self, institution: str = AB) -> ItemizedSets:
        if self.name == "memory":
            return MemoryItemizedSets(self.state, institution)
        return HttpItemizedSets(self._client(), institution, self._key(institution))

    def courses(self, institution: str = AB) -> CourseCatalog:
        if self.name == "memory":
            return MemoryCourseCatalog(self.state, institution)
        return HttpCourseCatalog(self._client(), institution, self._key(institution))

    def analytics(self, institution: str = AB, *, max_polls: int = MAX_POLLS) -> AnalyticsReports:
        # No pause between polls: the fake answers "still loading" by count, not by time.
        if self.name == "memory":
            return MemoryAnalyticsReports(
                self.state, institution, max_polls=max_polls, poll_interval=0.0
            )
        return HttpAnalyticsReports(
            self._client(),
            institution,
            self._key(institution),
            max_polls=max_polls,
            poll_interval=0.0,
        )

    def jobs(self, institution: str = AB) -> JobInstances:
        if self.name == "memory":
            return MemoryJobInstances(self.state, institution)
        return HttpJobInstances(self._client(), institution, self._key(institution))

    def calls(self, path_contains: str) -> list[CallRecord]:
        """The calls the fake logged on paths containing this (HTTP only: the twin logs
        nothing, as the call log belongs to the fake's HTTP gateway)."""
        return [r for r in self.state.call_log if path_contains in r.path]


@asynccontextmanager
async def open_roles(name: BackendName) -> AsyncIterator[Roles]:
    """A fresh demo-seeded backend; the HTTP one closes its pooled client on exit."""
    clock = ManualClock()
    state = state_from_file(clock=clock)
    if name == "memory":
        yield Roles(name, state, clock)
        return
    # Thresholds off: the clock is frozen (so that dates match the twin's), which would put
    # every call of a test into one second; thresholds are tested by the resilience suite.
    faults = FaultInjector(FaultConfig(enforce_thresholds=False), clock=clock, seed=state.seed)
    client = AlmaHttpClient(
        GATEWAY_URL,
        rate_per_second=1000,  # the throttle's spacing is real time; keep it negligible here
        retry=FAST_RETRY,
        transport=httpx.ASGITransport(app=create_fake_alma_app(state, faults)),
    )
    try:
        yield Roles(name, state, clock, client)
    finally:
        await client.aclose()


def facts(error: AlmaError) -> tuple[object, ...]:
    """What both backends must agree on about an error (not Alma's random tracking id)."""
    return (
        type(error),
        error.institution,
        error.operation,
        error.http_status,
        error.error_code,
        error.error_message,
        dict(error.subject),
    )


def reference(name: str) -> Path:
    """A real Alma sample of ``shared/reference/alma-api``."""
    path = REFERENCE / name
    assert path.is_file(), f"reference sample missing: {path}"
    return path


@asynccontextmanager
async def recording_client(
    answer: Mapping[str, Any],
) -> AsyncIterator[tuple[AlmaHttpClient, list[httpx.Request]]]:
    """An `AlmaHttpClient` whose every call is answered ``answer`` (JSON) and recorded, to
    check what goes on the wire: encoded paths and queries, the key in the header only (A5)."""
    sent: list[httpx.Request] = []

    def reply(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=dict(answer))

    client = AlmaHttpClient(GATEWAY_URL, retry=FAST_RETRY, transport=httpx.MockTransport(reply))
    try:
        yield client, sent
    finally:
        await client.aclose()
