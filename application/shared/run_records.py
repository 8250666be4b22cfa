"""What the ledger keeps of a batch run and of each record it touched (rules B1, B2, B5).

A run is one `job_runs` row: workflow, trigger, start and end, status, counts, options, input and
output names with their sha256. Every record the run touched is one `run_records` row keyed by
the record's identity (MMS id, holding id, course code+section, network id, resource URI, path),
with its outcome and a reason naming it. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from application.shared.ledger_records import JsonObject, JsonValue

__all__ = [
    "FileDigest",
    "FileRole",
    "JobRun",
    "RecordEntry",
    "RecordOutcome",
    "RunCounts",
    "RunDetail",
    "RunRecord",
    "RunStatus",
    "RunTrigger",
]


class RunStatus(StrEnum):
    """Where a run stands (B1): `running` until it ends, for ever if its process was killed."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"


class RunTrigger(StrEnum):
    """Who started a run (B1): an operator's command, the scheduler, a replay, a resume (B5), or
    a member's webhook (an SCF sync started by `JOB_END`)."""

    CLI = "cli"
    SCHEDULE = "schedule"
    REPLAY = "replay"
    RESUME = "resume"
    WEBHOOK = "webhook"


class RecordOutcome(StrEnum):
    """How one record of a run ended (B2): a failed one makes the run partial, a skipped one not."""

    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"


class FileRole(StrEnum):
    """Whether a file a run names was read (input) or written (output) by it (B1)."""

    INPUT = "input"
    OUTPUT = "output"


@dataclass(frozen=True)
class FileDigest:
    """A run's input or output: its name and the sha256 of its bytes (B1, B5)."""

    name: str
    sha256: str


@dataclass(frozen=True)
class RunCounts:
    """How many records of a run ended ok, skipped and failed."""

    ok: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        """Every record the run touched."""
        return self.ok + self.skipped + self.failed


@dataclass(frozen=True)
class JobRun:
    """One run of a batch workflow (a `job_runs` row, rule B1).

    `options` never holds a secret (see `application.shared.run_options`); `reason` is the one
    sentence of a failed run (B2); `resumed_from` names the run this one resumes (B5).
    """

    id: int
    workflow: str
    trigger: RunTrigger
    status: RunStatus
    started: datetime
    ended: datetime | None
    counts: RunCounts
    options: Mapping[str, JsonValue] = field(default_factory=dict)
    inputs: tuple[FileDigest, ...] = ()
    outputs: tuple[FileDigest, ...] = ()
    dry_run: bool = False
    out_dir: str | None = None
    resumed_from: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One record a run touched (a `run_records` row): unique per run, kind and key (B1, B5)."""

    run_id: int
    kind: str
    key: str
    outcome: RecordOutcome
    reason: str
    detail: Mapping[str, JsonValue]
    recorded_at: datetime


@dataclass(frozen=True)
class RunDetail:
    """A run with its failed records, for `almabridge runs show` (B1)."""

    run: JobRun
    failures: tuple[RunRecord, ...]


@dataclass(frozen=True)
class RecordEntry:
    """One record of a batch written with `RunRepository.record_many` (B1): its key, outcome,
    a reason naming it, and details."""

    key: str
    outcome: RecordOutcome
    reason: str
    detail: JsonObject | None = None
