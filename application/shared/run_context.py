"""What a batch workflow sees of its run: `RunContext`, and the `Workflow` shape (rules B1, B2,
B5, B8).

A workflow records each record as soon as it is done (B5): one committed ledger write per
record, so a run killed at any moment keeps everything it finished, and a resume asks
`already_done` instead of calling Alma again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.ports.notify import Attachment
from application.shared.ledger_records import JsonObject, JsonValue
from application.shared.run_errors import RunFailed
from application.shared.run_records import (
    FileDigest,
    FileRole,
    JobRun,
    RecordEntry,
    RecordOutcome,
    RunCounts,
    RunRecord,
)

__all__ = ["ProgressCallback", "RunContext", "RunFailed", "RunProgress", "Workflow"]

_CHUNK = 1 << 20

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunProgress:
    """How far a run has got: its counts so far and, when the workflow said one, a message."""

    run_id: int
    workflow: str
    counts: RunCounts
    message: str | None = None


ProgressCallback = Callable[[RunProgress], None]


class Workflow(Protocol):
    """A batch workflow the `JobRunner` runs: a name, and the work itself (rule B1)."""

    @property
    def name(self) -> str:
        """The workflow's name (`cleanup`, `west-holdings`), as `almabridge run NAME` takes it."""
        ...

    async def run(self, context: RunContext) -> None:
        """Do the work, recording every record through `context`; raise `RunFailed` when a
        missing input stops the whole run (B2)."""
        ...


class RunContext:
    """One run as its workflow sees it: options, output folder, records, inputs and outputs."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        clock: Clock,
        run: JobRun,
        out_dir: Path,
        done: Mapping[tuple[str, str], RunRecord] | None = None,
        earlier_inputs: Mapping[str, tuple[int, str]] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self._ledger = ledger
        self._clock = clock
        self._run = run
        self._out_dir = out_dir
        self._done = dict(done or {})
        self._earlier_inputs = dict(earlier_inputs or {})
        self._on_progress = on_progress
        # This run's own outcomes per (kind, key): counts stay right when a key is recorded again.
        self._outcomes: dict[tuple[str, str], RecordOutcome] = {}
        self._tally: Counter[RecordOutcome] = Counter()
        self._counted_by_ledger = False
        self._attachments: list[Attachment] = []
        self._notes: list[str] = []

    @property
    def run_id(self) -> int:
        """The id of this run in the ledger."""
        return self._run.id

    @property
    def workflow(self) -> str:
        """The workflow's name."""
        return self._run.workflow

    @property
    def options(self) -> Mapping[str, JsonValue]:
        """The run's options as stored (no secrets); a resume reuses its original's (B5)."""
        return self._run.options

    @property
    def dry_run(self) -> bool:
        """Read everything, write outputs to `out_dir` only: no upload, no Alma write (B8)."""
        return self._run.dry_run

    @property
    def out_dir(self) -> Path:
        """The local output folder, created before the workflow starts (B8)."""
        return self._out_dir

    @property
    def ledger(self) -> Ledger:
        """The ledger this run records in: for a workflow that looks after the ledger itself
        (`ledger-retention`, rule P2); every other workflow records through `record`."""
        return self._ledger

    @property
    def resumed_from(self) -> int | None:
        """The run this one resumes (B5), if any."""
        return self._run.resumed_from

    @property
    def counts(self) -> RunCounts:
        """This run's records so far (not those done by the run it resumes)."""
        return RunCounts(
            ok=self._tally[RecordOutcome.OK],
            skipped=self._tally[RecordOutcome.SKIPPED],
            failed=self._tally[RecordOutcome.FAILED],
        )

    def now(self) -> datetime:
        """The runner's clock: stamps and ages are taken from it, not from the system."""
        return self._clock.now()

    async def record(
        self,
        kind: str,
        key: str,
        outcome: RecordOutcome,
        reason: str,
        detail: JsonObject | None = None,
    ) -> None:
        """Record one record's outcome now, committed (B1, B5); a failed one makes the run
        partial and the rest go on (B2). Recording a key again keeps one row, the latest."""
        outcome = RecordOutcome(outcome)
        async with self._ledger.unit_of_work() as uow:
            await uow.runs.record(self._run.id, kind, key, outcome, reason, detail)
            current = await uow.runs.get_run(self._run.id) if self._counted_by_ledger else None
            await uow.commit()
        if current is not None:
            self._take_counts(current.counts)
            self._report(None)
            return
        previous = self._outcomes.get((kind, key))
        if previous is not None:
            self._tally[previous] -= 1
        self._outcomes[(kind, key)] = outcome
        self._tally[outcome] += 1
        self._report(None)

    async def record_many(self, kind: str, entries: Sequence[RecordEntry]) -> None:
        """Record many records of one kind now, as one committed write (B1, B5): for a
        workflow whose records come by the hundred thousand (every Network Id of O1–O7), where
        one commit each would cost more than the work. Counts as `record` of each in turn."""
        async with self._ledger.unit_of_work() as uow:
            await uow.runs.record_many(self._run.id, kind, entries)
            current = await uow.runs.get_run(self._run.id)
            await uow.commit()
        # The ledger's counts, not a key-by-key memory: a million keys would cost more memory
        # than the work itself. From now on `record` reads the counts back as well.
        self._counted_by_ledger = True
        if current is not None:
            self._take_counts(current.counts)
        self._report(None)

    def _take_counts(self, counts: RunCounts) -> None:
        self._tally = Counter(
            {
                RecordOutcome.OK: counts.ok,
                RecordOutcome.SKIPPED: counts.skipped,
                RecordOutcome.FAILED: counts.failed,
            }
        )

    def already_done(self, kind: str, key: str) -> bool:
        """Whether the run being resumed (or one it resumed) recorded this key ok or skipped:
        its Alma reads and writes are not repeated (B5). Always False in a fresh run."""
        return (kind, key) in self._done

    def earlier(self, kind: str, key: str) -> RunRecord | None:
        """The earlier run's ok or skipped record of this key, with its detail: what a workflow
        needs to write the same outputs as an uninterrupted run (B5)."""
        return self._done.get((kind, key))

    def earlier_records(self, kind: str) -> tuple[RunRecord, ...]:
        """The earlier runs' ok or skipped records of one kind, whatever their keys (a loader
        file pushed under another stamp, L7 and B5)."""
        return tuple(record for (k, _), record in self._done.items() if k == kind)

    def earlier_input_names(self) -> tuple[str, ...]:
        """The inputs of the run this one resumes (and those it resumed), by name: what a
        workflow that picks its input by date reads again instead of a newer one (B5)."""
        return tuple(self._earlier_inputs)

    async def add_input(self, name: str, source: bytes | Path) -> str:
        """Name an input of the run with its sha256 (B1); returns the digest.

        A resumed run refuses an input that changed since the run it resumes (B5): its outputs
        could no longer equal an uninterrupted run's.
        """
        digest = await _sha256(source)
        earlier = self._earlier_inputs.get(name)
        if earlier is not None and earlier[1] != digest:
            raise RunFailed(
                f"input {name} changed since run {earlier[0]} (sha256 {earlier[1][:12]}…, now "
                f"{digest[:12]}…); start a new run instead of resuming"
            )
        await self._add_file(FileRole.INPUT, FileDigest(name, digest))
        return digest

    async def add_output(self, name: str, path: Path) -> str:
        """Name an output of the run, already written at `path`, with its sha256 (B1, B3)."""
        digest = await _sha256(path)
        await self._add_file(FileRole.OUTPUT, FileDigest(name, digest))
        return digest

    async def attach(self, path: Path, note: str, media_type: str = "text/plain") -> None:
        """Send the file written at `path` with the run's notification, and `note` (one
        sentence about it) in its text: the rollover report goes to its readers by e-mail (L8,
        B7). Read now, so a later cleanup cannot take it away before the run ends."""
        content = await asyncio.to_thread(path.read_bytes)
        self._attachments.append(Attachment(path.name, content, media_type))
        self._notes.append(note)

    @property
    def attachments(self) -> tuple[Attachment, ...]:
        """The files the run's notification carries (`attach`)."""
        return tuple(self._attachments)

    @property
    def notes(self) -> tuple[str, ...]:
        """The sentences the run's notification adds to its counts (`attach`)."""
        return tuple(self._notes)

    def progress(self, message: str) -> None:
        """Tell the operator where the run is (`reading the CEM file`, `page 3 of 12`)."""
        self._report(message)

    async def _add_file(self, role: FileRole, digest: FileDigest) -> None:
        async with self._ledger.unit_of_work() as uow:
            await uow.runs.add_file(self._run.id, role, digest)
            await uow.commit()

    def _report(self, message: str | None) -> None:
        if self._on_progress is None:
            return
        try:
            self._on_progress(RunProgress(self._run.id, self._run.workflow, self.counts, message))
        except Exception as error:
            # Progress is a courtesy (a closed stderr, a bug in a display): it never fails a run.
            log.debug("progress of run %s not shown: %s", self._run.id, error)


async def _sha256(source: bytes | Path) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    return await asyncio.to_thread(_file_sha256, source)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
