"""Plan first, apply second (rules I6–I12): `ItemMirroring.plan` makes only reads and says which
step the item needs, `apply` makes that step's writes, and a dry run reports `planned(plan)`.

Each scenario sets one kind of plan up on the fake Alma, reached over HTTP so that every call is
in the fake's log, and on the ledger.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from application.scf.items.item_mirroring import ItemMirroring, mirroring_for
from application.scf.items.item_outcomes import ItemResult
from application.scf.items.item_plans import Create, PlanKind, planned
from application.scf.items.transit_loans import TransitLoans
from application.shared.ledger_records import MirrorState
from domain.scf.items.decisions import ItemAction
from domain.scf.items.published import PublishedItem
from tests.scenarios.items.support import (
    FAST_LOAN_RETRY,
    NZ_SHELF,
    Copy,
    calls,
    return_transit_loan,
    row,
    scf_snapshot,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, SCF, World, open_world

MEMBER_BIB = "99AB1"
IN_RS = Copy("AB9001", "ABRS", "rs_shared_in_ab", {"description": "v.1"})
IN_STACKS = Copy("AB9001", "ABRS", "stacks")
SYSTEM_USER = "01AAA_AB-ABRS"


def mirroring(world: World, *, dry_run: bool = False) -> ItemMirroring:
    """AB's mirroring as the items sync builds it."""
    consortium = world.bridge.settings.consortium
    loans = TransitLoans(world.scf(), consortium.remote_storage, FAST_LOAN_RETRY)
    return mirroring_for(world.alma, world.ledger, consortium, AB, loans, dry_run=dry_run)


def published(copy: Copy = IN_RS, *, deleted: bool = False) -> PublishedItem:
    """The ITM of `copy` in AB's published record of `MEMBER_BIB`."""
    return PublishedItem(
        institution=AB,
        member_mms_id=MEMBER_BIB,
        nz_mms_id=NZ_SHELF,
        barcode=copy.barcode,
        library=copy.library,
        location=copy.location,
        internal_note_2=None,
        deleted=deleted,
        source_file="AB_plan_new.xml",
        record_position=0,
    )


async def _mirrored_by_a_sync(world: World) -> None:
    world.drop_publishing_file(
        AB, "AB_1_new.xml", [seed_bib(world, AB, MEMBER_BIB, [IN_RS], nz_id=NZ_SHELF)]
    )
    summary = await sync(world, AB)
    assert summary.created == 1


async def _owing_a_loan(world: World, state: MirrorState, *, with_scf_item: bool) -> None:
    """A ledger row left by a creation that was killed (CREATING) or whose loan failed
    (LENDING), with the SCF mirror it made, unlent, or none."""
    seed_bib(world, AB, MEMBER_BIB, [IN_RS], nz_id=NZ_SHELF)
    bib = world.state.create_bib_from_nz(SCF, NZ_SHELF)
    holding = world.state.create_holding(SCF, bib.mms_id, library="RS", location="rs_shared")
    pid = ""
    if with_scf_item:
        body = {"item_data": {"barcode": "AB9001X", "description": "v.0"}}
        pid = world.state.create_item(SCF, bib.mms_id, holding.holding_id, body).pid
    async with world.ledger.unit_of_work() as uow:
        await uow.items.upsert(
            AB,
            IN_RS.barcode,
            scf_mms_id=bib.mms_id,
            scf_holding_id=holding.holding_id,
            scf_item_pid=pid,
            member_mms_id=MEMBER_BIB,
            nz_mms_id=NZ_SHELF,
            fingerprint="of the member item as it was",
            state=state,
        )
        await uow.commit()


async def create(world: World) -> PublishedItem:
    seed_bib(world, AB, MEMBER_BIB, [IN_RS], nz_id=NZ_SHELF)
    return published()


async def skip(world: World) -> PublishedItem:
    seed_bib(world, AB, MEMBER_BIB, [IN_STACKS], nz_id=NZ_SHELF)
    return published(IN_STACKS)


async def unchanged(world: World) -> PublishedItem:
    await _mirrored_by_a_sync(world)
    return published()


async def update(world: World) -> PublishedItem:
    await _mirrored_by_a_sync(world)
    member = world.state.find_item(AB, IN_RS.barcode)
    assert member is not None
    member.data["description"] = "v.2"
    return published()


async def delete(world: World) -> PublishedItem:
    await _mirrored_by_a_sync(world)
    return_transit_loan(world, IN_RS.barcode)
    return published(deleted=True)


async def complete_loan(world: World) -> PublishedItem:
    await _owing_a_loan(world, MirrorState.LENDING, with_scf_item=True)
    return published()


async def recreate(world: World) -> PublishedItem:
    await _owing_a_loan(world, MirrorState.CREATING, with_scf_item=False)
    return published()


async def gone(world: World) -> PublishedItem:
    await _owing_a_loan(world, MirrorState.CREATING, with_scf_item=False)
    return published(deleted=True)


async def no_member_item(world: World) -> PublishedItem:
    return published()


@dataclass(frozen=True)
class Scenario:
    setup: Callable[[World], Awaitable[PublishedItem]]
    kind: PlanKind
    result: ItemResult
    message: str
    """How the real run's outcome message starts."""
    dry_run: str
    """How the dry run's message starts."""


SCENARIOS = {
    "I7-I10 create": Scenario(
        create,
        PlanKind.CREATE,
        ItemResult.CREATED,
        "created AB9001X in SCF bib",
        "dry run: would be created: in remote storage and not yet in the SCF",
    ),
    "I6 not in remote storage": Scenario(
        skip,
        PlanKind.READY,
        ItemResult.SKIPPED,
        "not in remote storage and not in the SCF",
        "not in remote storage and not in the SCF",
    ),
    "I11 unchanged fingerprint": Scenario(
        unchanged,
        PlanKind.READY,
        ItemResult.UNCHANGED,
        "unchanged at the member since the last sync: no SCF call",
        "unchanged at the member since the last sync: no SCF call",
    ),
    "I11 update": Scenario(
        update,
        PlanKind.UPDATE,
        ItemResult.UPDATED,
        "updated description of AB9001X",
        "dry run: would be updated (description): in remote storage and already in the SCF",
    ),
    "I12 delete": Scenario(
        delete,
        PlanKind.DELETE,
        ItemResult.DELETED,
        "deleted AB9001X: deleted at the member",
        "dry run: would be deleted: deleted at the member",
    ),
    "I10 owed loan": Scenario(
        complete_loan,
        PlanKind.COMPLETE_LOAN,
        ItemResult.UPDATED,  # lent, then updated: the update's outcome, marked loaned
        f"completed the transit loan of AB9001X to {SYSTEM_USER} owed since its creation; "
        "updated description of AB9001X",
        "dry run: would be created: in remote storage and already in the SCF",
    ),
    "I7 killed before Alma created it": Scenario(
        recreate,
        PlanKind.CREATE,
        ItemResult.CREATED,
        "created AB9001X in SCF bib",
        "dry run: would be created: in remote storage and not yet in the SCF",
    ),
    "I12 killed before Alma created it": Scenario(
        gone,
        PlanKind.GONE,
        ItemResult.DELETED,
        "AB9001X was already gone from the SCF: deleted at the member",
        "dry run: would be deleted: deleted at the member",
    ),
    "I13 no member item": Scenario(
        no_member_item,
        PlanKind.READY,
        ItemResult.FAILED,
        f"{AB} has no item with barcode AB9001",
        f"{AB} has no item with barcode AB9001",
    ),
}
scenarios = pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())


@scenarios
async def test_I6_I12_a_dry_run_reports_the_plan_a_real_run_makes(
    tmp_path: Path, scenario: Scenario
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        item = await scenario.setup(world)
        plan = await mirroring(world).plan(item)
        assert plan.kind is scenario.kind
        dry = await mirroring(world, dry_run=True).mirror(item)
        assert dry == planned(plan)
        assert dry.message.startswith(scenario.dry_run)


@scenarios
async def test_I6_I12_planning_writes_nothing_to_Alma_or_the_ledger(
    tmp_path: Path, scenario: Scenario
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        item = await scenario.setup(world)
        events = await world.events()
        ledger_row = await row(world, AB, IN_RS.barcode)
        scf = scf_snapshot(world)
        world.state.call_log.clear()

        await mirroring(world).plan(item)

        assert {c.method for c in world.state.call_log} <= {"GET"}
        assert await world.events() == events
        assert await row(world, AB, IN_RS.barcode) == ledger_row
        assert scf_snapshot(world) == scf


@scenarios
async def test_I7_I12_applying_the_plan_is_what_mirror_does(
    tmp_path: Path, scenario: Scenario
) -> None:
    """Two identical worlds: one item mirrored in one, planned then applied in the other. The
    outcome, the calls to Alma (in order) and the SCF afterwards are the same."""
    async with (
        open_world(tmp_path / "mirror", alma="http") as one,
        open_world(tmp_path / "steps", alma="http") as other,
    ):
        item = await scenario.setup(one)
        assert await scenario.setup(other) == item
        one.state.call_log.clear()
        other.state.call_log.clear()

        mirrored = await mirroring(one).mirror(item)
        steps = mirroring(other)
        applied = await steps.apply(await steps.plan(item))

        assert applied == mirrored
        assert (applied.result, applied.message[: len(scenario.message)]) == (
            scenario.result,
            scenario.message,
        )

        def log(world: World) -> list[tuple[str | None, str, str, str]]:
            return [(c.institution, c.method, c.path, c.query) for c in world.state.call_log]

        assert log(other) == log(one)
        assert scf_snapshot(other) == scf_snapshot(one)


async def test_I11_an_unchanged_member_item_is_planned_without_an_SCF_call(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path, alma="http") as world:
        item = await unchanged(world)
        world.state.call_log.clear()
        plan = await mirroring(world).plan(item)
        assert plan.kind is PlanKind.READY
        assert calls(world, SCF) == []
        assert await mirroring(world).apply(plan) == planned(plan)
        assert calls(world, SCF) == []


async def test_I7_a_mirror_made_again_for_an_update_fails_as_the_update(tmp_path: Path) -> None:
    """The ledger remembers a mirror the SCF lacks: the plan is a creation (its dry run says
    "would be created"), but a failure to create it is still the update's (I13 event)."""
    async with open_world(tmp_path, alma="http") as world:
        assert world.faults is not None
        item = await recreate(world)
        steps = mirroring(world)
        plan = await steps.plan(item)
        assert isinstance(plan, Create)
        assert (plan.decision.action, plan.failure_action) == (ItemAction.CREATE, ItemAction.UPDATE)
        assert planned(plan).action is ItemAction.CREATE

        world.faults.fail_next(50, status=500, institution=SCF, path_contains="/items")
        outcome = await steps.apply(plan)

        assert (outcome.result, outcome.action) == (ItemResult.FAILED, ItemAction.UPDATE)
        assert outcome.error is not None
        assert "General Error" in outcome.message
