"""Concurrency never duplicates a bib or holding (I7, I8); the same file twice changes nothing
(I1, I6, I11); one sync per institution at a time. On every ledger backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from application.shared.ledger_records import MirroredItem
from tests.scenarios.items.support import (
    NZ_BARCODES,
    NZ_SHELF,
    Copy,
    holdings_of,
    mirror,
    row,
    scf_bibs_with_nz,
    scf_snapshot,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, CD, SCF, World, example_settings, marc_record, open_world

LEDGERS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
CD_LOCATIONS = ("rs_shared_1", "rs_shared_2", "rs_shared_3")


@pytest.mark.parametrize("ledger", LEDGERS)
async def test_I7_I8_fifty_new_items_of_one_NZ_bib_in_three_files_one_bib_one_holding_each(
    tmp_path: Path, ledger: str
) -> None:
    settings = example_settings(max_number_of_threads=10)
    async with open_world(tmp_path, ledger=ledger, settings=settings) as world:  # type: ignore[arg-type]
        copies = [Copy(f"CD5{n:03d}", "CDRS", CD_LOCATIONS[n % 3]) for n in range(50)]
        seed_bib(world, CD, "99CD50", copies, nz_id=NZ_BARCODES)
        for part, name in enumerate(("CD_1_new.xml", "CD_2_new.tar.gz", "CD_3_new.xml")):
            mine = copies[part::3]
            world.drop_publishing_file(
                CD, name, [marc_record("99CD50", [c.itm() for c in mine], nz_id=NZ_BARCODES)]
            )
        summary = await sync(world, CD)
        assert summary.created == 50
        (bib,) = scf_bibs_with_nz(world, NZ_BARCODES)
        assert sorted(holdings_of(world, bib)) == [
            ("RS", "rs_shared"),  # rs_shared_3 is not an SCF location (I8)
            ("RS", "rs_shared_1"),
            ("RS", "rs_shared_2"),
        ]
        assert len(world.state.loans_of(SCF, "01AAA_CD-CDRS")) == 50


async def _rows(world: World, institution: str, barcodes: list[str]) -> list[MirroredItem | None]:
    return [await row(world, institution, b) for b in barcodes]


@pytest.mark.parametrize("ledger", LEDGERS)
async def test_I1_the_same_publishing_file_twice_leaves_Alma_and_the_ledger_as_after_once(
    tmp_path: Path, ledger: str
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:  # type: ignore[arg-type]
        in_rs = [Copy(b, "ABRS", "rs_shared_in_ab") for b in ("AB9001", "AB9002")]
        nz = seed_bib(world, AB, "99AB1", in_rs, nz_id=NZ_SHELF)
        local = seed_bib(
            world,
            AB,
            "99AB2",
            [Copy("AB9003", "ABRS", "rs_shared_in_ab"), Copy("AB9004", "ABRS", "stacks")],
        )
        barcodes = ["AB9001", "AB9002", "AB9003", "AB9004"]
        world.drop_publishing_file(AB, "AB_20261122_new.tar.gz", [nz, local])
        first = await sync(world, AB)
        assert (first.created, first.skipped) == (3, 1)
        alma_once = scf_snapshot(world)
        rows_once = await _rows(world, AB, barcodes)

        world.drop_publishing_file(AB, "AB_20261122_new.tar.gz", [nz, local])
        second = await sync(world, AB)
        assert (second.unchanged, second.skipped, second.total) == (3, 1, 4)
        assert [f.status for f in second.files] == ["done"]
        assert scf_snapshot(world) == alma_once
        assert await _rows(world, AB, barcodes) == rows_once


async def test_one_items_sync_per_institution_at_a_time_and_institutions_in_parallel(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        ab = seed_bib(
            world, AB, "99AB1", [Copy("AB9001", "ABRS", "rs_shared_in_ab")], nz_id=NZ_SHELF
        )
        cd = seed_bib(world, CD, "99CD1", [Copy("CD9001", "CDRS", "rs_shared_1")])
        world.drop_publishing_file(AB, "AB_new.xml", [ab])
        world.drop_publishing_file(CD, "CD_new.xml", [cd])
        results = await asyncio.gather(sync(world, AB), sync(world, AB), sync(world, CD))
        assert sorted(r.created for r in results) == [0, 1, 1]
        assert len(await world.events(action="file.finish")) == 2
        assert mirror(world, "AB9001") is not None
        assert mirror(world, "CD9001") is not None


async def test_an_institution_that_is_not_a_member_is_refused(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        with pytest.raises(ValueError, match="not a configured member"):
            await sync(world, SCF)
        with pytest.raises(ValueError, match="not a configured member"):
            await sync(world, "01ZZZ_XX")
