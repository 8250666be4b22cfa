"""Forwarding a member's remote-storage requests to the SCF (rules R1–R8), one institution a run.

`run` serves a requests `JOB_END`: claim the institution's request files (R1), read each one
whole (R2), then plan, carry out and record every request (R3–R8, `request_processing`).

- A file is finished `done` once every request in it is settled. A request that failed on a
  transient Alma error (5xx, timeout, rate limit) after the adapter's own retries (A3) is tried
  again at the end of the run, after a short pause, up to `TransientRetry.passes` more times
  (each try is a ledger attempt and event, the retries with their `pass`). One still failing
  then keeps its file open: the next `run` or `retry_waiting` offers the file again, and R6 lets
  only the unsettled requests through. After `RETRY_LIMIT` runs of attempts the request is parked
  as failed and stops holding the file; `replay` retries it on an operator's demand, from the
  data the ledger kept. A transient failure never cancels anything (R7).
- A malformed file (R1, R2) is finished `failed`. It is read whole before anything is done, so
  the requests before the fault are known complete: they are forwarded (their patrons would
  otherwise be lost, as the Java app lost them), but nothing is cancelled — a request whose
  decision cancels, or a patron digitization whose success would switch the source request off,
  is parked as failed and reported instead.
- A daily quota spent at the member or the SCF stops the run; every file stays open.
- `dry_run=True` lists the files without claiming them, downloads them to a scratch folder that
  is removed afterwards, and plans each request from reads only: Alma and the ledger are not
  written, and the summary says what a run would do.

`retry_waiting` runs after the institution's items sync: requests waiting for their mirror are
planned again (forwarded once the mirror exists, cancelled once `request_grace_hours` have passed
since they were first seen, R7), then the institution's open request files are processed again.

Each real `run` ends with one `requests.sync` event (like ItemSync's `items.sync`): how many files
and requests, the count of each outcome and the files' names, for /health and the staff page;
outcome failed when the run stopped short on a spent quota.

Requests are handled one at a time in file order: a requests file holds a few hundred requests at
most, each needs a handful of calls, and the institution's rate limiter is the bound anyway.
One run per institution at a time per `RequestForwarding` (keep one per bridge).
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.file_batches import FileBatches, FileToProcess, member_folder
from application.scf.library_names import LibraryNames
from application.scf.ports import FailureReports, RequestFiles
from application.scf.requests.outcomes import Action, ForwardingSummary, RequestOutcome
from application.scf.requests.plans import Planner
from application.scf.requests.processing import RequestProcessor
from application.scf.requests.records import RequestRecorder
from application.scf.requests.request_data import request_from_json
from application.scf.settings import Settings
from application.scf.sync_end import record_sync_end
from application.shared.files import FileError, MalformedFile
from application.shared.ledger_records import JsonValue, Outcome, RequestStatus, TransferKind
from domain.scf.requests.routing import RemoteStorageRequest

log = logging.getLogger(__name__)

REQUESTS_SYNC = "requests.sync"
"""The one event of each real `run`: its files and outcome counts (the run's summary)."""

_COUNTED = (
    Action.FORWARDED,
    Action.WAITING,
    Action.CANCELLED,
    Action.FAILED,
    Action.ALREADY_HANDLED,
)
"""The outcomes a real run can have, each counted in `requests.sync` (zeros included)."""


@dataclass(frozen=True)
class TransientRetry:
    """How a run tries again the requests that failed only because Alma was unavailable.

    Such a request (its call used up the adapter's retries on 5xx, timeouts, dropped connections
    or 429 `PER_SECOND_THRESHOLD`s) is tried again once the run's other requests are done, up to
    `passes` more times. Before the n-th extra pass the run waits `wait_initial * 2**(n-1)`
    seconds, at most `wait_max`, plus up to `wait_jitter` (spreading the workers that met the
    same outage). Each try plans the request afresh, so what an earlier try may have placed is
    found, not placed twice (R6). A refusal is not retried, a spent daily quota stops the run.
    """

    passes: int = 2
    wait_initial: float = 1.0
    wait_max: float = 10.0
    wait_jitter: float = 0.5
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.passes < 0 or min(self.wait_initial, self.wait_max, self.wait_jitter) < 0:
            raise ValueError("passes and waits cannot be negative")

    def pause(self, retry: int) -> float:
        """Seconds to wait before the retry-th extra pass (1-based)."""
        exponent = min(max(retry - 1, 0), 64)
        base = min(self.wait_max, self.wait_initial * 2.0**exponent)
        return base + self.wait_jitter * self.random()


@dataclass
class _Tried:
    """One request of the run and its latest outcome."""

    request: RemoteStorageRequest
    file_id: int | None
    outcome: RequestOutcome
    malformed: bool = False


@dataclass
class _ReadFile:
    """A claimed file, read, with its requests tried once (`_first_pass`)."""

    file: FileToProcess
    total: int
    fault: MalformedFile | None
    tried: list[_Tried]

    @property
    def transient(self) -> int:
        """Requests whose latest try failed transiently and may be tried again."""
        return sum(t.outcome.retry_later and not t.outcome.quota_exhausted for t in self.tried)


class _RequestFiles(FileBatches):
    """The requests folder's batches, plus the open files alone (without claiming new ones)."""

    def __init__(
        self,
        ledger: Ledger,
        files: FileTransfer,
        work_dir: Path,
        main_folder: str,
        institution: str,
    ) -> None:
        super().__init__(ledger, files, work_dir, main_folder, institution, TransferKind.REQUESTS)

    async def unfinished(self) -> list[FileToProcess]:
        async with self._ledger.unit_of_work() as uow:
            records = await uow.files.list_unfinished(self.institution, self.kind)
        files = [FileToProcess(record, Path()) for record in records]
        return [FileToProcess(f.record, self._local_path(f.name, str(f.record.id))) for f in files]


class RequestForwarding:
    """Forwards the remote-storage requests of member institutions to the SCF."""

    def __init__(
        self,
        *,
        settings: Settings,
        alma: AlmaDirectory,
        ledger: Ledger,
        files: FileTransfer,
        request_files: RequestFiles,
        reports: FailureReports,
        clock: Clock,
        work_dir: Path,
        libraries: LibraryNames | None = None,
        retry: TransientRetry | None = None,
    ) -> None:
        self._ledger = ledger
        self._files = files
        self._request_files = request_files
        self._work_dir = work_dir
        self._main_folder = settings.file_server.main_folder
        consortium = settings.consortium
        self._libraries = libraries or LibraryNames(alma, clock)
        self._retry = retry or TransientRetry()
        self._processor = RequestProcessor(
            alma,
            ledger,
            clock,
            consortium.remote_storage,
            Planner(
                alma,
                ledger,
                clock,
                consortium,
                self._libraries,
                grace_hours=settings.request_grace_hours,
            ),
            RequestRecorder(ledger, reports, clock, attempts_per_run=1 + self._retry.passes),
        )
        self._locks: dict[str, asyncio.Lock] = {}

    def _batches(self, institution: str) -> _RequestFiles:
        return _RequestFiles(
            self._ledger, self._files, self._work_dir, self._main_folder, institution
        )

    def _lock(self, institution: str) -> asyncio.Lock:
        return self._locks.setdefault(institution.casefold(), asyncio.Lock())

    async def run(self, institution: str, *, dry_run: bool = False) -> ForwardingSummary:
        """Process the institution's request files: one requests `JOB_END` (R1)."""
        if dry_run:
            return await self._dry_run(institution)
        async with self._lock(institution):
            summary = ForwardingSummary(institution)
            batches = self._batches(institution)
            files = await batches.claim_all()
            await self._process_files(batches, files, summary)
            log.info("requests run: %s", summary)
            # A run stopped by a spent quota leaves its later files unopened: not named.
            await self._record_end(summary, [file.name for file in files[: summary.files]])
            return summary

    async def retry_waiting(self, institution: str) -> ForwardingSummary:
        """After the institution's items sync: retry waiting requests and open files (R7)."""
        async with self._lock(institution):
            summary = ForwardingSummary(institution)
            async with self._ledger.unit_of_work() as uow:
                waiting = await uow.requests.list_waiting(institution)
            tried: list[_Tried] = []
            for row in waiting:
                request, file_id = request_from_json(row.request_data)
                request = _with_id(request, row.source_request_id)
                outcome = await self._processor.handle(institution, request, file_id, row)
                summary.add(outcome)
                tried.append(_Tried(request, file_id, outcome))
                if outcome.quota_exhausted:
                    summary.stopped = outcome.reason
                    return summary
            batches = self._batches(institution)
            await self._process_files(batches, await batches.unfinished(), summary, tried)
            log.info("requests retry: %s", summary)
            return summary

    async def replay(self, institution: str, request_id: str) -> RequestOutcome | None:
        """Retry one failed or waiting request from its ledger data; None when never seen."""
        async with self._lock(institution):
            async with self._ledger.unit_of_work() as uow:
                row = await uow.requests.get(institution, request_id)
            if row is None:
                return None
            if row.status in (RequestStatus.FORWARDED, RequestStatus.CANCELLED):
                return RequestOutcome(
                    institution,
                    request_id,
                    Action.ALREADY_HANDLED,
                    f"already {row.status.value} (R6): not sent again",
                    barcode=row.barcode,
                )
            request, file_id = request_from_json(row.request_data)
            request = _with_id(request, request_id)
            return await self._processor.handle(institution, request, file_id, row)

    async def _process_files(
        self,
        batches: _RequestFiles,
        files: list[FileToProcess],
        summary: ForwardingSummary,
        earlier: Iterable[_Tried] = (),
    ) -> None:
        """Each file once, finished at once when nothing in it failed transiently; then the
        in-run retries of those that did (and of `earlier` requests of the run), and only then
        are their files finished or left open. A spent quota stops it all: files stay open."""
        held: list[_ReadFile] = []
        for file in files:
            summary.files += 1
            read = await self._first_pass(batches, file, summary)
            if read is None:
                continue
            if summary.stopped or read.transient:
                held.append(read)
            else:
                await self._finish(batches, read, summary)
            if summary.stopped:
                break
        if not summary.stopped:
            tried = [*earlier, *(t for read in held for t in read.tried)]
            await self._retry_transient(batches.institution, tried, summary)
        for read in held:
            if summary.stopped or read.transient:
                await self._leave_open(batches.institution, read, summary)
            else:
                await self._finish(batches, read, summary)

    async def _first_pass(
        self, batches: _RequestFiles, file: FileToProcess, summary: ForwardingSummary
    ) -> _ReadFile | None:
        """Download and read one claimed file and try each request once; None when the
        download failed. A spent daily quota stops it (`summary.stopped`)."""
        institution, file_id = batches.institution, file.record.id
        try:
            path = await batches.local_copy(file)
        except FileError as error:
            # Claimed and recorded: the file stays open and the next run downloads it again.
            await self._file_event(institution, file_id, Outcome.FAILED, f"{error}; retried later")
            summary.files_pending += 1
            return None
        requests, fault = await self._read(path)
        read = _ReadFile(file, len(requests), fault, [])
        malformed = fault is not None
        for request in requests:
            outcome = await self._processor.from_file(
                institution, request, file_id, malformed=malformed
            )
            read.tried.append(_Tried(request, file_id, outcome, malformed))
            summary.add(outcome)
            if outcome.quota_exhausted:
                summary.stopped = outcome.reason
                break
        return read

    async def _retry_transient(
        self, institution: str, tried: list[_Tried], summary: ForwardingSummary
    ) -> None:
        """Up to `TransientRetry.passes` more tries of the requests that failed transiently,
        each pass after its pause (see `TransientRetry`); stops on a spent daily quota."""
        for retry in range(1, self._retry.passes + 1):
            due = [t for t in tried if t.outcome.retry_later and not t.outcome.quota_exhausted]
            if not due:
                return
            pause = self._retry.pause(retry)
            log.info(
                "%s: %d requests failed transiently; pass %d of the run in %.1f s",
                institution,
                len(due),
                retry + 1,
                pause,
            )
            await asyncio.sleep(pause)
            for entry in due:
                outcome = await self._processor.from_file(
                    institution,
                    entry.request,
                    entry.file_id,
                    malformed=entry.malformed,
                    run_pass=retry + 1,
                )
                summary.retried(entry.outcome, outcome)
                entry.outcome = outcome
                if outcome.quota_exhausted:
                    summary.stopped = outcome.reason
                    return

    async def _finish(
        self, batches: _RequestFiles, read: _ReadFile, summary: ForwardingSummary
    ) -> None:
        failed = sum(t.outcome.action is Action.FAILED for t in read.tried)
        reason = None
        if read.fault is not None:
            reason = (
                f"{read.fault}; the {read.total} requests before the fault were handled and "
                "nothing was cancelled (R1)"
            )
            summary.files_failed += 1
        await batches.finish(
            read.file, records_total=read.total, records_failed=failed, failure_reason=reason
        )

    async def _leave_open(
        self, institution: str, read: _ReadFile, summary: ForwardingSummary
    ) -> None:
        """The file stays unfinished, for the next run (R1, R7)."""
        summary.files_pending += 1
        if read.transient:
            tries = max(t.outcome.run_pass for t in read.tried if t.outcome.retry_later)
            message = (
                f"{read.file.name}: {read.transient} requests failed transiently "
                f"({tries} {'try' if tries == 1 else 'tries'} in this run); the file stays open"
            )
            await self._file_event(institution, read.file.record.id, Outcome.SKIPPED, message)

    async def _read(self, path: Path) -> tuple[list[RemoteStorageRequest], MalformedFile | None]:
        """Every request of a file, read whole before any is acted on (see R1 above)."""
        requests: list[RemoteStorageRequest] = []
        try:
            async for request in self._request_files.read_requests(path):
                requests.append(request)
        except MalformedFile as fault:
            return requests, fault
        return requests, None

    async def _file_event(
        self, institution: str, file_id: int, outcome: Outcome, message: str
    ) -> None:
        log.warning("%s requests file %s: %s", institution, file_id, message)
        async with self._ledger.unit_of_work() as uow:
            await uow.events.append(
                "file.pending", outcome, institution=institution, message=message, file_id=file_id
            )
            await uow.commit()

    async def _record_end(self, summary: ForwardingSummary, files: list[str]) -> None:
        """The run's `requests.sync` event, as ItemSync records `items.sync`."""
        counts: dict[str, JsonValue] = {action.value: summary.count(action) for action in _COUNTED}
        stopped = summary.stopped
        error_code = next((o.error_code for o in summary.outcomes if o.quota_exhausted), None)
        names: list[JsonValue] = list(files)
        await record_sync_end(
            self._ledger,
            REQUESTS_SYNC,
            summary.institution,
            done=f"{len(files)} files, {len(summary.outcomes)} requests",
            stopped=stopped,
            details={
                "counts": counts,
                "files": names,
                "files_failed": summary.files_failed,
                "files_pending": summary.files_pending,
                "retries": summary.retries,
                "settled_on_retry": summary.settled_on_retry,
            },
            error_code=error_code,
        )

    async def _dry_run(self, institution: str) -> ForwardingSummary:
        """List, download to scratch, parse and plan; claim nothing, write nothing."""
        summary = ForwardingSummary(institution, dry_run=True)
        folder = member_folder(self._main_folder, institution, TransferKind.REQUESTS)
        async with self._ledger.unit_of_work() as uow:
            unfinished = await uow.files.list_unfinished(institution, TransferKind.REQUESTS)
        remote_paths = [record.remote_name for record in unfinished]
        remote_paths += [remote.path for remote in await self._files.list_files(folder)]
        scratch = self._work_dir / institution / "requests" / f"dry-run-{uuid.uuid4().hex}"
        try:
            for number, remote_path in enumerate(remote_paths):
                local = scratch / f"{number}-{remote_path.rsplit('/', 1)[-1]}"
                await self._files.download(remote_path, local)
                summary.files += 1
                requests, fault = await self._read(local)
                summary.files_failed += fault is not None
                for request in requests:
                    summary.add(await self._processor.preview(institution, request))
        finally:
            await asyncio.to_thread(shutil.rmtree, scratch, True)
        return summary


def _with_id(request: RemoteStorageRequest, request_id: str) -> RemoteStorageRequest:
    """The ledger key is the request id; trust it over the stored copy."""
    return request if request.request_id == request_id else replace(request, request_id=request_id)
