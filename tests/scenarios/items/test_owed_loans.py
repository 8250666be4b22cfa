"""I10: every new SCF mirror is lent to the member's system user; "a loan that still fails is
recorded failed". The ledger row is written in state LENDING as soon as the mirror exists, so a
loan a crash or a failure left owed is made by the next sync, and only for the bridge's own
mirrors: one adopted from the Java era is never lent."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.shared.alma import AlmaLoan, ItemNotReadyForLoan
from entrypoints.bridge_wiring import item_sync
from tests.scenarios.items.support import (
    FAST_LOAN_RETRY,
    NZ_SHELF,
    Copy,
    item_events,
    mirror,
    row,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, SCF, World, open_world

AB_COPY = Copy("AB9001", "ABRS", "rs_shared_in_ab")
SYSTEM_USER = "01AAA_AB-ABRS"


class Killed(Exception):
    """The process dies: nothing after this point of the sync happens."""


class _Loans:
    """The SCF gateway whose transit loans die with the process or are refused by Alma."""

    def __init__(self, inner: AlmaGateway, *, kill: bool = False, refuse: bool = False) -> None:
        self._inner = inner
        self.kill = kill
        self.refuse = refuse
        self.attempts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create_loan(self, user_id: str, item_pid: str, **kw: str) -> AlmaLoan:
        self.attempts += 1
        if self.kill:
            raise Killed
        if self.refuse:
            raise ItemNotReadyForLoan(SCF, "create loan", 400, "401153", "Item cannot be loaned.")
        return await self._inner.create_loan(user_id, item_pid, **kw)


class _Directory:
    def __init__(self, inner: AlmaDirectory, scf: _Loans) -> None:
        self._inner = inner
        self._scf = scf

    def gateway(self, institution: str) -> AlmaGateway:
        if institution.casefold() == SCF.casefold():
            return self._scf
        return self._inner.gateway(institution)


def _loans_of_mirror(world: World) -> int:
    scf_item = mirror(world, AB_COPY.barcode)
    assert scf_item is not None
    return len(
        [loan for loan in world.state.loans_of(SCF, SYSTEM_USER) if loan.item_pid == scf_item.pid]
    )


async def _sync_with(world: World, scf: _Loans) -> None:
    bridge = dataclasses.replace(world.bridge, alma=_Directory(world.alma, scf))
    await item_sync(bridge, loan_retry=FAST_LOAN_RETRY).run(AB)


@pytest.mark.parametrize("ledger", ["memory", "sqlite"])
async def test_I10_a_loan_owed_since_a_crash_is_made_by_the_next_sync_exactly_once(
    tmp_path: Path, ledger: str
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:  # type: ignore[arg-type]
        published = seed_bib(world, AB, "99AB1", [AB_COPY])
        world.drop_publishing_file(AB, "AB_new.xml", [published])
        with pytest.raises(Killed):
            await _sync_with(world, _Loans(world.scf(), kill=True))
        # Killed between create_item and the loan: the mirror exists, unlent, its loan owed.
        scf_item = mirror(world, AB_COPY.barcode)
        assert scf_item is not None
        assert _loans_of_mirror(world) == 0
        owed = await row(world, AB, AB_COPY.barcode)
        assert owed is not None
        assert owed.state == "lending"
        assert owed.scf_item_pid == scf_item.pid

        world.drop_publishing_file(AB, "AB_again.xml", [published])
        await sync(world, AB)
        world.drop_publishing_file(AB, "AB_once_more.xml", [published])
        await sync(world, AB)  # the loan made, a later run lends nothing more
        assert _loans_of_mirror(world) == 1
        assert (
            len([i for i in world.state.institution(SCF).items.values() if i.barcode == "AB9001X"])
            == 1
        )
        lent = await row(world, AB, AB_COPY.barcode)
        assert lent is not None
        assert (lent.state, lent.scf_item_pid) == ("mirrored", scf_item.pid)
        assert lent.in_transit_loan
        created = [
            e for e in await item_events(world, AB, AB_COPY.barcode) if e.action == "item.create"
        ]
        assert [(e.outcome, e.details["loaned"]) for e in created] == [("ok", True)]
        assert "owed" in (created[0].message or "")


async def test_I10_a_loan_that_failed_is_retried_by_the_next_sync(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        published = seed_bib(world, AB, "99AB1", [AB_COPY])
        world.drop_publishing_file(AB, "AB_new.xml", [published])
        refusing = _Loans(world.scf(), refuse=True)
        await _sync_with(world, refusing)
        assert refusing.attempts == FAST_LOAN_RETRY.attempts
        assert _loans_of_mirror(world) == 0
        failed = await row(world, AB, AB_COPY.barcode)
        assert failed is not None
        assert failed.state == "lending"

        world.drop_publishing_file(AB, "AB_again.xml", [published])
        summary = await sync(world, AB)
        assert (summary.created, summary.failed) == (1, 0)
        assert _loans_of_mirror(world) == 1
        lent = await row(world, AB, AB_COPY.barcode)
        assert lent is not None
        assert (lent.state, lent.scf_item_pid) == ("mirrored", failed.scf_item_pid)
        assert lent.in_transit_loan
        events = await item_events(world, AB, AB_COPY.barcode)
        assert [(e.action, e.outcome) for e in events] == [
            ("item.create", "failed"),
            ("item.create", "ok"),
        ]


@pytest.mark.parametrize(
    ("alma", "under_the_nz_bib"), [("memory", True), ("http", True), ("http", False)]
)
async def test_I10_a_mirror_adopted_without_a_ledger_row_is_not_lent(
    tmp_path: Path, alma: str, under_the_nz_bib: bool
) -> None:
    """A Java-era mirror (in the SCF, unknown to the ledger) is adopted as an update, found by
    the NZ bib's items or by Alma refusing a second barcode (stray bib), and never lent."""
    async with open_world(tmp_path, alma=alma) as world:  # type: ignore[arg-type]
        copy = Copy("AB9001", "ABRS", "rs_shared_in_ab", {"description": "v.2"})
        published = seed_bib(world, AB, "99AB1", [copy], nz_id=NZ_SHELF)
        if under_the_nz_bib:
            bib = world.state.create_bib_from_nz(SCF, NZ_SHELF)
        else:
            bib = world.state.create_bib(SCF, title="A stray duplicate")
        holding = world.state.create_holding(SCF, bib.mms_id, library="RS", location="rs_shared")
        world.state.create_item(
            SCF,
            bib.mms_id,
            holding.holding_id,
            {"item_data": {"barcode": "AB9001X", "description": "v.1"}},
        )
        world.drop_publishing_file(AB, "AB_new.xml", [published])
        summary = await sync(world, AB)
        assert (summary.updated, summary.created, summary.failed) == (1, 0, 0)
        assert world.state.loans_of(SCF, SYSTEM_USER) == []
        adopted = await row(world, AB, "AB9001")
        assert adopted is not None
        assert (adopted.state, adopted.loaned_at) == ("mirrored", None)
        world.drop_publishing_file(AB, "AB_again.xml", [published])
        await sync(world, AB)
        assert world.state.loans_of(SCF, SYSTEM_USER) == []
