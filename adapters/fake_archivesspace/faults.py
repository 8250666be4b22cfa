"""Faults of the fake ArchivesSpace: latency, scripted 5xx, connection resets, lost sessions and
broken MARCXML, mostly aimed at one resource (rule AS2's retry is per resource).

Per call the fake asks `FaultInjector.decide` first (synchronously, so scripted faults are used
in the order calls arrive), then waits `FaultInjector.delay`. Waiting goes through an injectable
sleeper, so a test can hold calls at a gate instead of sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from adapters.fake_archivesspace.call_log import ResourceKey

FaultKind = Literal["error", "reset", "gone"]
"""``error``: a 5xx with ArchivesSpace's ``{"error": ...}`` body; ``reset``: the connection is
closed without a complete answer; ``gone``: 412 ``SESSION_GONE``, as after a backend restart."""
Endpoint = Literal["login", "repositories", "resources", "marc21", "top_containers", "other"]
Sleeper = Callable[[float], Awaitable[None]]
_KINDS = ("error", "reset", "gone")


@dataclass(frozen=True)
class FaultConfig:
    """Knobs for every call: ``latency`` seconds before each answer."""

    latency: float = 0.0

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError("latency cannot be negative")


@dataclass
class ScriptedFault:
    """A fault for the next ``count`` matching calls."""

    kind: FaultKind
    count: int
    status: int = 500
    resource: ResourceKey | None = None
    endpoint: Endpoint | None = None

    def matches(self, endpoint: Endpoint, resource: ResourceKey | None) -> bool:
        """Whether a call to ``endpoint`` about ``resource`` is one this fault targets."""
        if self.kind == "gone" and endpoint == "login":
            return False  # a login carries no session: it cannot have lost one
        if self.resource is not None and self.resource != resource:
            return False
        return self.endpoint is None or self.endpoint == endpoint


@dataclass(frozen=True)
class Decision:
    """What happens to one call: ``kind`` None means it is served normally."""

    kind: FaultKind | None = None
    status: int = 200


class FaultInjector:
    """Decides which fault (if any) each call gets; shared by the HTTP fake and the twin."""

    def __init__(self, config: FaultConfig | None = None, *, sleeper: Sleeper | None = None):
        self.config = config or FaultConfig()
        self._sleep: Sleeper = sleeper or asyncio.sleep
        self._script: list[ScriptedFault] = []
        self.invalid_xml: set[ResourceKey] = set()
        """Resources whose MARC export is answered as broken XML (200, cut short)."""

    def configure(self, **changes: Any) -> FaultConfig:
        """Change knobs now (``configure(latency=0.05)``); returns the new config."""
        self.config = replace(self.config, **changes)
        return self.config

    def use_sleeper(self, sleeper: Sleeper) -> None:
        """Wait through ``sleeper`` from now on (a test's gate)."""
        self._sleep = sleeper

    def script(
        self,
        kind: FaultKind,
        count: int = 1,
        *,
        status: int = 500,
        resource: ResourceKey | None = None,
        endpoint: Endpoint | None = None,
    ) -> None:
        """Make the next ``count`` matching calls fail with ``kind``."""
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        if kind == "error" and not 500 <= status <= 599:
            raise ValueError(f"an injected error is a 5xx, not {status}")
        self._script.append(ScriptedFault(kind, count, status, resource, endpoint))

    def fail(
        self,
        repo_id: int,
        resource_id: int,
        *,
        status: int = 500,
        count: int = 1,
        endpoint: Endpoint | None = None,
    ) -> None:
        """The next ``count`` calls about the resource answer ``status`` (a 5xx)."""
        self.script(
            "error", count, status=status, resource=(repo_id, resource_id), endpoint=endpoint
        )

    def reset(
        self, repo_id: int, resource_id: int, *, count: int = 1, endpoint: Endpoint | None = None
    ) -> None:
        """The next ``count`` calls about the resource lose their connection mid-answer."""
        self.script("reset", count, resource=(repo_id, resource_id), endpoint=endpoint)

    def lose_sessions(self, count: int = 1) -> None:
        """The next ``count`` calls (any but a login) answer 412 ``SESSION_GONE``."""
        self.script("gone", count)

    def corrupt_marcxml(self, repo_id: int, resource_id: int) -> None:
        """The resource's MARC export is answered from now on as XML that is not well-formed."""
        self.invalid_xml.add((repo_id, resource_id))

    def clear(self) -> None:
        """Drop every scripted fault not yet used and every corrupted export."""
        self._script.clear()
        self.invalid_xml.clear()

    def decide(self, endpoint: Endpoint, resource: ResourceKey | None) -> Decision:
        """The fault of this call, using up one count of the first matching script."""
        for fault in self._script:
            if fault.matches(endpoint, resource):
                fault.count -= 1
                if fault.count == 0:
                    self._script.remove(fault)
                return Decision(fault.kind, fault.status)
        return Decision()

    async def delay(self) -> None:
        """Wait the configured latency (through the sleeper)."""
        if self.config.latency > 0:
            await self._sleep(self.config.latency)
