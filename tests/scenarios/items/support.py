"""Helpers of the items-sync scenarios: seed member items, publish them, sync, look at the SCF.

Member items are seeded in the fake with a known member MMS id, so the published record's `001`
names their bib as Alma's publishing would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.fake_alma.call_log import CallRecord
from adapters.fake_alma.model import Item
from application.scf.items.item_sync import ItemSyncSummary
from application.scf.items.transit_loans import LoanRetry
from application.shared.ledger_records import LedgerEvent, MirroredItem
from entrypoints.bridge_wiring import item_sync
from tests.scenarios.world import SCF, World, marc_record

FAST_LOAN_RETRY = LoanRetry(attempts=5, timeout_seconds=5, wait_initial=0.001, wait_max=0.01)
AB_RS = {"c": "ABRS", "l": "rs_shared_in_ab"}
NZ_SHELF = "9912345600000021"  # "The shared shelf", held by AB
NZ_COLD = "9912345700000021"  # "Cold rooms and warm data", held by CD
NZ_BARCODES = "9912345800000021"  # "Barcodes : a field guide", held by nobody yet


@dataclass(frozen=True)
class Copy:
    """One member item to seed and publish: barcode, library, location and item fields."""

    barcode: str
    library: str
    location: str
    fields: dict[str, Any] | None = None

    def itm(self) -> dict[str, str]:
        return {"b": self.barcode, "c": self.library, "l": self.location}


def seed_bib(
    world: World,
    institution: str,
    mms_id: str,
    copies: Sequence[Copy],
    *,
    nz_id: str | None = None,
    title: str = "A seeded title",
) -> str:
    """Seed the member bib `mms_id` with these items; returns its published record."""
    for copy in copies:
        world.state.seed_item(
            institution,
            barcode=copy.barcode,
            library=copy.library,
            location=copy.location,
            mms_id=mms_id,
            nz_mms_id=nz_id,
            title=title,
            item_data=copy.fields,
        )
    return record(mms_id, copies, nz_id=nz_id, title=title)


def record(
    mms_id: str,
    copies: Iterable[Copy],
    *,
    nz_id: str | None = None,
    title: str = "A seeded title",
    deleted: bool = False,
) -> str:
    """The published record of a member bib with these ITMs."""
    return marc_record(mms_id, [c.itm() for c in copies], nz_id=nz_id, title=title, deleted=deleted)


async def sync(world: World, institution: str, **options: Any) -> ItemSyncSummary:
    """One items sync, with quick loan retries."""
    return await item_sync(world.bridge, loan_retry=FAST_LOAN_RETRY).run(institution, **options)


def mirror(world: World, barcode: str) -> Item | None:
    """The SCF item `{barcode}X`, if any."""
    return world.state.find_item(SCF, barcode + "X")


SCF_PATRON = "ab_patron1"
"""A patron of the SCF (ab_patron1 of AB, linked into the SCF by the seed)."""


def lend_to_patron(world: World, barcode: str) -> None:
    """SCF staff return the mirror's transit loan and lend the mirror to a patron."""
    return_transit_loan(world, barcode)
    scf_item = mirror(world, barcode)
    assert scf_item is not None
    world.state.create_loan(
        SCF, SCF_PATRON, item_pid=scf_item.pid, circ_desk="DEFAULT_CIRC_DESK", library="RS"
    )


def return_transit_loan(world: World, barcode: str) -> None:
    """SCF staff return the mirror's transit loan on arrival (what C1 hears of)."""
    scf_item = mirror(world, barcode)
    assert scf_item is not None
    world.state.scan_in(
        SCF,
        scf_item.mms_id,
        scf_item.holding_id,
        scf_item.pid,
        library="RS",
        circ_desk="DEFAULT_CIRC_DESK",
        done=True,
    )


def holdings_of(world: World, mms_id: str) -> list[tuple[str | None, str | None]]:
    """(library, location) of each SCF holding of a bib."""
    return [(h.library, h.location) for h in world.state.holdings_of(SCF, mms_id)]


def scf_bibs_with_nz(world: World, nz_id: str) -> list[str]:
    """The SCF bibs linked to an NZ record."""
    return [b.mms_id for b in world.state.find_bibs(SCF, nz_mms_id=nz_id)]


def calls(world: World, institution: str) -> list[CallRecord]:
    """The fake's call log for one institution (HTTP worlds only)."""
    return world.state.call_log.records(institution=institution)


async def row(world: World, institution: str, barcode: str) -> MirroredItem | None:
    """The ledger's mirrored_items row of a barcode."""
    return (await world.ledger.item_history(institution, barcode)).item


async def item_events(world: World, institution: str, barcode: str) -> list[LedgerEvent]:
    """The ledger's events of a barcode, oldest first."""
    return list((await world.ledger.item_history(institution, barcode)).events)


def scf_snapshot(world: World) -> dict[str, tuple[Any, ...]]:
    """Every SCF mirror as comparable facts: bib (NZ id or 035s), holding location, fields,
    loan. Ids are left out: they depend on the order calls arrive in."""
    state = world.state
    inst = state.institution(SCF)
    snapshot: dict[str, tuple[Any, ...]] = {}
    for item in inst.items.values():
        bib = inst.bibs[item.mms_id]
        holding = inst.holdings[item.holding_id]
        loans = [
            (loan.user_id, loan.library, loan.circ_desk)
            for loan in inst.loans.values()
            if loan.item_pid == item.pid and loan.active
        ]
        data = {
            k: v
            for k, v in item.data.items()
            if k not in ("pid", "creation_date", "modification_date", "arrival_date")
        }
        snapshot[item.barcode] = (
            bib.nz_mms_id or tuple(sorted(bib.other_system_ids())),
            holding.library,
            holding.location,
            repr(sorted(data.items())),
            tuple(loans),
        )
    return snapshot
