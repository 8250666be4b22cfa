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
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import TypeVar

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.items.institution_locks import (
    ITEM_SYNC_LOCKS,
    InstitutionLocks,
    items_sync_lock,
)
from application.scf.items.transit_loans import LoanRetry
from application.scf.members import member_code
from application.scf.ports import FailureReports, PublishingFiles
from application.scf.reconcile.facts import (
    LIVE,
    ItemCase,
    ReconcileFacts,
    RequestCase,
    index_by_pid,
)
from application.scf.reconcile.repairs import ReconcileRepairs, Repaired, RunStopped
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
from application.scf.requests.forwarding import RequestForwarding
from application.scf.settings import Settings
from application.shared.alma import AlmaError, QuotaExhausted
from application.shared.ledger_records import JsonValue, MirroredItem, Outcome, RequestStatus
from domain.scf.items.published import PublishedItem
from domain.scf.reconciliation import (
    Finding,
    Repair,
    check_failed,
    classify_item,
    classify_request,
)
from domain.shared.errors import DomainError

__all__ = [
    "LedgerSource",
    "PublishFile",
    "ReconcileEntry",
    "ReconcileProgress",
    "ReconcileReport",
    "Reconciliation",
]

log = logging.getLogger(__name__)
K = TypeVar("K")
V = TypeVar("V")


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
        async with self._locks.hold(code), self.ledger.exclusive(items_sync_lock(code)):
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
        self._publishing = recon.publishing
        self._work_dir = recon.work_dir
        self._inst = institution
        self._source = source
        self._fix = fix
        self._progress = progress
        self._loan_retry = loan_retry
        consortium = recon.settings.consortium
        self._facts = ReconcileFacts(recon.alma, recon.ledger, consortium, institution)
        self._limit = max(1, recon.settings.max_number_of_threads)
        self._stopped: str | None = None
        self._findings = 0
        self._items_checked = 0
        self._requests_checked = 0

    async def run(self) -> ReconcileReport:
        entries: list[ReconcileEntry] = []
        item_work: list[tuple[ItemCase | None, Finding]] = []
        request_work: list[tuple[RequestCase | None, Finding]] = []
        try:
            item_work = await self._check_items()
            if self._stopped is None:
                request_work = await self._check_requests()
            if self._fix and self._stopped is None:
                entries = await self._repair(item_work, request_work)
        except (QuotaExhausted, RunStopped) as error:
            self._stop(error)
        if not entries:
            entries = [ReconcileEntry(finding) for _, finding in (*item_work, *request_work)]
        report = ReconcileReport(
            institution=self._inst,
            source=self._source.describe(),
            fix=self._fix,
            items_checked=self._items_checked,
            requests_checked=self._requests_checked,
            entries=tuple(entries),
            stopped=self._stopped,
        )
        await self._record_run(report)
        return report

    def _stop(self, error: Exception) -> None:
        if self._stopped is None:
            log.warning("reconcile %s stopped: %s", self._inst, error)
            self._stopped = str(error)

    def _tell(self, phase: str, done: int, total: int, repaired: int = 0, failed: int = 0) -> None:
        if self._progress is not None:
            self._progress(ReconcileProgress(phase, done, total, self._findings, repaired, failed))

    # ---- items -----------------------------------------------------------------------------

    async def _check_items(self) -> list[tuple[ItemCase | None, Finding]]:
        async with self._ledger.unit_of_work() as uow:
            rows = {row.barcode: row for row in await uow.items.list_for(self._inst, states=LIVE)}
        published: dict[str, PublishedItem] = {}
        if isinstance(self._source, PublishFile):
            published = await self._read_file(self._source.path)
        barcodes = sorted(set(rows) | set(published))
        cases: dict[str, ItemCase] = {}
        failures: list[tuple[ItemCase | None, Finding]] = []

        async def check(barcode: str) -> None:
            try:
                cases[barcode] = await self._facts.item(
                    barcode, published.get(barcode), rows.get(barcode)
                )
            except (AlmaError, DomainError) as error:
                if isinstance(error, QuotaExhausted):
                    raise
                failures.append((None, check_failed(self._inst, str(error), barcode=barcode)))
            self._items_checked += 1
            self._tell("checking barcodes", self._items_checked, len(barcodes))

        await self._bounded(barcodes, check)
        if self._stopped is None:
            try:
                await self._find_renames(cases, rows, failures)
            except QuotaExhausted as error:
                self._stop(error)
        work = failures + self._classify_items(cases)
        self._findings += len(work)
        self._tell("checking barcodes", self._items_checked, self._items_checked)
        # By the barcode checked, and stable: a barcode's findings keep the order classify_item
        # gave them, which is the order of their repairs (a moved mirror's loan after the move).
        return sorted(work, key=lambda pair: pair[0].barcode if pair[0] else pair[1].barcode or "")

    async def _find_renames(
        self,
        cases: dict[str, ItemCase],
        rows: dict[str, MirroredItem],
        failures: list[tuple[ItemCase | None, Finding]],
    ) -> None:
        """Rows whose member item is gone under their barcode: is it there under another?"""
        by_pid = index_by_pid(cases)
        orphans = [c for c in cases.values() if c.row is not None and c.member is None]
        for case in orphans:
            row = case.row
            assert row is not None
            try:
                member = by_pid.get(row.member_item_pid or "") or await self._facts.renamed_member(
                    row
                )
                if member is None or not member.barcode or member.barcode == case.barcode:
                    continue
                new = member.barcode
                target = cases.get(new)
                if target is None:
                    target = await self._facts.item(new, None, await self._facts.row(new), member)
                    cases[new] = target
                    self._items_checked += 1
                cases[case.barcode] = await self._facts.renamed(case, member, target)
            except (AlmaError, DomainError) as error:
                if isinstance(error, QuotaExhausted):
                    raise
                reason = f"looking for its member item by pid: {error}"
                failures.append((None, check_failed(self._inst, reason, barcode=case.barcode)))

    def _classify_items(self, cases: dict[str, ItemCase]) -> list[tuple[ItemCase | None, Finding]]:
        work: list[tuple[ItemCase | None, Finding]] = []
        # A moving mirror makes the new barcode's own, so that barcode is judged knowing it.
        renamed = [c for c in cases.values() if c.facts.renamed is not None]
        for case in renamed:
            for finding in self._classify(case):
                work.append((case, finding))
                if finding.repair is Repair.MOVE_MIRROR and finding.new_barcode in cases:
                    target = cases[finding.new_barcode]
                    cases[target.barcode] = target.moved_from(case.barcode)
        for case in cases.values():
            if case.facts.renamed is None:
                work.extend((case, finding) for finding in self._classify(case))
        return work

    def _classify(self, case: ItemCase) -> tuple[Finding, ...]:
        try:
            return classify_item(case.facts)
        except DomainError as error:
            return (check_failed(self._inst, str(error), barcode=case.barcode),)

    async def _read_file(self, path: Path) -> dict[str, PublishedItem]:
        """The file's items by barcode (the last ITM of a barcode wins, as in the sync)."""
        publishing = self._publishing
        into = self._work_dir / self._inst / "reconcile" / uuid.uuid4().hex
        found: dict[str, PublishedItem] = {}
        try:
            for xml in await publishing.unpack(path, into):
                async for item in _items(publishing.read_items(xml, self._inst)):
                    if item.barcode is not None and item.barcode.strip():
                        found[item.barcode] = item
        finally:
            await asyncio.to_thread(shutil.rmtree, into, True)
        return found

    # ---- requests --------------------------------------------------------------------------

    async def _check_requests(self) -> list[tuple[RequestCase | None, Finding]]:
        async with self._ledger.unit_of_work() as uow:
            rows = await uow.requests.list_for(self._inst, statuses=[RequestStatus.FORWARDED])
        forwarded = [row for row in rows if row.scf_request_id]
        work: list[tuple[RequestCase | None, Finding]] = []

        async def check(index: int) -> None:
            row = forwarded[index]
            try:
                case = await self._facts.request(row)
                work.extend((case, finding) for finding in classify_request(case.facts))
            except (AlmaError, DomainError) as error:
                if isinstance(error, QuotaExhausted):
                    raise
                failed = check_failed(
                    self._inst, str(error), barcode=row.barcode, request_id=row.source_request_id
                )
                work.append((None, failed))
            self._requests_checked += 1
            self._tell("checking requests", self._requests_checked, len(forwarded))

        await self._bounded(range(len(forwarded)), check)
        self._findings += len(work)
        return sorted(work, key=lambda pair: pair[1].request_id or "")

    # ---- repairs ---------------------------------------------------------------------------

    async def _repair(
        self,
        items: list[tuple[ItemCase | None, Finding]],
        requests: list[tuple[RequestCase | None, Finding]],
    ) -> list[ReconcileEntry]:
        """One repair at a time: a barcode change touches two barcodes, and a request forwarded
        again needs the mirror its barcode's repairs make."""
        recon = self._recon
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
            if self._stopped is not None or case is None or finding.repair is Repair.NONE:
                entries.append(ReconcileEntry(finding))
                continue
            try:
                if isinstance(case, ItemCase):
                    done = await repairs.item(case, finding)
                else:
                    done = await repairs.request(case, finding)
            except (QuotaExhausted, RunStopped) as error:
                self._stop(error)
                done = Repaired(RepairResult(Outcome.FAILED, f"stopped: {error}"))
            await self._record_repair(finding, done)
            entries.append(ReconcileEntry(finding, done.result))
            repaired += done.result.ok
            failed += not done.result.ok
            self._tell("repairing", len(entries), total, repaired, failed)
        return entries

    async def _record_repair(self, finding: Finding, done: Repaired) -> None:
        result = done.result
        details: dict[str, JsonValue] = {
            "kind": finding.kind.value,
            "repair": finding.repair.value,
            "finding": finding.message,
            "plan": finding.plan,
            **done.details,
        }
        if finding.new_barcode:
            details["new_barcode"] = finding.new_barcode
        if finding.changed_fields:
            details["changed_fields"] = list(finding.changed_fields)
        async with self._ledger.unit_of_work() as uow:
            if done.ledger is not None:
                # With the event, or neither: a failure may carry facts too (a loan it ended).
                await done.ledger(uow)
            await uow.events.append(
                f"reconcile.{finding.kind.value}",
                result.outcome,
                institution=self._inst,
                barcode=finding.barcode,
                request_id=finding.request_id,
                message=result.message,
                details=details,
                error_code=result.error_code,
            )
            await uow.commit()

    async def _record_run(self, report: ReconcileReport) -> None:
        if report.clean:
            outcome = Outcome.OK
        elif report.fix or report.stopped or report.failed:
            outcome = Outcome.FAILED
        else:
            outcome = Outcome.SKIPPED  # a plan: found, deliberately not repaired
        counts: dict[str, JsonValue] = dict(report.counts())
        async with self._ledger.unit_of_work() as uow:
            await uow.events.append(
                "reconcile.run",
                outcome,
                institution=self._inst,
                message=report.summary(),
                details={
                    "source": report.source,
                    "fix": report.fix,
                    "barcodes_checked": report.items_checked,
                    "requests_checked": report.requests_checked,
                    "findings": counts,
                    "repaired": report.repaired,
                    "remaining": len(report.remaining),
                    "stopped": report.stopped,
                },
            )
            await uow.commit()

    # ---- concurrency -----------------------------------------------------------------------

    async def _bounded(self, keys: Iterable[K], work: Callable[[K], Awaitable[None]]) -> None:
        """Run `work` for every key, at most `max_number_of_threads` at once; the daily quota
        stops taking new keys and is reported, never raised."""
        pending = iter(keys)

        async def worker() -> None:
            for key in pending:
                if self._stopped is not None:
                    return
                try:
                    await work(key)
                except QuotaExhausted as error:
                    self._stop(error)
                    return

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(self._limit):
                    group.create_task(worker())
        except BaseExceptionGroup as failure:
            # A ledger or programming failure, not a barcode's: surface the first as itself.
            raise failure.exceptions[0] from failure


async def _items(stream: AsyncIterator[V]) -> AsyncIterator[V]:
    """Iterate a parser's stream and close it whatever happens (its thread must not linger)."""
    try:
        async for value in stream:
            yield value
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
