"""What one reconciliation run found and did: findings, repair results, counts, progress."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from application.shared.ledger_records import Outcome
from domain.scf.reconciliation import Finding, FindingKind, Repair


@dataclass(frozen=True)
class PublishFile:
    """Expected: the items in remote storage according to a full publishing file (I3, I5)."""

    path: Path

    def describe(self) -> str:
        return f"publishing file {self.path.name}"


@dataclass(frozen=True)
class LedgerSource:
    """Expected: the ledger's live `mirrored_items` rows (mirrored or lending)."""

    def describe(self) -> str:
        return "ledger"


ReconcileSource = PublishFile | LedgerSource


@dataclass(frozen=True)
class RepairResult:
    """How a repair went: OK, or FAILED with Alma's (or the bridge's) reason."""

    outcome: Outcome
    message: str
    error_code: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


@dataclass(frozen=True)
class ReconcileEntry:
    """A finding and, in a `--fix` run, the result of its repair."""

    finding: Finding
    result: RepairResult | None = None

    @property
    def settled(self) -> bool:
        """Repaired (a plan-only finding is not settled: Alma still differs)."""
        return self.result is not None and self.result.ok


@dataclass(frozen=True)
class ReconcileReport:
    """One run of `Reconciliation` for one member institution."""

    institution: str
    source: str
    fix: bool
    items_checked: int
    requests_checked: int
    entries: tuple[ReconcileEntry, ...]
    stopped: str | None = None
    """Why the run stopped early (the daily API quota), or None."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(entry.finding for entry in self.entries)

    @property
    def repaired(self) -> int:
        return sum(entry.settled for entry in self.entries)

    @property
    def failed(self) -> int:
        return sum(
            entry.result is not None and not entry.result.ok for entry in self.entries
        ) + sum(entry.finding.kind is FindingKind.CHECK_FAILED for entry in self.entries)

    @property
    def remaining(self) -> tuple[ReconcileEntry, ...]:
        """Findings Alma or the ledger still shows after this run."""
        return tuple(entry for entry in self.entries if not entry.settled)

    @property
    def clean(self) -> bool:
        """Nothing found, or everything found repaired, and the run went to its end."""
        return self.stopped is None and not self.remaining

    def counts(self) -> dict[str, int]:
        """Findings per kind, most frequent first."""
        return dict(Counter(entry.finding.kind.value for entry in self.entries).most_common())

    def summary(self) -> str:
        """One line: what was checked, what was found, what was done."""
        mode = "fix" if self.fix else "plan only"
        head = (
            f"reconcile {self.institution} (from {self.source}, {mode}): "
            f"{self.items_checked} barcodes and {self.requests_checked} requests checked"
        )
        if not self.entries:
            found = "nothing to repair"
        else:
            kinds = ", ".join(f"{count} {kind}" for kind, count in self.counts().items())
            found = f"{len(self.entries)} findings ({kinds})"
            if self.fix:
                found += f"; {self.repaired} repaired, {len(self.remaining)} remaining"
            elif any(entry.finding.repair is not Repair.NONE for entry in self.entries):
                found += "; nothing changed, run with --fix to repair"
        stopped = f"; stopped early: {self.stopped}" if self.stopped else ""
        return f"{head}, {found}{stopped}"


@dataclass(frozen=True)
class ReconcileProgress:
    """Where a run is: the phase, how far into it, and the findings and repairs so far."""

    phase: str
    done: int
    total: int
    findings: int
    repaired: int = 0
    failed: int = 0

    def describe(self) -> str:
        """`checking barcodes 40/120, 3 findings`."""
        text = f"{self.phase} {self.done}/{self.total}, {self.findings} findings"
        if self.repaired or self.failed:
            text += f", {self.repaired} repaired, {self.failed} failed"
        return text


ProgressCallback = Callable[[ReconcileProgress], None]
