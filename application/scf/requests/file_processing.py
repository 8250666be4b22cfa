"""The request files of one run, processed (R1-R8): each file read whole (R2) and each of its
requests tried once, then the in-run retries of those that failed transiently, and only then
each file finished, or left open for the next run.

- A file is finished `done` once every request in it is settled; one with a request still
  failing transiently stays open (R1, R7), and R6 lets only the unsettled requests through when
  it is offered again.
- A malformed file (R1, R2) is finished `failed`. It is read whole before anything is done, so
  the requests before the fault are known complete: they are forwarded, but nothing is
  cancelled (`RequestProcessor.from_file` with `malformed`).
- A daily quota spent at the member or the SCF stops it all; every file stays open.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from application.ports.ledger import Ledger
from application.scf.file_batches import FileBatches, FileToProcess
from application.scf.ports import RequestFiles
from application.scf.requests.outcomes import Action, ForwardingSummary
from application.scf.requests.processing import RequestProcessor
from application.scf.requests.transient_retry import TransientRetry, TriedRequest, retry_transient
from application.shared.files import FileError, MalformedFile
from application.shared.ledger_records import Outcome
from domain.scf.requests.routing import RemoteStorageRequest

# The run's messages keep the logger they had before forwarding was split into modules.
log = logging.getLogger("application.scf.requests.forwarding")


@dataclass
class ReadFile:
    """A claimed file, read, with its requests tried once (`_first_pass`)."""

    file: FileToProcess
    total: int
    fault: MalformedFile | None
    tried: list[TriedRequest]

    @property
    def transient(self) -> int:
        """Requests whose latest try failed transiently and may be tried again."""
        return sum(t.outcome.retry_later and not t.outcome.quota_exhausted for t in self.tried)


class RequestFileBatches(FileBatches):
    """The requests folder's batches, plus the open files alone (without claiming new ones)."""

    async def unfinished(self) -> list[FileToProcess]:
        async with self._ledger.unit_of_work() as uow:
            records = await uow.files.list_unfinished(self.institution, self.kind)
        files = [FileToProcess(record, Path()) for record in records]
        return [FileToProcess(f.record, self._local_path(f.name, str(f.record.id))) for f in files]


async def read_requests(
    request_files: RequestFiles, path: Path
) -> tuple[list[RemoteStorageRequest], MalformedFile | None]:
    """Every request of a file, read whole before any is acted on (see R1 above)."""
    requests: list[RemoteStorageRequest] = []
    try:
        async for request in request_files.read_requests(path):
            requests.append(request)
    except MalformedFile as fault:
        return requests, fault
    return requests, None


class RequestFileProcessing:
    """Processes the request files a run has claimed or reopened."""

    def __init__(
        self,
        ledger: Ledger,
        request_files: RequestFiles,
        processor: RequestProcessor,
        retry: TransientRetry,
    ) -> None:
        self._ledger = ledger
        self._request_files = request_files
        self._processor = processor
        self._retry = retry

    async def process(
        self,
        batches: RequestFileBatches,
        files: list[FileToProcess],
        summary: ForwardingSummary,
        earlier: Iterable[TriedRequest] = (),
    ) -> None:
        """Each file once, finished at once when nothing in it failed transiently; then the
        in-run retries of those that did (and of `earlier` requests of the run), and only then
        are their files finished or left open. A spent quota stops it all: files stay open."""
        held: list[ReadFile] = []
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
            await retry_transient(self._processor, self._retry, batches.institution, tried, summary)
        for read in held:
            if summary.stopped or read.transient:
                await self._leave_open(batches.institution, read, summary)
            else:
                await self._finish(batches, read, summary)

    async def _first_pass(
        self, batches: RequestFileBatches, file: FileToProcess, summary: ForwardingSummary
    ) -> ReadFile | None:
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
        requests, fault = await read_requests(self._request_files, path)
        read = ReadFile(file, len(requests), fault, [])
        malformed = fault is not None
        for request in requests:
            outcome = await self._processor.from_file(
                institution, request, file_id, malformed=malformed
            )
            read.tried.append(TriedRequest(request, file_id, outcome, malformed))
            summary.add(outcome)
            if outcome.quota_exhausted:
                summary.stopped = outcome.reason
                break
        return read

    async def _finish(
        self, batches: RequestFileBatches, read: ReadFile, summary: ForwardingSummary
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
        self, institution: str, read: ReadFile, summary: ForwardingSummary
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

    async def _file_event(
        self, institution: str, file_id: int, outcome: Outcome, message: str
    ) -> None:
        log.warning("%s requests file %s: %s", institution, file_id, message)
        async with self._ledger.unit_of_work() as uow:
            await uow.events.append(
                "file.pending", outcome, institution=institution, message=message, file_id=file_id
            )
            await uow.commit()
