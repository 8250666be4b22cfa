"""`almabridge reconcile`: compare what the SCF should hold for a member with what it holds,
report each difference, and with `fix` repair it through the syncs' own services (issue 7).

*Expected* comes from a full publishing file of the member (`PublishFile`: its items in remote
storage, I3, I5) or, without one, from the ledger (`LedgerSource`: the live `mirrored_items`
rows). *Actual* is what Alma answers: the SCF item `{b}X` of every expected barcode and every
barcode the ledger knows, the member item, the mirror's loan, and the SCF and member requests of
every forwarded request. `ReconcileFacts` reads them (GET calls only), the domain classifies
them (`domain.scf.reconciliation`), and `ReconcileRepairs` carries the repairs out.

One run:

1. Barcodes are checked concurrently, at most `max_number_of_threads` at a time; every Alma call
   goes through the bridge's gateways, so the per-institution throttle (A4) applies.
2. A ledger row whose member item is gone under its barcode is looked up by the member item's
   pid: found under a new barcode, it is a barcode change, and when the mirror moves to the new
   barcode that barcode expects no mirror of its own (one SCF item per member item).
3. Forwarded requests are checked the same way.
4. Plan only (`fix=False`): nothing is written to Alma; the ledger gets one `reconcile.run` event.
   With `fix`: repairs run one at a time, barcodes first (a request forwarded again needs its
   mirror), each recorded as a `reconcile.<kind>` event (ok or failed) next to the item and
   request events the services write. A failed repair is reported and the run goes on.
5. The daily quota (`QuotaExhausted`) stops the run; the report says so.

A run with `fix` holds the institution's items-sync lock, so a sync in the same process cannot
interleave with its repairs. A second `fix` run right after a successful one finds nothing.

The checks are in `item_checks` and `request_checks`, the run's counts and stop in `run_state`,
its ledger events in `run_events`.
"""

from __future__ import annotations

from pathlib import Path

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.institution_locks import (
    ITEM_SYNC_LOCKS,
    InstitutionLocks,
    items_sync_lock,
)
from application.scf.items.transit_loans import LoanRetry
from application.scf.members import member_code
from application.scf.ports import FailureReports, PublishingFiles
from application.scf.reconcile.cases import ItemCase, RequestCase
from application.scf.reconcile.facts import ReconcileFacts
from application.scf.reconcile.item_checks import ItemChecks, ItemFinding
from application.scf.reconcile.repair_results import Repaired, RunStopped
from application.scf.reconcile.repairs import ReconcileRepairs
from application.scf.reconcile.report import (
    LedgerSource,
    ProgressCallback,
    PublishFile,
    ReconcileEntry,
    ReconcileProgress,
    ReconcileReport,
    ReconcileSource,
    RepairResult,
)
from application.scf.reconcile.request_checks import RequestFinding, check_requests
from application.scf.reconcile.run_events import record_repair, record_run
from application.scf.reconcile.run_state import RunState
from application.scf.requests.forwarding import RequestForwarding
from application.scf.settings import Settings
from application.shared.alma import QuotaExhausted
from application.shared.ledger_records import Outcome
from domain.scf.reconciliation import Finding, Repair

__all__ = [
    "LedgerSource",
    "PublishFile",
    "ReconcileEntry",
    "ReconcileProgress",
    "ReconcileReport",
    "Reconciliation",
]


class Reconciliation:
    """Finds and (with `fix`) repairs what differs between the rules and Alma, per member."""

    def __init__(
        self,
        *,
        settings: Settings,
        alma: AlmaDirectory,
        ledger: Ledger,
        publishing: PublishingFiles,
        reports: FailureReports,
        clock: Clock,
        work_dir: Path,
        forwarding: RequestForwarding,
        loan_retry: LoanRetry | None = None,
        locks: InstitutionLocks | None = None,
    ) -> None:
        self.settings = settings
        self.alma = alma
        self.ledger = ledger
        self.publishing = publishing
        self.reports = reports
        self.clock = clock
        self.work_dir = work_dir
        self.forwarding = forwarding
        self._loan_retry = loan_retry
        self._locks = locks or ITEM_SYNC_LOCKS

    async def run(
        self,
        institution: str,
        *,
        source: ReconcileSource | None = None,
        fix: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ReconcileReport:
        """Check one member institution; with `fix`, repair what was found."""
        code = member_code(self.settings.consortium, institution)
        run = _Run(self, code, source or LedgerSource(), fix, progress, self._loan_retry)
        if not fix:
            return await run.run()
        async with self._locks.alone(self.ledger, code, items_sync_lock(code)):
            return await run.run()


class _Run:
    """One reconciliation: the facts, findings and repairs of one institution."""

    def __init__(
        self,
        recon: Reconciliation,
        institution: str,
        source: ReconcileSource,
        fix: bool,
        progress: ProgressCallback | None,
        loan_retry: LoanRetry | None,
    ) -> None:
        self._recon = recon
        self._ledger = recon.ledger
        self._inst = institution
        self._source = source
        self._fix = fix
        self._loan_retry = loan_retry
        consortium = recon.settings.consortium
        self._facts = ReconcileFacts(recon.alma, recon.ledger, consortium, institution)
        limit = max(1, recon.settings.max_number_of_threads)
        self._state = RunState(institution, limit, progress)

    async def run(self) -> ReconcileReport:
        state = self._state
        entries: list[ReconcileEntry] = []
        item_work: list[ItemFinding] = []
        request_work: list[RequestFinding] = []
        try:
            item_work = await ItemChecks(
                facts=self._facts,
                ledger=self._ledger,
                publishing=self._recon.publishing,
                work_dir=self._recon.work_dir,
                source=self._source,
                state=state,
            ).check()
            if state.stopped is None:
                request_work = await check_requests(self._facts, self._ledger, state)
            if self._fix and state.stopped is None:
                entries = await self._repair(item_work, request_work)
        except (QuotaExhausted, RunStopped) as error:
            state.stop(error)
        if not entries:
            entries = [ReconcileEntry(finding) for _, finding in (*item_work, *request_work)]
        report = ReconcileReport(
            institution=self._inst,
            source=self._source.describe(),
            fix=self._fix,
            items_checked=state.items_checked,
            requests_checked=state.requests_checked,
            entries=tuple(entries),
            stopped=state.stopped,
        )
        await record_run(self._ledger, report)
        return report

    async def _repair(
        self, items: list[ItemFinding], requests: list[RequestFinding]
    ) -> list[ReconcileEntry]:
        """One repair at a time: a barcode change touches two barcodes, and a request forwarded
        again needs the mirror its barcode's repairs make."""
        recon, state = self._recon, self._state
        repairs = ReconcileRepairs(
            alma=recon.alma,
            ledger=recon.ledger,
            reports=recon.reports,
            clock=recon.clock,
            consortium=recon.settings.consortium,
            forwarding=recon.forwarding,
            institution=self._inst,
            loan_retry=self._loan_retry,
        )
        entries: list[ReconcileEntry] = []
        total = len(items) + len(requests)
        repaired = failed = 0
        pending: list[tuple[ItemCase | RequestCase | None, Finding]] = [*items, *requests]
        for case, finding in pending:
            if state.stopped is not None or case is None or finding.repair is Repair.NONE:
                entries.append(ReconcileEntry(finding))
                continue
            try:
                if isinstance(case, ItemCase):
                    done = await repairs.item(case, finding)
                else:
                    done = await repairs.request(case, finding)
            except (QuotaExhausted, RunStopped) as error:
                state.stop(error)
                done = Repaired(RepairResult(Outcome.FAILED, f"stopped: {error}"))
            await record_repair(self._ledger, self._inst, finding, done)
            entries.append(ReconcileEntry(finding, done.result))
            repaired += done.result.ok
            failed += not done.result.ok
            state.tell("repairing", len(entries), total, repaired, failed)
        return entries
