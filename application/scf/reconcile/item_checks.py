"""The barcode checks of a reconciliation run (issue 7).

The barcodes are the ledger's live rows and, with a publishing file, the file's items. Each is
checked concurrently (`RunState.bounded`). A ledger row whose member item is gone under its
barcode is looked up by the member item's pid: found under a new barcode, it is a barcode change,
and when the mirror moves to the new barcode that barcode expects no mirror of its own (one SCF
item per member item).
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

from application.ports.ledger import Ledger
from application.scf.ports import PublishingFiles
from application.scf.reconcile.cases import LIVE, ItemCase, index_by_pid
from application.scf.reconcile.facts import ReconcileFacts
from application.scf.reconcile.report import PublishFile, ReconcileSource
from application.scf.reconcile.run_state import RunState
from application.shared.alma import AlmaError, QuotaExhausted
from application.shared.ledger_records import MirroredItem
from domain.scf.items.published import PublishedItem
from domain.scf.reconciliation import Finding, Repair, check_failed, classify_item
from domain.shared.errors import DomainError

V = TypeVar("V")

ItemFinding = tuple[ItemCase | None, Finding]
"""A finding and the case it was found in (None when the barcode could not be checked)."""


class ItemChecks:
    """Reads and classifies the barcodes of one run."""

    def __init__(
        self,
        *,
        facts: ReconcileFacts,
        ledger: Ledger,
        publishing: PublishingFiles,
        work_dir: Path,
        source: ReconcileSource,
        state: RunState,
    ) -> None:
        self._facts = facts
        self._ledger = ledger
        self._publishing = publishing
        self._work_dir = work_dir
        self._source = source
        self._state = state
        self._inst = state.institution

    async def check(self) -> list[ItemFinding]:
        state = self._state
        async with self._ledger.unit_of_work() as uow:
            rows = {row.barcode: row for row in await uow.items.list_for(self._inst, states=LIVE)}
        published: dict[str, PublishedItem] = {}
        if isinstance(self._source, PublishFile):
            published = await self._read_file(self._source.path)
        barcodes = sorted(set(rows) | set(published))
        cases: dict[str, ItemCase] = {}
        failures: list[ItemFinding] = []

        async def check(barcode: str) -> None:
            try:
                cases[barcode] = await self._facts.item(
                    barcode, published.get(barcode), rows.get(barcode)
                )
            except (AlmaError, DomainError) as error:
                failures.append((None, check_failed(self._inst, str(error), barcode=barcode)))
            state.items_checked += 1
            state.tell("checking barcodes", state.items_checked, len(barcodes))

        await state.bounded(barcodes, check)
        if state.stopped is None:
            try:
                await self._find_renames(cases, rows, failures)
            except QuotaExhausted as error:
                state.stop(error)
        work = failures + self._classify_items(cases)
        state.findings += len(work)
        state.tell("checking barcodes", state.items_checked, state.items_checked)
        # By the barcode checked, and stable: a barcode's findings keep the order classify_item
        # gave them, which is the order of their repairs (a moved mirror's loan after the move).
        return sorted(work, key=lambda pair: pair[0].barcode if pair[0] else pair[1].barcode or "")

    async def _find_renames(
        self,
        cases: dict[str, ItemCase],
        rows: dict[str, MirroredItem],
        failures: list[ItemFinding],
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
                    self._state.items_checked += 1
                cases[case.barcode] = await self._facts.renamed(case, member, target)
            except (AlmaError, DomainError) as error:
                reason = f"looking for its member item by pid: {error}"
                failures.append((None, check_failed(self._inst, reason, barcode=case.barcode)))

    def _classify_items(self, cases: dict[str, ItemCase]) -> list[ItemFinding]:
        work: list[ItemFinding] = []
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


async def _items(stream: AsyncIterator[V]) -> AsyncIterator[V]:
    """Iterate a parser's stream and close it whatever happens (its thread must not linger)."""
    try:
        async for value in stream:
            yield value
    finally:
        close = getattr(stream, "aclose", None)
        if close is not None:
            await close()
