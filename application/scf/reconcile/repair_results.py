"""What a reconciliation repair gives back, and what the repairs share (issue 7).

Each repair returns its result and, when it changes the ledger itself, the writes to make; the
caller writes them in the same unit of work as the `reconcile.<kind>` event (`Reconciliation`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from application.ports.ledger import LedgerUnitOfWork
from application.scf.reconcile.cases import ItemCase
from application.scf.reconcile.report import RepairResult
from application.shared.alma import AlmaItem
from application.shared.ledger_records import JsonValue, MirroredItem, Outcome
from domain.scf.naming import scf_barcode

RECONCILE_SOURCE = "almabridge reconcile"
"""The `file` of the item events a repair writes: no publishing file was read for them."""

LedgerWrites = Callable[[LedgerUnitOfWork], Awaitable[None]]


class RunStopped(Exception):
    """The daily API quota is spent (seen through a service's outcome): stop the run."""


class RepairImpossible(Exception):
    """The facts lack what the repair needs (e.g. the member item under its new barcode)."""


@dataclass(frozen=True)
class Repaired:
    """A repair's result and the ledger writes that go with its `reconcile.<kind>` event."""

    result: RepairResult
    ledger: LedgerWrites | None = None
    details: dict[str, JsonValue] = field(default_factory=dict)


def repair_ok(
    message: str, ledger: LedgerWrites | None = None, /, **details: JsonValue
) -> Repaired:
    return Repaired(RepairResult(Outcome.OK, message), ledger, dict(details))


def repair_failed(message: str, error_code: str | None = None, /, **details: JsonValue) -> Repaired:
    return Repaired(RepairResult(Outcome.FAILED, message, error_code), None, dict(details))


def scf_item_of(case: ItemCase) -> AlmaItem:
    """The barcode's SCF item, which the repair needs."""
    if case.scf is None:
        raise RepairImpossible(f"the SCF has no {scf_barcode(case.barcode)}")
    return case.scf


def ledger_row_of(case: ItemCase) -> MirroredItem:
    """The barcode's live ledger row, which the repair needs."""
    if case.row is None:
        raise RepairImpossible("the ledger has no live row for the barcode")
    return case.row
