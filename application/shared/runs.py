"""`JobRunner`: how every batch workflow runs (rules B1, B2, B5, B7, B8).

One run: take the workflow's lock (a second run of one workflow is refused, not queued), write
the run's row, let the workflow record its records, end the run `ok`, `partial` (a record
failed; skipped ones alone keep it ok) or `failed` (a `RunFailed` sentence, or an unexpected
error's class and message), then tell the workflow's people and record a notifier's failure as an
event without failing the run. A run killed on the way keeps `running` and can be resumed: the
new run reuses its options and output folder and skips the records it already did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.ports.runs import RunNotifications, RunRepository, WorkflowLock
from application.shared.ledger_records import JsonValue, LedgerRecordNotFound
from application.shared.run_context import ProgressCallback, RunContext, Workflow
from application.shared.run_errors import RunCrashed, RunFailed, RunRefused, WorkflowBusy
from application.shared.run_notices import FIRST_FAILURES, announce
from application.shared.run_options import safe_options
from application.shared.run_records import (
    JobRun,
    RecordOutcome,
    RunRecord,
    RunStatus,
    RunTrigger,
)

__all__ = [
    "JobRunner",
    "LockPolicy",
    "RunCrashed",
    "RunFailed",
    "RunRefused",
    "RunResult",
    "WorkflowBusy",
]

_DONE = (RecordOutcome.OK, RecordOutcome.SKIPPED)


class LockPolicy(StrEnum):
    """Which lock keeps two runs of a workflow apart (ADR 0010)."""

    REFUSE_WHEN_BUSY = "refuse when busy"
    """The runner's own lock `workflow:NAME`: a second run is refused with WorkflowBusy (B1)."""
    WORKFLOW_HOLDS_ITS_OWN = "workflow holds its own"
    """The workflow waits for a lock it shares with other work (an SCF member's items sync and
    reconciliation share one per institution): a second JOB_END waits its turn, never refused,
    since refusing would leave the files that arrived meanwhile until the next webhook."""


_REASON_LENGTH = 500


@dataclass(frozen=True)
class RunResult:
    """An ended run, its first failed records, and the notifiers that failed (B1, B7)."""

    run: JobRun
    failures: tuple[RunRecord, ...]
    notify_failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plan:
    trigger: RunTrigger
    options: dict[str, JsonValue]
    dry_run: bool
    out_dir: Path
    resumed_from: int | None = None
    lock: LockPolicy = LockPolicy.REFUSE_WHEN_BUSY


class JobRunner:
    """Runs batch workflows and resumes killed runs (rules B1, B2, B5, B7, B8)."""

    def __init__(
        self,
        ledger: Ledger,
        clock: Clock,
        lock: WorkflowLock,
        notifications: RunNotifications | None = None,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._lock = lock
        self._notifications = notifications
        self._on_progress = on_progress

    async def run(
        self,
        workflow: Workflow,
        *,
        out_dir: Path,
        options: Mapping[str, JsonValue] | None = None,
        dry_run: bool = False,
        trigger: RunTrigger = RunTrigger.CLI,
        lock: LockPolicy = LockPolicy.REFUSE_WHEN_BUSY,
    ) -> RunResult:
        """Run `workflow` once; `options` are stored without secrets for a later resume (B5).

        Raises WorkflowBusy, RunRefused, or RunCrashed (the run recorded failed).
        """
        plan = _Plan(RunTrigger(trigger), safe_options(options), dry_run, out_dir, lock=lock)
        return await self._execute(workflow, plan, {}, {})

    async def resume(self, run_id: int, workflow: Workflow) -> RunResult:
        """Resume run `run_id` as a new run (trigger `resume`): its options, dry-run flag and
        output folder, skipping the keys it, or a run it resumed, recorded ok or skipped (B5).

        `workflow` is built from the original run's options. Raises RunRefused when there is no
        such run, it is another workflow's, or it ended ok; else as `run`.
        """
        async with self._ledger.unit_of_work() as uow:
            original = await uow.runs.get_run(run_id)
            if original is None:
                raise RunRefused(f"--resume {run_id}: the ledger has no run {run_id}")
            if original.workflow != workflow.name:
                raise RunRefused(
                    f"--resume {run_id}: run {run_id} is a run of {original.workflow}, "
                    f"not of {workflow.name}"
                )
            if original.status is RunStatus.OK:
                raise RunRefused(f"--resume {run_id}: run {run_id} ended ok; nothing to resume")
            done, inputs = await _chain(uow.runs, original)
        out_dir = Path(original.out_dir or "out")
        plan = _Plan(
            RunTrigger.RESUME,
            dict(original.options),
            original.dry_run,
            out_dir,
            resumed_from=original.id,
        )
        return await self._execute(workflow, plan, done, inputs)

    async def _execute(
        self,
        workflow: Workflow,
        plan: _Plan,
        done: dict[tuple[str, str], RunRecord],
        inputs: dict[str, tuple[int, str]],
    ) -> RunResult:
        async with self._turn(workflow, plan.lock) as held:
            if not held:
                raise WorkflowBusy(workflow.name)
            out_dir = await _create(plan.out_dir)
            run = await self._start(workflow.name, plan, out_dir)
            context = RunContext(
                ledger=self._ledger,
                clock=self._clock,
                run=run,
                out_dir=out_dir,
                done=done,
                earlier_inputs=inputs,
                on_progress=self._on_progress,
            )
            resumes = "" if run.resumed_from is None else f", resuming run {run.resumed_from}"
            context.progress(f"started{resumes}; output folder {out_dir}")
            crash: Exception | None = None
            reason: str | None = None
            try:
                await workflow.run(context)
            except RunFailed as failed:
                reason = failed.sentence
            except Exception as error:
                crash, reason = error, _describe(error)
            try:
                ended, failures = await self._finish(run.id, reason)
            except Exception:
                if crash is None:
                    raise
                # The ledger failed too; the workflow's own error is the one worth telling.
                raise RunCrashed(run, reason or "") from crash
        notify_failures: tuple[str, ...] = ()
        if self._notifications is not None:
            notify_failures = await announce(
                self._ledger,
                self._notifications,
                ended,
                failures,
                context.attachments,
                context.notes,
            )
        if crash is not None:
            raise RunCrashed(ended, reason or "") from crash
        return RunResult(ended, failures, notify_failures)

    def _turn(self, workflow: Workflow, lock: LockPolicy) -> AbstractAsyncContextManager[bool]:
        if lock is LockPolicy.WORKFLOW_HOLDS_ITS_OWN:
            return nullcontext(True)
        return self._lock.try_exclusive(f"workflow:{workflow.name}")

    async def _start(self, workflow: str, plan: _Plan, out_dir: Path) -> JobRun:
        async with self._ledger.unit_of_work() as uow:
            run = await uow.runs.start_run(
                workflow,
                plan.trigger,
                options=plan.options,
                dry_run=plan.dry_run,
                out_dir=str(out_dir),
                resumed_from=plan.resumed_from,
            )
            await uow.commit()
        return run

    async def _finish(
        self, run_id: int, reason: str | None
    ) -> tuple[JobRun, tuple[RunRecord, ...]]:
        async with self._ledger.unit_of_work() as uow:
            current = await uow.runs.get_run(run_id)
            if current is None:
                raise LedgerRecordNotFound(f"no run with id {run_id}")
            if reason is not None:
                status = RunStatus.FAILED
            elif current.counts.failed:
                status = RunStatus.PARTIAL  # B2: one bad record never stops the run
            else:
                status = RunStatus.OK  # B2: skipped records alone keep a run ok
            ended = await uow.runs.finish_run(run_id, status, reason=reason)
            detail = await uow.runs.run_with_failures(run_id, limit=FIRST_FAILURES)
            await uow.commit()
        return ended, () if detail is None else detail.failures


async def _chain(
    runs: RunRepository, original: JobRun
) -> tuple[dict[tuple[str, str], RunRecord], dict[str, tuple[int, str]]]:
    """The done records and inputs of `original` and the runs it resumed; nearest run wins."""
    done: dict[tuple[str, str], RunRecord] = {}
    inputs: dict[str, tuple[int, str]] = {}
    seen: set[int] = set()
    run: JobRun | None = original
    while run is not None and run.id not in seen:
        seen.add(run.id)
        for record in await runs.records_of(run.id, outcomes=_DONE):
            done.setdefault((record.kind, record.key), record)
        for digest in run.inputs:
            inputs.setdefault(digest.name, (run.id, digest.sha256))
        run = None if run.resumed_from is None else await runs.get_run(run.resumed_from)
    return done, inputs


async def _create(out_dir: Path) -> Path:
    """The output folder, absolute (a resume may start elsewhere) and created when absent (B8)."""
    try:
        return await asyncio.to_thread(_created, out_dir)
    except OSError as error:
        raise RunRefused(
            f"--out {out_dir}: the output folder cannot be created ({error.strerror or error})"
        ) from None


def _created(out_dir: Path) -> Path:
    out_dir = out_dir.absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def _describe(error: Exception) -> str:
    # The class and the first line only: no traceback for operators (B2), and a bounded length.
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text if len(text) <= _REASON_LENGTH else text[: _REASON_LENGTH - 1] + "…"
