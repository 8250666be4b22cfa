"""Batch runs in the ledger, the lock that keeps one workflow from running twice, and the
notifications of a run's end (rules B1, B2, B5, B7).

`RunRepository` lives on the ledger's unit of work (`uow.runs`): a run's row and its records are
written in the same database as everything else the bridge remembers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from application.ports.notify import Notification
from application.shared.ledger_records import JsonObject, JsonValue
from application.shared.run_records import (
    FileDigest,
    FileRole,
    JobRun,
    RecordEntry,
    RecordOutcome,
    RunDetail,
    RunRecord,
    RunStatus,
    RunTrigger,
)

__all__ = ["RunNotifications", "RunRepository", "WorkflowLock"]


class RunRepository(Protocol):
    """Runs of the batch workflows and the records each touched (rules B1, B5)."""

    async def start_run(
        self,
        workflow: str,
        trigger: RunTrigger,
        *,
        options: Mapping[str, JsonValue] | None = None,
        dry_run: bool = False,
        out_dir: str | None = None,
        resumed_from: int | None = None,
    ) -> JobRun:
        """Write a new run, `running` from the clock's now, with no records yet."""
        ...

    async def record(
        self,
        run_id: int,
        kind: str,
        key: str,
        outcome: RecordOutcome,
        reason: str,
        detail: JsonObject | None = None,
    ) -> RunRecord:
        """Record how one record ended and keep the run's counts.

        Idempotent per (run, kind, key): recording a key again keeps one row, holding the latest
        outcome, reason and detail. LedgerRecordNotFound when there is no such run.
        """
        ...

    async def record_many(self, run_id: int, kind: str, entries: Sequence[RecordEntry]) -> None:
        """`record` for many keys of one kind at once, as one write (a workflow of a million
        records, O1–O7): the same rows and counts as recording each in turn, a key given twice
        keeping its last entry. LedgerRecordNotFound when there is no such run."""
        ...

    async def add_file(self, run_id: int, role: FileRole, digest: FileDigest) -> JobRun:
        """Name an input or output of the run with its sha256; a name given again is replaced."""
        ...

    async def finish_run(
        self, run_id: int, status: RunStatus, *, reason: str | None = None
    ) -> JobRun:
        """End the run with a final status (not `running`) at the clock's now."""
        ...

    async def get_run(self, run_id: int) -> JobRun | None:
        """The run with this id, if any."""
        ...

    async def records_of(
        self, run_id: int, *, outcomes: Collection[RecordOutcome] | None = None
    ) -> list[RunRecord]:
        """The run's records (with these outcomes), in the order first recorded."""
        ...

    async def recorded_keys(
        self, run_id: int, *, outcomes: Collection[RecordOutcome] | None = None
    ) -> set[tuple[str, str]]:
        """The (kind, key) pairs the run recorded (with these outcomes): what a resume skips."""
        ...

    async def list_runs(
        self, *, workflow: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[JobRun]:
        """Runs (of one workflow), newest start first."""
        ...

    async def run_with_failures(self, run_id: int, *, limit: int = 100) -> RunDetail | None:
        """The run and its first `limit` failed records, None when there is no such run."""
        ...

    async def failed_records(
        self,
        workflow: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 1000,
    ) -> list[RunRecord]:
        """Failed records of a workflow's runs recorded since (inclusive) until (exclusive),
        oldest first."""
        ...


class WorkflowLock(Protocol):
    """One run of a workflow at a time across every process sharing the ledger (B1, B6)."""

    def try_exclusive(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Hold the lock `name` for the block if it is free: yields True, or False at once when
        another holder has it (never waits). Released when the holder dies."""
        ...


class RunNotifications(Protocol):
    """Tells a workflow's people how a run ended (B7); the colleague's `Notifications` fits."""

    async def notify(self, notification: Notification) -> Sequence[Exception]:
        """Send on every channel the workflow's route asks for; the channels that failed."""
        ...
