"""Batch runs and their records in memory (rules B1, B5): the SQL repository's twin."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from adapters.ledger.memory.state import Workspace, json_copy, utc
from application.ports.clock import Clock
from application.shared.ledger_records import JsonObject, JsonValue, LedgerRecordNotFound
from application.shared.run_records import (
    FileDigest,
    FileRole,
    JobRun,
    RecordEntry,
    RecordOutcome,
    RunCounts,
    RunDetail,
    RunRecord,
    RunStatus,
    RunTrigger,
)


class MemoryRunRepository:
    """Batch runs and their records in memory."""

    def __init__(self, workspace: Workspace, clock: Clock) -> None:
        self._workspace = workspace
        self._clock = clock

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
        state = self._workspace.state
        if resumed_from is not None and resumed_from not in state.runs:
            # The SQL ledger's foreign key refuses it too.
            raise LedgerRecordNotFound(f"no run with id {resumed_from}")
        run = JobRun(
            id=state.next_id("job_runs"),
            workflow=workflow,
            trigger=RunTrigger(trigger),
            status=RunStatus.RUNNING,
            started=utc(self._clock.now(), "clock"),
            ended=None,
            counts=RunCounts(),
            options=json_copy(options),
            dry_run=dry_run,
            out_dir=out_dir,
            resumed_from=resumed_from,
        )
        state.runs[run.id] = run
        return run

    async def record(
        self,
        run_id: int,
        kind: str,
        key: str,
        outcome: RecordOutcome,
        reason: str,
        detail: JsonObject | None = None,
    ) -> RunRecord:
        """Record how one record ended and keep the run's counts (idempotent per key)."""
        state = self._workspace.state
        run = self._run(run_id)
        outcome = RecordOutcome(outcome)
        previous = state.run_records.get((run_id, kind, key))
        record = RunRecord(
            run_id=run_id,
            kind=kind,
            key=key,
            outcome=outcome,
            reason=reason,
            detail=json_copy(detail),
            recorded_at=utc(self._clock.now(), "clock"),
        )
        state.run_records[(run_id, kind, key)] = record
        counts = _counted(run.counts, outcome, +1)
        if previous is not None:
            counts = _counted(counts, previous.outcome, -1)
        state.runs[run_id] = replace(run, counts=counts)
        return record

    async def record_many(self, run_id: int, kind: str, entries: Sequence[RecordEntry]) -> None:
        """`record` of each entry in turn (the memory twin has no round trips to save)."""
        self._run(run_id)
        for entry in entries:
            await self.record(run_id, kind, entry.key, entry.outcome, entry.reason, entry.detail)

    async def add_file(self, run_id: int, role: FileRole, digest: FileDigest) -> JobRun:
        """Name an input or output of the run with its sha256; a name given again is replaced."""
        run = self._run(run_id)
        if FileRole(role) is FileRole.INPUT:
            run = replace(run, inputs=_with(run.inputs, digest))
        else:
            run = replace(run, outputs=_with(run.outputs, digest))
        self._workspace.state.runs[run_id] = run
        return run

    async def finish_run(
        self, run_id: int, status: RunStatus, *, reason: str | None = None
    ) -> JobRun:
        """End the run with a final status (not `running`) at the clock's now."""
        if RunStatus(status) is RunStatus.RUNNING:
            raise ValueError("a run finishes as ok, partial or failed, not running")
        run = replace(
            self._run(run_id),
            status=RunStatus(status),
            ended=utc(self._clock.now(), "clock"),
            reason=reason,
        )
        self._workspace.state.runs[run_id] = run
        return run

    async def get_run(self, run_id: int) -> JobRun | None:
        """The run with this id, if any."""
        return self._workspace.state.runs.get(run_id)

    async def records_of(
        self, run_id: int, *, outcomes: Collection[RecordOutcome] | None = None
    ) -> list[RunRecord]:
        """The run's records (with these outcomes), in the order first recorded."""
        wanted = None if outcomes is None else {RecordOutcome(outcome) for outcome in outcomes}
        return [
            record
            for record in self._workspace.state.run_records.values()
            if record.run_id == run_id and (wanted is None or record.outcome in wanted)
        ]

    async def recorded_keys(
        self, run_id: int, *, outcomes: Collection[RecordOutcome] | None = None
    ) -> set[tuple[str, str]]:
        """The (kind, key) pairs the run recorded (with these outcomes): what a resume skips."""
        return {
            (record.kind, record.key) for record in await self.records_of(run_id, outcomes=outcomes)
        }

    async def list_runs(
        self, *, workflow: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[JobRun]:
        """Runs (of one workflow), newest start first."""
        runs = sorted(
            (
                run
                for run in self._workspace.state.runs.values()
                if workflow is None or run.workflow == workflow
            ),
            key=lambda run: (run.started, run.id),
            reverse=True,
        )
        return runs[offset : offset + limit]

    async def run_with_failures(self, run_id: int, *, limit: int = 100) -> RunDetail | None:
        """The run and its first `limit` failed records, None when there is no such run."""
        run = await self.get_run(run_id)
        if run is None:
            return None
        failures = await self.records_of(run_id, outcomes=[RecordOutcome.FAILED])
        return RunDetail(run=run, failures=tuple(failures[:limit]))

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
        since = None if since is None else utc(since, "since")
        until = None if until is None else utc(until, "until")
        state = self._workspace.state
        runs = {run.id for run in state.runs.values() if run.workflow == workflow}
        # Insertion order breaks ties of one moment, as the SQL ledger's ids do.
        failed = [
            (record.recorded_at, position, record)
            for position, record in enumerate(state.run_records.values())
            if record.run_id in runs
            and record.outcome is RecordOutcome.FAILED
            and (since is None or record.recorded_at >= since)
            and (until is None or record.recorded_at < until)
        ]
        failed.sort(key=lambda entry: (entry[0], entry[1]))
        return [record for _, _, record in failed[:limit]]

    def _run(self, run_id: int) -> JobRun:
        run = self._workspace.state.runs.get(run_id)
        if run is None:
            raise LedgerRecordNotFound(f"no run with id {run_id}")
        return run


def _counted(counts: RunCounts, outcome: RecordOutcome, step: int) -> RunCounts:
    if outcome is RecordOutcome.OK:
        return replace(counts, ok=counts.ok + step)
    if outcome is RecordOutcome.SKIPPED:
        return replace(counts, skipped=counts.skipped + step)
    return replace(counts, failed=counts.failed + step)


def _with(files: tuple[FileDigest, ...], digest: FileDigest) -> tuple[FileDigest, ...]:
    return (*(entry for entry in files if entry.name != digest.name), digest)
