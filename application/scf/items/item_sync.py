"""The items sync of one member institution: its publishing files into the SCF (rules I1–I13).

`ItemSync(...).run(institution)` claims and records the institution's files (`FileBatches`,
I1), unpacks each into a folder of its own (I2), streams its items (I3) through a bounded
pipeline (`max_number_of_threads` items in flight, one barcode at a time, in file order), lets
`ItemMirroring` decide and act on each (I4–I12) and records every outcome with its
`mirrored_items` change in one unit of work (I13, P1). A file that cannot be unpacked or parsed
is finished as failed with the reason and the batch goes on; a file whose items were not all
attempted, or one of whose items failed only because Alma was unavailable (a transient error
after the adapter's retries), stays unfinished and is processed again next time (I1).

One sync per institution at a time (`InstitutionLocks`); institutions run in parallel. The daily
API quota (`QuotaExhausted`, an `AlmaStop`) stops the institution's sync: no further item is
attempted and the files not completed stay unfinished, to resume once the quota resets.

`dry_run=True` claims nothing and writes nothing, neither to Alma nor to the ledger: it reads the
files in place and reports, per item, what would happen.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from contextlib import suppress
from pathlib import Path

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.institution_locks import (
    ITEM_SYNC_LOCKS,
    InstitutionLocks,
    items_sync_lock,
)
from application.scf.items.item_mirroring import mirroring_for
from application.scf.items.item_outcomes import ItemResult, record_outcome
from application.scf.items.item_pipeline import FileRun, ItemPipeline, Pacing
from application.scf.items.item_run_records import (
    FILE_RECORD,
    ITEM_RECORD,
    RUN_OUTCOMES,
    file_record,
)
from application.scf.items.item_sources import ItemFile, ItemSources
from application.scf.items.item_sync_summary import FileSummary, ItemSyncSummary, PlannedItem, tally
from application.scf.items.transit_loans import LoanRetry, TransitLoans
from application.scf.members import member_code
from application.scf.ports import FailureReports, PublishingFiles
from application.scf.reports import ReportName, ReportRow
from application.scf.settings import Settings
from application.scf.sync_end import record_sync_end
from application.shared.alma import AlmaStop, TransientAlmaError
from application.shared.files import FileError, TransferError
from application.shared.ledger_records import JsonValue, Outcome
from application.shared.run_context import RunContext
from domain.scf.items.decisions import is_delete_file
from domain.scf.items.published import PublishedItem

__all__ = ["ItemSync", "ItemSyncSummary"]

log = logging.getLogger(__name__)

ITEMS_IN_FLIGHT_PER_ALLOWED_CALL = 4
"""At most this many items in flight per call a second Alma allows the SCF (100 at 25/s): a bound,
not a target; the pacing adds items only while the SCF's limiter has calls to spare. Measured
(bench/sync_throughput.py, new items): a bound of 2 per call a second held the SCF at 0.91 of
its threshold, because items waiting on their bib's creation hold their places."""


class ItemSync:
    """Mirrors a member's remote-storage items into the SCF (the items half of JOB_END)."""

    def __init__(
        self,
        *,
        settings: Settings,
        alma: AlmaDirectory,
        ledger: Ledger,
        files: FileTransfer,
        publishing: PublishingFiles,
        reports: FailureReports,
        clock: Clock,
        work_dir: Path,
        loan_retry: LoanRetry | None = None,
        locks: InstitutionLocks | None = None,
    ) -> None:
        self.settings = settings
        self.alma = alma
        self.ledger = ledger
        self.files = files
        self.publishing = publishing
        self.reports = reports
        self.clock = clock
        self.work_dir = work_dir
        self._loan_retry = loan_retry
        self._locks = locks or ITEM_SYNC_LOCKS

    async def run(
        self, institution: str, *, dry_run: bool = False, records: RunContext | None = None
    ) -> ItemSyncSummary:
        """Process every file waiting for this institution; a dry run only reports.

        With `records` (the run the `JobRunner` opened), every item and file is also a run
        record as soon as it is done (B1): what `almabridge runs show` lists.
        """
        code = member_code(self.settings.consortium, institution)
        if dry_run:
            return await _Batch(self, code, self._loan_retry, records, dry_run=True).run()
        # One sync of a member at a time in this process, then across every process sharing
        # the ledger (A4: several workers on PostgreSQL).
        async with self._locks.alone(self.ledger, code, items_sync_lock(code)):
            return await _Batch(self, code, self._loan_retry, records, dry_run=False).run()


class _Batch:
    """One run of the sync: its caches, pipeline, tallies and files."""

    def __init__(
        self,
        sync: ItemSync,
        institution: str,
        loan_retry: LoanRetry | None,
        records: RunContext | None,
        *,
        dry_run: bool,
    ) -> None:
        settings = sync.settings
        remote_storage = settings.consortium.remote_storage
        scf = sync.alma.gateway(remote_storage.institution)
        self._ledger = sync.ledger
        self._publishing = sync.publishing
        self._reports = sync.reports
        self._clock = sync.clock
        self._inst = institution
        self._dry_run = dry_run
        self._records = records
        self._ignore_deletes = settings.consortium.ignore_delete_files
        self._sources = ItemSources(
            sync.ledger,
            sync.files,
            sync.work_dir,
            settings.file_server.main_folder,
            institution,
            dry_run=dry_run,
        )
        self._mirroring = mirroring_for(
            sync.alma,
            sync.ledger,
            settings.consortium,
            institution,
            TransitLoans(scf, remote_storage, loan_retry),
            dry_run=dry_run,
        )
        # At least the configured thread count in flight, more while the SCF's limiter wants
        # more calls (A4): that count was meant for the Java app's file threads.
        self._pacing = Pacing(
            floor=settings.max_number_of_threads,
            most=max(
                settings.max_number_of_threads,
                ITEMS_IN_FLIGHT_PER_ALLOWED_CALL * settings.alma_rate_limit_per_second,
            ),
            institution=remote_storage.institution,
            pacing=sync.alma,
            step_seconds=1 / settings.alma_rate_limit_per_second,
        )
        self._results: Counter[ItemResult] = Counter()
        self._plan: dict[int, PlannedItem] = {}
        self._files: dict[int, FileSummary] = {}
        self._stopped: AlmaStop | None = None

    async def run(self) -> ItemSyncSummary:
        pipeline: ItemPipeline | None = None
        try:
            files = await self._sources.files()
            try:
                async with asyncio.TaskGroup() as group:
                    pipeline = ItemPipeline(group, self._pacing, self._handle)
                    for position, file in enumerate(files):
                        run = FileRun(file.name, file.claimed)
                        await self._read(file, position, run, pipeline)
                        group.create_task(self._complete(run, position, file))
            except BaseExceptionGroup as failure:
                # A ledger or programming failure, not an item's: surface the first as itself.
                raise failure.exceptions[0] from failure
        finally:
            await self._sources.close()
        summary = ItemSyncSummary(
            institution=self._inst,
            dry_run=self._dry_run,
            files=tuple(self._files[p] for p in sorted(self._files)),
            counts=tally(self._results),
            stopped=str(self._stopped) if self._stopped else None,
            plan=tuple(self._plan[p] for p in sorted(self._plan)),
            most_in_flight=pipeline.most_running if pipeline else 0,
        )
        if not self._dry_run:
            await self._record_end(summary)
        return summary

    # ---- reading ---------------------------------------------------------------------------

    async def _read(
        self, file: ItemFile, position: int, run: FileRun, pipeline: ItemPipeline
    ) -> None:
        """Feed the file's items to the pipeline; a broken file ends as the run's failure."""
        try:
            if self._stopped is not None:
                run.incomplete = True
                return
            local = await self._sources.local_copy(file, position)
            into = self._sources.unpack_dir(file, position)
            await self._sources.discard(into)  # a crashed run's half extraction
            for xml in await self._publishing.unpack(local, into):
                if self._ignore_deletes and is_delete_file(xml.name):
                    await self._ignored_delete_file(run, xml)
                    continue
                await self._feed(xml, run, pipeline)
                if self._stopped is not None:
                    run.incomplete = True
                    return
        except TransferError as error:
            # The claimed file is still in OLD/ and the ledger: the next sync fetches it again.
            log.warning("items sync %s: cannot fetch %s: %s", self._inst, file.name, error)
            run.incomplete = True
            run.failure = str(error)
        except FileError as error:  # ArchiveRefused, MalformedFile (I2)
            run.failure = str(error)
        finally:
            run.read_to_end()

    async def _feed(self, xml: Path, run: FileRun, pipeline: ItemPipeline) -> None:
        stream = self._publishing.read_items(xml, self._inst)
        try:
            async for item in stream:
                if self._stopped is not None:
                    break
                await pipeline.submit(item, run)
        finally:
            # Leaving early must stop the parser now, not whenever the generator is collected.
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    async def _ignored_delete_file(self, run: FileRun, xml: Path) -> None:
        """I4: with ignore_delete_files a `_delete` file is recorded and skipped as a whole."""
        if self._dry_run:
            return
        async with self._ledger.unit_of_work() as uow:
            await uow.events.append(
                "file.skip",
                Outcome.SKIPPED,
                institution=self._inst,
                message=f"{xml.name}: delete file ignored (ignore_delete_files)",
                file_id=run.file_id,
            )
            await uow.commit()

    # ---- one item --------------------------------------------------------------------------

    async def _handle(self, item: PublishedItem, run: FileRun, position: int) -> None:
        if self._stopped is not None:
            run.incomplete = True  # not attempted: the file is processed again next time
            return
        try:
            outcome = await self._mirroring.mirror(item)
        except AlmaStop as error:
            self._stop(error)
            run.incomplete = True
            return
        if self._dry_run:
            planned = PlannedItem(run.name, item.barcode, outcome.result, outcome.message)
            self._plan[position] = planned
        else:
            await record_outcome(self._ledger, self._reports, self._clock, outcome, run.file_id)
        if self._records is not None:
            key = item.barcode or f"{run.name} #{position}"
            await self._records.record(
                ITEM_RECORD, key, RUN_OUTCOMES[outcome.result], outcome.message
            )
        self._results[outcome.result] += 1
        if outcome.result is ItemResult.FAILED:
            run.failed += 1
        if isinstance(outcome.error, AlmaStop):
            self._stop(outcome.error)
            run.incomplete = True
        elif isinstance(outcome.error, TransientAlmaError):
            # Alma was unavailable beyond the adapter's retry budget: the item is not lost with
            # a finished file (Alma publishes it again only when it changes), the file stays
            # unfinished and the whole file is processed again (I1), cheaply for done items.
            run.incomplete = True

    def _stop(self, error: AlmaStop) -> None:
        if self._stopped is None:
            log.warning("items sync %s stopped: %s", self._inst, error)
            self._stopped = error

    # ---- files and the end -----------------------------------------------------------------

    async def _complete(self, run: FileRun, position: int, file: ItemFile) -> None:
        """Once every item of the file is handled: finish it (I1), unless it must resume."""
        await run.wait()
        status = "listed" if self._dry_run else "unfinished"
        if not self._dry_run and not run.incomplete and run.file is not None:
            await self._sources.batches.finish(
                run.file,
                records_total=run.total,
                records_failed=run.failed,
                failure_reason=run.failure,
            )
            status = "failed" if run.failure else "done"
            if run.failure:
                await self._report(None, f"Failed to handle file {run.name}: {run.failure}")
        if status != "unfinished":
            await self._sources.discard(self._sources.unpack_dir(file, position))
        self._files[position] = FileSummary(run.name, status, run.total, run.failed, run.failure)
        if self._records is not None:
            await self._records.record(FILE_RECORD, run.name, *file_record(self._files[position]))

    async def _record_end(self, summary: ItemSyncSummary) -> None:
        counts: dict[str, JsonValue] = {result.value: n for result, n in summary.counts.items()}
        stopped = self._stopped
        await record_sync_end(
            self._ledger,
            "items.sync",
            self._inst,
            done=f"{len(summary.files)} files, {summary.total} items",
            stopped=stopped,
            details={"counts": counts, "files": [f.name for f in summary.files]},
            error_code=stopped.error_code if stopped else None,
        )
        if stopped is not None:
            await self._report(None, f"Items sync stopped: {stopped}")

    async def _report(self, barcode: str | None, message: str) -> None:
        row = ReportRow(ReportName.ITEMS, self._clock.now(), barcode, self._inst, message)
        with suppress(OSError):  # the CSV report is a courtesy; the ledger has the facts
            await self._reports.append(row)
