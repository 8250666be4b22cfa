"""The composition root's view of one running bridge: its adapters, and the use cases built
from them with exactly the ports each one takes.

`BridgePorts` is wiring, not a dependency: no use case receives it. The container opens one per
configuration in force (`open_bridge`), and the worker, the commands and the tests build their
use cases from it here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.circulation.carry_back import Circulation
from application.scf.circulation.records import CirculationRecorder
from application.scf.file_batches import FileBatches
from application.scf.inbox.handlers import BridgeHandlers
from application.scf.institution_locks import InstitutionLocks
from application.scf.items.item_now import ItemNow
from application.scf.items.item_sync import ItemSync
from application.scf.items.transit_loans import LoanRetry
from application.scf.library_names import LibraryNames
from application.scf.ports import FailureReports, PublishingFiles, RequestFiles
from application.scf.reconcile.reconciliation import Reconciliation
from application.scf.requests.forwarding import RequestForwarding, TransientRetry
from application.scf.requests.request_now import RequestNow
from application.scf.settings import Settings
from application.scf.sync_jobs import SyncJobs
from application.shared.ledger_records import TransferKind
from application.shared.runs import JobRunner


@dataclass(frozen=True)
class BridgePorts:
    """Settings plus one adapter per port; `work_dir` holds downloaded and unpacked files."""

    settings: Settings
    alma: AlmaDirectory
    ledger: Ledger
    files: FileTransfer
    publishing: PublishingFiles
    request_files: RequestFiles
    reports: FailureReports
    clock: Clock
    work_dir: Path


def item_sync(
    ports: BridgePorts,
    *,
    loan_retry: LoanRetry | None = None,
    locks: InstitutionLocks | None = None,
) -> ItemSync:
    """The items sync (I1–I13)."""
    return ItemSync(
        settings=ports.settings,
        alma=ports.alma,
        ledger=ports.ledger,
        files=ports.files,
        publishing=ports.publishing,
        reports=ports.reports,
        clock=ports.clock,
        work_dir=ports.work_dir,
        loan_retry=loan_retry,
        locks=locks,
    )


def request_forwarding(
    ports: BridgePorts,
    libraries: LibraryNames | None = None,
    *,
    retry: TransientRetry | None = None,
) -> RequestForwarding:
    """The requests sync (R1–R8)."""
    return RequestForwarding(
        settings=ports.settings,
        alma=ports.alma,
        ledger=ports.ledger,
        files=ports.files,
        request_files=ports.request_files,
        reports=ports.reports,
        clock=ports.clock,
        work_dir=ports.work_dir,
        libraries=libraries,
        retry=retry,
    )


def circulation(ports: BridgePorts) -> Circulation:
    """The SCF's circulation carried back to the members (C1, C2)."""
    consortium = ports.settings.consortium
    recorder = CirculationRecorder(
        ports.ledger, ports.reports, ports.clock, consortium.remote_storage.institution
    )
    return Circulation(ports.alma, ports.ledger, consortium, recorder)


def reconciliation(
    ports: BridgePorts,
    *,
    loan_retry: LoanRetry | None = None,
    locks: InstitutionLocks | None = None,
) -> Reconciliation:
    """`almabridge reconcile` (issue 7)."""
    return Reconciliation(
        settings=ports.settings,
        alma=ports.alma,
        ledger=ports.ledger,
        publishing=ports.publishing,
        reports=ports.reports,
        clock=ports.clock,
        work_dir=ports.work_dir,
        forwarding=request_forwarding(ports),
        loan_retry=loan_retry,
        locks=locks,
    )


def sync_jobs(ports: BridgePorts) -> SyncJobs:
    """One items sync and one requests sync whose locks every message shares (W4, R7), each
    run by the `JobRunner` as a run with its records (B1)."""
    return SyncJobs(
        item_sync(ports),
        request_forwarding(ports),
        JobRunner(ports.ledger, ports.clock, ports.ledger),
        ports.settings,
        ports.work_dir / "runs",
    )


def item_now(ports: BridgePorts, *, loan_retry: LoanRetry | None = None) -> ItemNow:
    """A member item's change mirrored now (W7), under the items sync's locks."""
    return ItemNow(
        alma=ports.alma,
        ledger=ports.ledger,
        consortium=ports.settings.consortium,
        reports=ports.reports,
        clock=ports.clock,
        loan_retry=loan_retry,
    )


def request_now(ports: BridgePorts, forwarding: RequestForwarding) -> RequestNow:
    """A member's new request forwarded now (W6), through `forwarding` and its locks."""
    return RequestNow(
        alma=ports.alma,
        ledger=ports.ledger,
        consortium=ports.settings.consortium,
        forwarding=forwarding,
    )


def bridge_handlers(ports: BridgePorts) -> BridgeHandlers:
    """What the inbox worker calls for each kind of webhook (W4–W7); W6 shares the requests
    sync's `RequestForwarding`, so a webhook's request and a file's never interleave."""
    jobs = sync_jobs(ports)
    return BridgeHandlers(
        jobs, circulation(ports), request_now(ports, jobs.requests), item_now(ports)
    )


def file_batches(ports: BridgePorts, institution: str, kind: TransferKind) -> FileBatches:
    """The claimed files of one member's items or requests folder (I1, R1)."""
    main_folder = ports.settings.file_server.main_folder
    return FileBatches(ports.ledger, ports.files, ports.work_dir, main_folder, institution, kind)
