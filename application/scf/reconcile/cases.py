"""What reconciliation works on: one barcode's case, one forwarded request's case (issue 7).

A case holds the facts the domain classifies (`domain.scf.reconciliation`) together with the Alma
records and the ledger row its repairs start from. `ReconcileFacts` reads them; the checks of a
run (`item_checks`, `request_checks`) classify them; `ReconcileRepairs` carries out the repairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from application.shared.alma import AlmaError, AlmaItem, NotFound
from application.shared.ledger_records import ForwardedRequest, MirroredItem, MirrorState
from domain.scf.items.published import PublishedItem
from domain.scf.reconciliation import ItemFacts, RequestFacts
from domain.scf.requests.routing import Route

LIVE = (MirrorState.CREATING, MirrorState.MIRRORED, MirrorState.LENDING)
"""Ledger states of a mirror that should exist in the SCF."""


@dataclass(frozen=True)
class ItemCase:
    """One barcode's facts, and the Alma records and ledger row its repairs start from."""

    barcode: str
    facts: ItemFacts
    published: PublishedItem | None
    row: MirroredItem | None
    """The live ledger row, if any."""
    member: AlmaItem | None
    scf: AlmaItem | None
    renamed_member: AlmaItem | None = None
    """The member item under its new barcode, when the member changed the barcode."""

    def moved_from(self, barcode: str) -> ItemCase:
        """This case as the target of another barcode's mirror moving here."""
        return replace(self, facts=replace(self.facts, moved_here_from=barcode))


@dataclass(frozen=True)
class RequestCase:
    """One forwarded request's facts and its ledger row."""

    row: ForwardedRequest
    facts: RequestFacts


def route_of(row: ForwardedRequest) -> Route | None:
    """The row's R4 route; None for a row the bridge could not route."""
    try:
        return Route(row.route)
    except ValueError:
        return None


def is_gone(error: AlmaError) -> bool:
    """Alma's answer for a request (or its bib or user) that no longer exists."""
    return isinstance(error, NotFound)


def index_by_pid(cases: Mapping[str, ItemCase]) -> dict[str, AlmaItem]:
    """Member items of the gathered cases by pid (a barcode change shows up as a published
    barcode whose member pid a ledger row of another barcode remembers)."""
    return {
        case.member.pid: case.member
        for case in cases.values()
        if case.member is not None and case.member.pid
    }
