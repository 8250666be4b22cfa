"""The WEST holdings export, `almabridge run west-holdings` (rules H1–H5, B1–B5, B8).

1. H1: read the MMS ids (a MARC export, a MARCXML file, a list or an Alma set); a source record
   without an id is recorded failed (``input_record``) and the rest go on. No source, or a source
   without a single record, ends the run failed with one sentence (B2).
2. H2: per MMS id, the holdings list, then each holdings record, by ``concurrency`` workers
   taking the ids in input order; the institution's throttle in the Alma client paces the calls
   (B4), so the bound only keeps enough calls in flight to use the rate.
3. H3, H4: normalise, filter (`BibExport`).
4. H5: the kept records and the report rows are appended to the three outputs in MMS id order,
   then holding order, as soon as every id before them is done, so memory stays flat however
   long the input; the files get their final names only when complete (B3).
5. B3: upload the three when configured and not a dry run (B8).

One moment per run (`context.now()`, in the machine's local time, B3) gives the date of the file
names and the 005 stamp.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from application.ports.alma.holdings import HoldingsReader
from application.shared.alma import AlmaStop
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordOutcome
from application.west.bib_export import BibExport, BibResult, ExportRules
from application.west.ports import (
    ExportFiles,
    ExportSink,
    HoldingMarc,
    IdSourceMissing,
    MmsIdSource,
)
from application.west.upload import OutputUpload, UploadFailed
from domain.shared.marc import SourceRecord
from domain.west.holdings_record import (
    DEFAULT_REQUIRED_TAGS,
    ReportRow,
    WestOutputNames,
    clean_mms_ids,
    output_names,
    stamp_005,
)

__all__ = ["INPUT_RECORD", "WEST_HOLDINGS", "ExportHoldings", "WestExportSettings"]

WEST_HOLDINGS = "west-holdings"
"""The workflow's name, as `almabridge run west-holdings` takes it."""

INPUT_RECORD = "input_record"
"""The run-record kind of a source record that gave no MMS id (H1), keyed by its position."""

_PROGRESS_EVERY = 250


@dataclass(frozen=True)
class WestExportSettings:
    """``[west_holdings]`` as one run uses it (H3–H5); stored with the run's options so that a
    resume writes what the killed run would have (B5)."""

    prefix: str = "wau"
    org_code: str | None = None
    stamp_005: bool = False
    require_tags: tuple[str, ...] = DEFAULT_REQUIRED_TAGS


class ExportHoldings:
    """The WEST holdings export (see the module text)."""

    name = WEST_HOLDINGS

    def __init__(
        self,
        source: MmsIdSource,
        holdings: HoldingsReader,
        marc: HoldingMarc,
        files: ExportFiles,
        settings: WestExportSettings,
        *,
        concurrency: int = 8,
        upload: OutputUpload | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be 1 or more, got {concurrency}")
        self._source = source
        self._holdings = holdings
        self._marc = marc
        self._files = files
        self._settings = settings
        self._concurrency = concurrency
        self._upload = upload
        self._zone = zone

    async def run(self, context: RunContext) -> None:
        """Read the ids, export every holding, write the outputs, upload them."""
        moment = context.now().astimezone(self._zone)  # B3: local time; None is this machine's
        names = output_names(self._settings.prefix, moment.date())
        rules = ExportRules(
            org_code=self._settings.org_code,
            stamp=stamp_005(moment) if self._settings.stamp_005 else None,
            require_tags=self._settings.require_tags,
        )
        entries = await self._read(context)
        ids = clean_mms_ids(e.mms_id for e in entries if e.mms_id is not None)
        context.progress(f"{len(ids)} MMS ids to export from {self._source.description}")
        problems = [await _input_problem(context, e) for e in entries if e.mms_id is None]
        paths = await self._write(
            context, names, ids, problems, BibExport(self._holdings, self._marc, rules)
        )
        for name, path in zip(names.all(), paths, strict=True):
            await context.add_output(name, path)
        context.progress(f"wrote {', '.join(names.all())} to {context.out_dir}")
        if self._upload is not None and not context.dry_run:
            await self._send(context, paths)

    async def _read(self, context: RunContext) -> tuple[SourceRecord, ...]:
        context.progress(f"reading the MMS ids of {self._source.description}")
        try:
            found = await self._source.read()
        except IdSourceMissing as missing:
            raise RunFailed(missing.sentence) from None
        except AlmaStop as stop:
            raise RunFailed(f"Alma stopped the run: {stop}") from None
        await context.add_input(found.name, found.content)
        if not found.entries:
            # B2: nothing to export is a missing input, not an ok run with three empty files.
            raise RunFailed(f"{self._source.description} holds no MMS id: nothing to export")
        return found.entries

    async def _write(
        self,
        context: RunContext,
        names: WestOutputNames,
        ids: Sequence[str],
        problems: Sequence[ReportRow],
        bibs: BibExport,
    ) -> tuple[Path, Path, Path]:
        sink = await self._files.open(context.out_dir, names)
        try:
            await sink.add((), problems)  # H5: the input's own failures come first
            await _Ordered(context, bibs, sink, ids, self._concurrency).run()
            return await sink.finish()
        except BaseException:
            await sink.discard()
            raise

    async def _send(self, context: RunContext, paths: Sequence[Path]) -> None:
        assert self._upload is not None
        context.progress(f"uploading the three files to {self._upload.target}")
        try:
            await self._upload.upload(paths)
        except UploadFailed as failed:
            raise RunFailed(
                f"the outputs were written to {context.out_dir} but not uploaded to "
                f"{self._upload.target}: {failed}"
            ) from None
        context.progress(f"uploaded to {self._upload.target}")


async def _input_problem(context: RunContext, entry: SourceRecord) -> ReportRow:
    """H1: a source record without an id is a failed record; the run goes on (B2)."""
    problem = entry.problem or f"record {entry.position} gives no MMS id"
    await context.record(INPUT_RECORD, str(entry.position), RecordOutcome.FAILED, problem)
    return ReportRow("", "", "failed", problem)


class _Ordered:
    """H2 and H5 together: ``concurrency`` workers export the ids in input order; each id's
    result waits until every id before it is written, so the outputs keep input order. At most
    ``window`` ids are taken and not yet written, which keeps memory flat."""

    def __init__(
        self,
        context: RunContext,
        bibs: BibExport,
        sink: ExportSink,
        ids: Sequence[str],
        concurrency: int,
    ) -> None:
        self._context = context
        self._bibs = bibs
        self._sink = sink
        self._ids = ids
        self._queue: Iterator[tuple[int, str]] = enumerate(ids)
        self._workers = min(concurrency, max(1, len(ids)))
        self._window = asyncio.Semaphore(4 * concurrency)
        self._done: dict[int, BibResult] = {}
        self._written = 0
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self._workers):
                    group.create_task(self._work())
        except BaseExceptionGroup as group:
            # One error, as the workflow would have raised it alone: RunFailed's sentence, the
            # daily quota's stop, or a crash's own class for the runner's reason (B2).
            raise _first(group) from None

    async def _work(self) -> None:
        while True:
            await self._window.acquire()
            taken = next(self._queue, None)
            if taken is None:
                self._window.release()
                return
            index, mms_id = taken
            try:
                self._done[index] = await self._bibs.export(mms_id, self._context)
            except AlmaStop as stop:
                raise RunFailed(
                    f"Alma stopped the run at MMS id {mms_id}: {stop}; resume it later with "
                    f"--resume {self._context.run_id}"
                ) from None
            await self._flush()

    async def _flush(self) -> None:
        async with self._lock:
            records = []
            rows = []
            ready = 0
            while self._written + ready in self._done:
                result = self._done.pop(self._written + ready)
                records.extend(result.records)
                rows.extend(result.rows)
                ready += 1
            if not ready:
                return
            await self._sink.add(records, rows)
            before = self._written
            self._written += ready
            for _ in range(ready):
                self._window.release()
            if self._written // _PROGRESS_EVERY > before // _PROGRESS_EVERY:
                self._context.progress(f"{self._written} of {len(self._ids)} MMS ids done")


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error to raise for a failed task group: a RunFailed first, else the first one."""
    leaves: list[BaseException] = []

    def walk(error: BaseException) -> None:
        if isinstance(error, BaseExceptionGroup):
            for inner in error.exceptions:
                walk(inner)
        else:
            leaves.append(error)

    walk(group)
    return next((e for e in leaves if isinstance(e, RunFailed)), leaves[0])
