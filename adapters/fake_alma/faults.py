"""Fault injection and Alma's governance thresholds, all adjustable while the fake runs.

Per call the gateway asks :meth:`FaultInjector.admit` what happens, in this order:

1. the daily quota (429 ``DAILY_THRESHOLD`` once an institution used it up, until midnight UTC);
2. the per-second threshold (429 ``PER_SECOND_THRESHOLD`` when the institution already had
   ``N`` calls, refused ones included, in the sliding second before this one);
3. scripted faults (``fail_next``: "the next 3 calls to /users answer 503");
4. random faults drawn from a seeded RNG: 5xx at ``error_rate``, a stall at ``stall_rate``,
   a dropped connection at ``drop_rate``.

Then :meth:`FaultInjector.delay` adds the configured latency (and the stall). Time comes from
an injectable clock and waiting from an injectable sleeper, so tests never sleep.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from adapters.fake_alma.clock import Clock, Sleeper, SystemClock

FaultKind = Literal["daily", "per_second", "error", "stall", "drop"]
_KINDS: tuple[str, ...] = ("daily", "per_second", "error", "stall", "drop")
WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class FaultConfig:
    """The knobs. Rates are probabilities per call (0.0–1.0); times are seconds."""

    latency: float = 0.0
    latency_jitter: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    stall_rate: float = 0.0
    stall_seconds: float = 600.0
    drop_rate: float = 0.0
    enforce_thresholds: bool = True
    per_second_threshold: int | None = None
    """Overrides every institution's own threshold (seeded, default 25) when set."""
    daily_quota: int | None = None
    """Overrides every institution's own daily quota when set."""
    institutions: frozenset[str] | None = None
    """Random faults hit only these institutions (None: all)."""
    gateway_errors_as_xml: bool = False
    """Answer unknown-key errors in XML even when JSON was asked for, as Alma's gateway may."""

    def __post_init__(self) -> None:
        for name in ("error_rate", "stall_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        for name in ("latency", "latency_jitter", "stall_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if not self.error_statuses or any(not 500 <= s <= 599 for s in self.error_statuses):
            raise ValueError("error_statuses must be 5xx codes")


@dataclass
class ScriptedFault:
    """A fault for the next ``count`` matching calls."""

    kind: FaultKind
    count: int
    status: int = 500
    institution: str | None = None
    path_contains: str | None = None

    def matches(self, institution: str, path: str) -> bool:
        """Whether this call is one the script targets."""
        if self.institution is not None and self.institution != institution:
            return False
        return self.path_contains is None or self.path_contains in path


@dataclass(frozen=True)
class Decision:
    """What happens to one call: ``kind`` None means it is served normally."""

    kind: FaultKind | None = None
    status: int = 200
    remaining: int = 0


@dataclass
class _Usage:
    day: date | None = None
    used: int = 0
    window: deque[float] = field(default_factory=deque)


class FaultInjector:
    """Decides, per call and per institution, which fault (if any) the fake injects."""

    def __init__(
        self,
        config: FaultConfig | None = None,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        sleeper: Sleeper | None = None,
    ) -> None:
        self.config = config or FaultConfig()
        self.clock: Clock = clock or SystemClock()
        self._sleep: Sleeper = sleeper or asyncio.sleep
        self._rng = random.Random(seed)  # noqa: S311 - fault draws, replayable by seed
        self._usage: dict[str, _Usage] = {}
        self._script: list[ScriptedFault] = []
        self._limits: Callable[[str], tuple[int, int] | None] = lambda _code: None

    # --- runtime configuration ---------------------------------------------------------------

    def configure(self, **changes: Any) -> FaultConfig:
        """Change some knobs now (``configure(error_rate=0.1)``); returns the new config."""
        self.config = replace(self.config, **changes)
        return self.config

    def use_limits(self, limits: Callable[[str], tuple[int, int] | None]) -> None:
        """Where each institution's own (per-second threshold, daily quota) come from; the
        app points this at the state, so changing an institution's limits applies at once."""
        self._limits = limits

    def fail_next(
        self,
        count: int = 1,
        *,
        kind: FaultKind = "error",
        status: int = 500,
        institution: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Make the next ``count`` matching calls fail with ``kind`` (``error`` uses
        ``status``), before any random fault is drawn."""
        if kind not in _KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._script.append(ScriptedFault(kind, count, status, institution, path_contains))

    def clear_script(self) -> None:
        """Drop every scripted fault not yet used."""
        self._script.clear()

    def reset_usage(self, institutions: Iterable[str] | None = None) -> None:
        """Forget calls counted against the thresholds (all institutions by default)."""
        if institutions is None:
            self._usage.clear()
        else:
            for code in institutions:
                self._usage.pop(code, None)

    # --- thresholds ----------------------------------------------------------------------------

    def per_second_threshold(self, institution: str) -> int:
        """Calls admitted per sliding second for this institution."""
        if self.config.per_second_threshold is not None:
            return self.config.per_second_threshold
        own = self._limits(institution)
        return own[0] if own else 25

    def daily_quota(self, institution: str) -> int:
        """Calls per day for this institution."""
        if self.config.daily_quota is not None:
            return self.config.daily_quota
        own = self._limits(institution)
        return own[1] if own else 100_000

    def _usage_for(self, institution: str) -> _Usage:
        usage = self._usage.setdefault(institution, _Usage())
        today = self.clock.now().date()
        if usage.day != today:
            # Alma's daily threshold resets at midnight; the fake uses UTC midnight.
            usage.day = today
            usage.used = 0
        return usage

    def remaining(self, institution: str) -> int:
        """What ``X-Exl-Api-Remaining`` says: calls left today."""
        usage = self._usage_for(institution)
        return max(0, self.daily_quota(institution) - usage.used)

    # --- per-call decisions --------------------------------------------------------------------

    def admit(self, institution: str, path: str) -> Decision:
        """Count the call and decide its fate (synchronous: no other call interleaves)."""
        usage = self._usage_for(institution)
        quota = self.daily_quota(institution)
        if self.config.enforce_thresholds and usage.used >= quota:
            return Decision("daily", 429, 0)
        now = self.clock.now().timestamp()
        window = usage.window
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        # Alma counts every call arriving in the rolling second, refused ones included (A4): a
        # client that keeps knocking keeps the window full.
        window.append(now)
        if self.config.enforce_thresholds and len(window) > self.per_second_threshold(institution):
            return Decision("per_second", 429, max(0, quota - usage.used))
        usage.used += 1
        remaining = max(0, quota - usage.used)
        scripted = self._take_scripted(institution, path)
        if scripted is not None:
            return Decision(scripted.kind, scripted.status, remaining)
        return self._draw(institution, remaining)

    def _take_scripted(self, institution: str, path: str) -> ScriptedFault | None:
        for fault in self._script:
            if fault.matches(institution, path):
                fault.count -= 1
                if fault.count == 0:
                    self._script.remove(fault)
                return fault
        return None

    def _draw(self, institution: str, remaining: int) -> Decision:
        config = self.config
        if config.institutions is not None and institution not in config.institutions:
            return Decision(remaining=remaining)
        # One draw per knob, always in the same order, so a seed replays the same faults.
        error_draw = self._rng.random()
        stall_draw = self._rng.random()
        drop_draw = self._rng.random()
        if error_draw < config.error_rate:
            status = self._rng.choice(config.error_statuses)
            return Decision("error", status, remaining)
        if drop_draw < config.drop_rate:
            return Decision("drop", 0, remaining)
        if stall_draw < config.stall_rate:
            return Decision("stall", 200, remaining)
        return Decision(remaining=remaining)

    async def delay(self, decision: Decision) -> None:
        """Wait the configured latency, plus the stall when the decision is one."""
        seconds = self.config.latency
        if self.config.latency_jitter:
            seconds += self._rng.uniform(0.0, self.config.latency_jitter)
        if decision.kind == "stall":
            seconds += self.config.stall_seconds
        if seconds > 0:
            await self._sleep(seconds)
