"""Counters and gauges of one running bridge, read by `/metrics` (Prometheus text format).

Standard library only: the use cases and the worker count, the HTTP adapter renders.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    """One value of a metric for one set of labels."""

    name: str
    labels: Labels
    value: float


class Metrics:
    """A process-wide registry; metric names and help texts are declared on first use."""

    def __init__(self) -> None:
        self._values: dict[tuple[str, Labels], float] = {}
        self._help: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()  # the HTTP server may scrape from another thread

    def declare(self, name: str, kind: str, help_text: str) -> None:
        """Name a metric (`counter` or `gauge`) and say what it counts."""
        self._help.setdefault(name, (kind, help_text))

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        """Add to a counter."""
        key = (name, _labels(labels))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + value

    def set(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge."""
        with self._lock:
            self._values[(name, _labels(labels))] = value

    def value(self, name: str, **labels: str) -> float:
        """The current value (0 when never counted)."""
        with self._lock:
            return self._values.get((name, _labels(labels)), 0.0)

    def samples(self) -> list[Sample]:
        """Every value, sorted by name and labels."""
        with self._lock:
            items = sorted(self._values.items())
        return [Sample(name, labels, value) for (name, labels), value in items]

    def help_for(self, name: str) -> tuple[str, str] | None:
        """(kind, help text) of a declared metric."""
        return self._help.get(name)


def _labels(labels: Mapping[str, str]) -> Labels:
    return tuple(sorted(labels.items()))
