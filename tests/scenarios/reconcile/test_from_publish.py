"""Reconciling against a full publishing file: expected is what the file says is in remote
storage (I3, I5), so a barcode the ledger never saw is found missing, and a barcode change is
recognised through the member item's pid (issue 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.scf.reconcile.report import PublishFile
from domain.scf.reconciliation import FindingKind
from tests.scenarios.items.support import NZ_SHELF, Copy, record, seed_bib
from tests.scenarios.reconcile.support import (
    COPIES,
    LEDGERS,
    MEMBER_BIB,
    SYSTEM_USER,
    active_loans,
    change_member_barcode,
    fix_then_clean,
    kinds,
    mirrored_world,
    only,
    plan_without_writes,
    scf_item,
)
from tests.scenarios.world import AB, SCF, LedgerKind, World, collection, tar_gz

pytestmark = pytest.mark.parametrize("ledger", LEDGERS)


def full_file(tmp_path: Path, *records: str, name: str = "AB_full_1") -> PublishFile:
    """A full publishing archive on the local disk, as an operator downloads one."""
    path = tmp_path / f"{name}.tar.gz"
    path.write_bytes(tar_gz({f"{name}.xml": collection(records)}))
    return PublishFile(path)


async def test_I5_a_file_barcode_in_remote_storage_without_a_mirror_is_missing(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        # A third copy whose publishing never reached the bridge: the ledger cannot know it.
        third = Copy("AB7003", "ABRS", "rs_shared_in_ab", {"description": "v.3"})
        seed_bib(world, AB, MEMBER_BIB, [third], nz_id=NZ_SHELF)
        source = full_file(tmp_path, record(MEMBER_BIB, [*COPIES, third], nz_id=NZ_SHELF))
        assert (await plan_without_writes(world)).entries == ()  # the ledger's view: all fine

        plan = await plan_without_writes(world, source=source)
        only(plan, FindingKind.MISSING_MIRROR, "AB7003")
        assert plan.source == "publishing file AB_full_1.tar.gz"
        assert plan.items_checked == 3

        await fix_then_clean(world, source=source)
        made = scf_item(world, "AB7003")
        assert made.data["description"] == "v.3"
        assert active_loans(world, made) == [SYSTEM_USER]
        assert (await plan_without_writes(world)).entries == ()  # and the ledger knows it now


async def test_I5_a_file_that_says_an_item_left_remote_storage_makes_its_mirror_an_orphan(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        moved = Copy("AB7002", "ABRS", "stacks")
        source = full_file(tmp_path, record(MEMBER_BIB, [COPIES[0], moved], nz_id=NZ_SHELF))
        plan = await plan_without_writes(world, source=source)
        only(plan, FindingKind.ORPHAN_MIRROR, "AB7002")


async def test_a_barcode_change_is_recognised_by_the_member_pid_of_a_file_barcode(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with mirrored_world(tmp_path, ledger) as world:
        kept = scf_item(world, "AB7001")
        member = change_member_barcode(world, "AB7001", "AB7001-NEW")
        renamed = Copy("AB7001-NEW", "ABRS", "rs_shared_in_ab")
        source = full_file(tmp_path, record(MEMBER_BIB, [renamed, COPIES[1]], nz_id=NZ_SHELF))
        plan = await plan_without_writes(world, source=source)
        # One finding: the new barcode is not also "missing", its mirror is the one to move.
        assert kinds(plan) == [("barcode_changed", "AB7001")]
        assert plan.entries[0].finding.new_barcode == "AB7001-NEW"

        await fix_then_clean(world, source=source)
        assert _mirrors(world) == ["AB7001-NEWX", "AB7002X"]
        assert scf_item(world, "AB7001-NEW").pid == kept.pid
        assert world.state.item_by_pid(AB, member.pid) is not None


def _mirrors(world: World) -> list[str]:
    return sorted(item.barcode for item in world.state.institution(SCF).items.values())
