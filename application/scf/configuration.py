"""The settings in force, and reloading them without ever losing them (rule K2).

The Java app sets its configuration to ``null`` when a reload fails, so every later webhook dies
with a ``NullPointerException`` until someone fixes the file. Here a failed reload leaves the
running settings in place and says why it failed.

The loader is injected (``Callable[[], Awaitable[Settings]]``): the application knows nothing of
files, URLs or JSON. Configuration adapters raise :class:`ConfigurationError` (or a subclass) with
one line per problem; anything else they raise is reported by its type and message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from application.scf.settings import Settings

__all__ = [
    "ConfigurationError",
    "ReloadFailed",
    "ReloadResult",
    "Reloaded",
    "SettingsHolder",
    "SettingsLoader",
    "SettingsNotLoaded",
]

logger = logging.getLogger(__name__)

SettingsLoader = Callable[[], Awaitable[Settings]]


class ConfigurationError(Exception):
    """A configuration that cannot be used, with every problem found (one line each).

    Problems never contain a secret value: adapters are responsible for that, because only they
    know which values were secret.
    """

    def __init__(self, problems: Iterable[str], *, source: str | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        where = f" in {self.source}" if self.source else ""
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        lines = [f"configuration{where} is not usable ({count} {noun}):"]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


class SettingsNotLoaded(RuntimeError):
    """Settings were asked for before any load succeeded."""


@dataclass(frozen=True)
class Reloaded:
    """A reload that succeeded: ``settings`` are now in force."""

    settings: Settings
    previous: Settings | None
    ok: Literal[True] = True


@dataclass(frozen=True)
class ReloadFailed:
    """A reload that failed: ``kept`` (the settings before it, if any) stay in force."""

    error: str
    problems: tuple[str, ...]
    kept: Settings | None
    cause: Exception = field(repr=False, compare=False, default_factory=Exception)
    ok: Literal[False] = False

    def __str__(self) -> str:
        return self.error


ReloadResult = Reloaded | ReloadFailed


class SettingsHolder:
    """Holds the current :class:`Settings`; ``reload()`` replaces them only on success."""

    def __init__(self, loader: SettingsLoader, initial: Settings | None = None) -> None:
        self._loader = loader
        self._current = initial
        self._last_failure: ReloadFailed | None = None
        # Two reloads at once (two admins, or a reload during startup) must not interleave:
        # the later request would otherwise be overwritten by the slower, older one.
        self._lock = asyncio.Lock()

    @property
    def loaded(self) -> bool:
        """Whether any settings are in force."""
        return self._current is not None

    @property
    def current(self) -> Settings:
        """The settings in force; raises :class:`SettingsNotLoaded` before the first success."""
        if self._current is None:
            raise SettingsNotLoaded("no configuration has been loaded yet")
        return self._current

    @property
    def last_failure(self) -> ReloadFailed | None:
        """The most recent failed reload, cleared by the next success (for health reports)."""
        return self._last_failure

    async def reload(self) -> ReloadResult:
        """Load again; on failure keep the settings in force and say why (rule K2)."""
        async with self._lock:
            previous = self._current
            try:
                settings = await self._loader()
            except ConfigurationError as exc:
                failed = ReloadFailed(
                    error=_headline(exc, previous), problems=exc.problems, kept=previous, cause=exc
                )
            except Exception as exc:
                # Any failure of the loader (a bug included) must not drop the running settings.
                # BaseException (cancellation, KeyboardInterrupt) still propagates.
                problem = f"{type(exc).__name__}: {exc}"
                failed = ReloadFailed(
                    error=_headline(exc, previous), problems=(problem,), kept=previous, cause=exc
                )
            else:
                self._current = settings
                self._last_failure = None
                return Reloaded(settings=settings, previous=previous)
            self._last_failure = failed
            logger.warning("%s", failed.error)
            for problem in failed.problems:
                logger.warning("  %s", problem)
            return failed

    async def load(self) -> Settings:
        """Load (at startup) and return the settings; raises when loading fails.

        Unlike :meth:`reload`, failure is an exception here: with nothing to keep, a service
        must not start. Whatever the loader raised is raised again, unchanged.
        """
        result = await self.reload()
        if isinstance(result, Reloaded):
            return result.settings
        raise result.cause


def _headline(exc: BaseException, previous: Settings | None) -> str:
    source = getattr(exc, "source", None)
    where = f" from {source}" if source else ""
    kept = "keeping the settings in force" if previous is not None else "no settings in force"
    return f"configuration reload{where} failed ({kept})"
