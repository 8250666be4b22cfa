"""What one items sync did (or, in a dry run, would do), for the caller and the operator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from application.scf.items.item_outcomes import ItemResult


@dataclass(frozen=True)
class FileSummary:
    """One file of the batch: `done`, `failed`, `unfinished` (resumed next time) or `listed`
    (a dry run reads files without claiming them)."""

    name: str
    status: str
    records_total: int
    records_failed: int
    failure_reason: str | None = None


@dataclass(frozen=True)
class PlannedItem:
    """One item of a dry run: what would happen and why."""

    file: str
    barcode: str | None
    result: ItemResult
    message: str


@dataclass(frozen=True)
class ItemSyncSummary:
    """Counts per outcome, the files, and why the sync stopped early (if it did)."""

    institution: str
    dry_run: bool
    files: tuple[FileSummary, ...] = ()
    counts: Mapping[ItemResult, int] = field(default_factory=dict)
    stopped: str | None = None
    """Set when the sync stopped before the end (the daily API quota): files resume next time."""
    plan: tuple[PlannedItem, ...] = ()
    most_in_flight: int = 0
    """The most items handled at once (at least `max_number_of_threads` when there were that
    many; more while the SCF's limiter had calls to spare, rule A4)."""

    def count(self, result: ItemResult) -> int:
        """How many items had this outcome."""
        return self.counts.get(result, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def created(self) -> int:
        return self.count(ItemResult.CREATED)

    @property
    def updated(self) -> int:
        return self.count(ItemResult.UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(ItemResult.UNCHANGED)

    @property
    def deleted(self) -> int:
        return self.count(ItemResult.DELETED)

    @property
    def skipped(self) -> int:
        return self.count(ItemResult.SKIPPED)

    @property
    def failed(self) -> int:
        return self.count(ItemResult.FAILED)


def tally(results: Counter[ItemResult]) -> dict[ItemResult, int]:
    """Counts in the enum's order, zeros included, so summaries always show all six."""
    return {result: results.get(result, 0) for result in ItemResult}
