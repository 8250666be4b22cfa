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
One run per institution at a time per `RequestForwarding` (keep one per bridge); the member's
webhooks (`forward_now`, W6) run beside each other but never beside a run.

The files of a run are processed in `file_processing`, its in-run retries are `transient_retry`'s
and the dry run is `dry_run`'s.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.institution_locks import (
    InstitutionLocks,
    requests_sync_lock,
)
from application.scf.library_names import LibraryNames
from application.scf.ports import FailureReports, RequestFiles
from application.scf.requests.dry_run import preview_run
from application.scf.requests.file_processing import RequestFileBatches, RequestFileProcessing
from application.scf.requests.outcomes import Action, ForwardingSummary, RequestOutcome
from application.scf.requests.plans import Planner
from application.scf.requests.processing import RequestProcessor
from application.scf.requests.records import RequestRecorder
from application.scf.requests.request_data import request_from_json, withheld_contact
from application.scf.requests.transient_retry import TransientRetry, TriedRequest
from application.scf.settings import Settings
from application.scf.sync_end import record_sync_end
from application.shared.ledger_records import JsonValue, RequestStatus, TransferKind
from domain.scf.requests.routing import RemoteStorageRequest

__all__ = ["REQUESTS_SYNC", "RequestForwarding", "TransientRetry"]

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
        self._file_processing = RequestFileProcessing(
            ledger, request_files, self._processor, self._retry
        )
        self._locks = InstitutionLocks()

    def _batches(self, institution: str) -> RequestFileBatches:
        return RequestFileBatches(
            self._ledger,
            self._files,
            self._work_dir,
            self._main_folder,
            institution,
            TransferKind.REQUESTS,
        )

    async def run(self, institution: str, *, dry_run: bool = False) -> ForwardingSummary:
        """Process the institution's request files: one requests `JOB_END` (R1)."""
        if dry_run:
            return await self._dry_run(institution)
        async with self._alone(institution):
            summary = ForwardingSummary(institution)
            batches = self._batches(institution)
            files = await batches.claim_all()
            await self._file_processing.process(batches, files, summary)
            log.info("requests run: %s", summary)
            # A run stopped by a spent quota leaves its later files unopened: not named.
            await self._record_end(summary, [file.name for file in files[: summary.files]])
            return summary

    async def retry_waiting(self, institution: str) -> ForwardingSummary:
        """After the institution's items sync: retry waiting requests and open files (R7)."""
        async with self._alone(institution):
            summary = ForwardingSummary(institution)
            async with self._ledger.unit_of_work() as uow:
                waiting = await uow.requests.list_waiting(institution)
            tried: list[TriedRequest] = []
            for row in waiting:
                request, file_id = request_from_json(row.request_data)
                request = _with_id(request, row.source_request_id)
                withheld = withheld_contact(row.request_data)
                outcome = await self._processor.handle(
                    institution, request, file_id, row, withheld=withheld
                )
                summary.add(outcome)
                tried.append(TriedRequest(request, file_id, outcome, withheld=withheld))
                if outcome.quota_exhausted:
                    summary.stopped = outcome.reason
                    return summary
            batches = self._batches(institution)
            await self._file_processing.process(batches, await batches.unfinished(), summary, tried)
            log.info("requests retry: %s", summary)
            return summary

    async def forward_now(self, institution: str, request: RemoteStorageRequest) -> RequestOutcome:
        """One request read from the member's Alma instead of a file (W6): R3–R7 as for a file's.
        Beside the member's other webhooks, one at a time per request, never beside a requests
        sync (which holds the member alone); R6 makes the export's later copy of it a no-op."""
        lock, record = requests_sync_lock(institution), f"request {request.request_id}"
        async with self._locks.one_record(self._ledger, institution, lock, record):
            return await self._processor.from_file(institution, request, None, malformed=False)

    def _alone(self, institution: str) -> AbstractAsyncContextManager[None]:
        """The member's requests to this run alone, in this process and across the processes
        sharing the ledger: no other run, no webhook (W6) meanwhile."""
        return self._locks.alone(self._ledger, institution, requests_sync_lock(institution))

    async def replay(self, institution: str, request_id: str) -> RequestOutcome | None:
        """Retry one failed or waiting request from its ledger data; None when never seen."""
        async with self._alone(institution):
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
            withheld = withheld_contact(row.request_data)
            return await self._processor.handle(
                institution, request, file_id, row, withheld=withheld
            )

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
        return await preview_run(
            institution,
            ledger=self._ledger,
            files=self._files,
            request_files=self._request_files,
            processor=self._processor,
            work_dir=self._work_dir,
            main_folder=self._main_folder,
        )


def _with_id(request: RemoteStorageRequest, request_id: str) -> RemoteStorageRequest:
    """The ledger key is the request id; trust it over the stored copy."""
    return request if request.request_id == request_id else replace(request, request_id=request_id)
