"""`RequestForwarding.run(dry_run=True)`: what a requests run would do, changing nothing.

The files are listed without claiming them (the folder's, and the open ones the ledger knows, a
read), downloaded to a scratch folder that is removed afterwards, and each request is planned
from reads only: Alma and the ledger are not written, and the summary says what a run would do.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path

from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.file_batches import member_folder
from application.scf.ports import RequestFiles
from application.scf.requests.file_processing import read_requests
from application.scf.requests.outcomes import ForwardingSummary
from application.scf.requests.processing import RequestProcessor
from application.shared.ledger_records import TransferKind


async def preview_run(
    institution: str,
    *,
    ledger: Ledger,
    files: FileTransfer,
    request_files: RequestFiles,
    processor: RequestProcessor,
    work_dir: Path,
    main_folder: str,
) -> ForwardingSummary:
    """List, download to scratch, parse and plan; claim nothing, write nothing."""
    summary = ForwardingSummary(institution, dry_run=True)
    folder = member_folder(main_folder, institution, TransferKind.REQUESTS)
    async with ledger.unit_of_work() as uow:
        unfinished = await uow.files.list_unfinished(institution, TransferKind.REQUESTS)
    remote_paths = [record.remote_name for record in unfinished]
    remote_paths += [remote.path for remote in await files.list_files(folder)]
    scratch = work_dir / institution / "requests" / f"dry-run-{uuid.uuid4().hex}"
    try:
        for number, remote_path in enumerate(remote_paths):
            local = scratch / f"{number}-{remote_path.rsplit('/', 1)[-1]}"
            await files.download(remote_path, local)
            summary.files += 1
            requests, fault = await read_requests(request_files, local)
            summary.files_failed += fault is not None
            for request in requests:
                summary.add(await processor.preview(institution, request))
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
    return summary
