"""Helpers of the reconciliation scenarios: a world synced for real, then drifted by hand.

Each scenario mirrors AB's items with a real items sync (and forwards a request with a real
requests sync), changes the fake Alma behind the bridge's back as staff or a lost webhook would,
then runs `Reconciliation` without and with `fix`. The HTTP twin of the fake Alma is used so the
fake's call log shows exactly which calls a run made.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from adapters.fake_alma.call_log import CallRecord
from adapters.fake_alma.model import Item
from application.scf.reconcile.report import ReconcileReport, ReconcileSource
from application.shared.ledger_records import LedgerEvent
from domain.scf.reconciliation import FindingKind
from entrypoints.bridge_wiring import reconciliation
from tests.scenarios.items.support import (
    FAST_LOAN_RETRY,
    NZ_SHELF,
    Copy,
    mirror,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, SCF, LedgerKind, World, open_world

LEDGERS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Every drift kind is detected and repaired on both SQL ledgers (the done-when of issue 7)."""

MEMBER_BIB = "99AB77"
SYSTEM_USER = "01AAA_AB-ABRS"
COPIES = (
    Copy("AB7001", "ABRS", "rs_shared_in_ab", {"description": "v.1"}),
    Copy("AB7002", "ABRS", "rs_shared_in_ab", {"description": "v.2"}),
)
WRITES = ("POST", "PUT", "DELETE")


@asynccontextmanager
async def mirrored_world(tmp_path: Path, ledger: LedgerKind) -> AsyncIterator[World]:
    """A world whose AB items AB7001 and AB7002 were mirrored by a real items sync."""
    async with open_world(tmp_path, ledger=ledger, alma="http") as world:
        record = seed_bib(world, AB, MEMBER_BIB, COPIES, nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_1_new.xml", [record])
        summary = await sync(world, AB)
        assert summary.created == len(COPIES), summary
        yield world


async def reconcile(
    world: World, *, fix: bool = False, source: ReconcileSource | None = None
) -> ReconcileReport:
    """One reconciliation of AB."""
    return await reconciliation(world.bridge, loan_retry=FAST_LOAN_RETRY).run(
        AB, source=source, fix=fix
    )


async def plan_without_writes(
    world: World, *, source: ReconcileSource | None = None
) -> ReconcileReport:
    """A plan-only run, asserting it made GET calls only (the done-when: no write in the log)."""
    world.state.call_log.clear()
    events_before = len(await world.events())
    report = await reconcile(world, source=source)
    writes = [c for c in world.state.call_log if c.method in WRITES]
    assert writes == [], _calls(writes)
    events = (await world.events())[events_before:]
    # The one ledger write of a plan: its summary.
    assert [e.action for e in events] == ["reconcile.run"]
    return report


async def fix_then_clean(
    world: World, *, source: ReconcileSource | None = None
) -> tuple[ReconcileReport, ReconcileReport]:
    """`fix`, then a second `fix` run that must find nothing."""
    fixed = await reconcile(world, fix=True, source=source)
    assert all(entry.settled for entry in fixed.entries), fixed.entries
    assert fixed.clean, fixed.summary()
    again = await reconcile(world, fix=True, source=source)
    assert again.entries == (), again.summary()
    assert again.clean
    return fixed, again


def kinds(report: ReconcileReport) -> list[tuple[str, str]]:
    """(kind, barcode or request id) of every finding."""
    return [(entry.finding.kind.value, entry.finding.subject) for entry in report.entries]


def only(report: ReconcileReport, kind: FindingKind, subject: str) -> None:
    """The report found exactly this one thing."""
    assert kinds(report) == [(kind.value, subject)], report.summary()


def scf_item(world: World, barcode: str) -> Item:
    """The SCF mirror `{barcode}X`; fails when there is none."""
    found = mirror(world, barcode)
    assert found is not None, f"no {barcode}X in the SCF"
    return found


def active_loans(world: World, item: Item) -> list[str]:
    """Users the SCF item is on loan to now."""
    return [
        loan.user_id
        for loan in world.state.institution(SCF).loans.values()
        if loan.item_pid == item.pid and loan.active
    ]


def return_loan_by_hand(world: World, barcode: str) -> None:
    """SCF staff return the mirror's loan at the desk, and the LOAN_RETURNED never arrives."""
    item = scf_item(world, barcode)
    world.state.scan_in(
        SCF,
        item.mms_id,
        item.holding_id,
        item.pid,
        library="RS",
        circ_desk="DEFAULT_CIRC_DESK",
        done=True,
    )


def change_member_barcode(world: World, old: str, new: str) -> Item:
    """AB staff give the member item a new barcode (what made the Java app duplicate mirrors)."""
    item = world.state.item_by_barcode(AB, old)
    body: dict[str, Any] = {
        "item_data": {**item.data, "barcode": new},
        "holding_data": dict(item.holding_fields),
    }
    return world.state.update_item(AB, item.mms_id, item.holding_id, item.pid, body)


def move_member_item(world: World, barcode: str, location: str) -> None:
    """AB staff move the member item to another location of its library."""
    item = world.state.item_by_barcode(AB, barcode)
    holding = world.state.create_holding(AB, item.mms_id, library="ABRS", location=location)
    item.holding_id = holding.holding_id
    item.data["location"] = {"value": location, "desc": location}


def delete_member_item(world: World, barcode: str) -> None:
    """AB staff withdraw the member item."""
    item = world.state.item_by_barcode(AB, barcode)
    world.state.delete_item(AB, item.mms_id, item.holding_id, item.pid, override=True)


async def reconcile_events(world: World) -> list[LedgerEvent]:
    """The `reconcile.<kind>` repair events (not the run summaries), oldest first."""
    return [
        e
        for e in await world.events(institution=AB)
        if e.action.startswith("reconcile.") and e.action != "reconcile.run"
    ]


def _calls(calls: list[CallRecord]) -> str:
    return "\n".join(f"{c.method} {c.path}?{c.query} -> {c.status}" for c in calls)
