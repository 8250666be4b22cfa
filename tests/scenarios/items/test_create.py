"""Creating a mirror: the bib (I7), the holding at the resolved location (I8), the item (I9) and
its transit loan (I10)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from adapters.fake_alma import marc
from application.ports.alma.gateway import AlmaDirectory, AlmaGateway
from application.shared.alma import AlmaLoan, ItemNotReadyForLoan
from entrypoints.bridge_wiring import item_sync
from tests.scenarios.items.support import (
    FAST_LOAN_RETRY,
    NZ_BARCODES,
    NZ_SHELF,
    Copy,
    holdings_of,
    item_events,
    mirror,
    row,
    scf_bibs_with_nz,
    seed_bib,
    sync,
)
from tests.scenarios.world import AB, CD, SCF, open_world

AB_COPY = Copy("AB9001", "ABRS", "rs_shared_in_ab")


async def test_I7_an_NZ_record_is_linked_into_the_SCF_once(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        copies = [AB_COPY, Copy("AB9002", "ABRS", "rs_shared_in_ab")]
        world.drop_publishing_file(
            AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", copies, nz_id=NZ_SHELF)]
        )
        assert (await sync(world, AB)).created == 2
        (bib,) = scf_bibs_with_nz(world, NZ_SHELF)
        assert {mirror(world, c.barcode).mms_id for c in copies} == {bib}  # type: ignore[union-attr]


async def test_I7_an_SCF_bib_already_linked_to_the_NZ_record_is_reused(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        existing = world.state.create_bib_from_nz(SCF, NZ_SHELF)
        rec = seed_bib(world, AB, "99AB1", [AB_COPY], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        await sync(world, AB)
        assert scf_bibs_with_nz(world, NZ_SHELF) == [existing.mms_id]
        assert mirror(world, "AB9001").mms_id == existing.mms_id  # type: ignore[union-attr]


async def test_I7_without_NZ_id_a_local_bib_carries_the_035_and_no_ITM_or_AVA(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, AB, "99AB1", [AB_COPY], title="Local annals")
        world.drop_publishing_file(AB, "AB_new.xml", [rec])
        await sync(world, AB)
        (bib,) = world.state.find_bibs(SCF, other_system_id="(01AAA_AB)99AB1")
        tags = {field.get("tag") for field in bib.record.iter("datafield")}
        assert "ITM" not in tags
        assert "AVA" not in tags
        assert "Local annals" in marc.to_anies(bib.record)[0]
        # A later item of the same member bib finds it by other_system_id (N4).
        second = seed_bib(world, AB, "99AB1", [Copy("AB9002", "ABRS", "rs_shared_in_ab")])
        world.drop_publishing_file(AB, "AB_2_new.xml", [second])
        await sync(world, AB)
        assert mirror(world, "AB9002").mms_id == bib.mms_id  # type: ignore[union-attr]
        assert len(world.state.find_bibs(SCF, other_system_id="(01AAA_AB)99AB1")) == 1


async def test_I8_default_location_fallback_and_its_holding_is_reused_later(
    tmp_path: Path,
) -> None:
    """AB's rs_shared_in_ab is not an SCF location: the holding goes to rs_shared, and a later
    sync (cold caches) reuses that holding instead of making one per item (Java's bug)."""
    async with open_world(tmp_path) as world:
        rec = seed_bib(world, AB, "99AB1", [AB_COPY], nz_id=NZ_SHELF)
        world.drop_publishing_file(AB, "AB_1_new.xml", [rec])
        await sync(world, AB)
        (bib,) = scf_bibs_with_nz(world, NZ_SHELF)
        assert holdings_of(world, bib) == [("RS", "rs_shared")]
        later = [Copy("AB9002", "ABRS", "rs_shared_in_ab")]
        world.drop_publishing_file(
            AB, "AB_2_new.xml", [seed_bib(world, AB, "99AB1", later, nz_id=NZ_SHELF)]
        )
        await sync(world, AB)
        assert holdings_of(world, bib) == [("RS", "rs_shared")]
        assert mirror(world, "AB9001").holding_id == mirror(world, "AB9002").holding_id  # type: ignore[union-attr]


async def test_I8_a_member_location_the_SCF_library_has_is_kept(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        copies = [
            Copy("CD9001", "CDRS", "rs_shared_1"),
            Copy("CD9002", "CDRS", "rs_shared_2"),
            Copy("CD9003", "CDRS", "rs_shared_3"),  # not in the SCF library: default
            Copy("CD9004", "CDRS", "rs_shared_1"),
        ]
        rec = seed_bib(world, CD, "99CD1", copies, nz_id=NZ_BARCODES)
        world.drop_publishing_file(CD, "CD_new.xml", [rec])
        await sync(world, CD)
        (bib,) = scf_bibs_with_nz(world, NZ_BARCODES)
        assert sorted(holdings_of(world, bib)) == [
            ("RS", "rs_shared"),
            ("RS", "rs_shared_1"),
            ("RS", "rs_shared_2"),
        ]


async def test_I9_the_mirror_is_the_member_item_with_X_barcode_and_provenance(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        fields = {
            "policy": {"value": "4-Week"},
            "internal_note_1": "member only",
            "internal_note_2": "shelf A-12",
            "description": "c.2",
        }
        copy = Copy("AB9001", "ABRS", "rs_shared_in_ab", fields)
        world.drop_publishing_file(AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", [copy])])
        await sync(world, AB)
        scf_item = mirror(world, "AB9001")
        assert scf_item is not None
        data = scf_item.data
        assert data["provenance"]["value"] == AB
        assert (data["description"], data["internal_note_2"]) == ("c.2", "shelf A-12")
        assert data["policy"]["value"] in ("", None)
        assert data["internal_note_1"] in ("", None)
        assert (data["library"]["value"], data["location"]["value"]) == ("RS", "rs_shared")


async def test_I10_the_new_mirror_is_lent_to_the_member_library_system_user(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        world.drop_publishing_file(AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", [AB_COPY])])
        await sync(world, AB)
        scf_item = mirror(world, "AB9001")
        (loan,) = world.state.loans_of(SCF, "01AAA_AB-ABRS")
        assert loan.item_pid == scf_item.pid  # type: ignore[union-attr]
        assert (loan.library, loan.circ_desk) == ("RS", "DEFAULT_CIRC_DESK")
        mirrored = await row(world, AB, "AB9001")
        assert mirrored is not None
        assert mirrored.in_transit_loan


class _NotReadyAtFirst:
    """The SCF gateway, refusing the first `refusals` loans as Alma does before an item is
    ready to circulate."""

    def __init__(self, inner: AlmaGateway, refusals: int, code: str) -> None:
        self._inner = inner
        self.refusals = refusals
        self.code = code
        self.attempts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def create_loan(self, user_id: str, item_pid: str, **kw: str) -> AlmaLoan:
        self.attempts += 1
        if self.attempts <= self.refusals:
            raise ItemNotReadyForLoan(SCF, "create loan", 400, self.code, "Item cannot be loaned.")
        return await self._inner.create_loan(user_id, item_pid, **kw)


class _Directory:
    def __init__(self, inner: AlmaDirectory, scf: _NotReadyAtFirst) -> None:
        self._inner = inner
        self._scf = scf

    def gateway(self, institution: str) -> AlmaGateway:
        if institution.casefold() == SCF.casefold():
            return self._scf
        return self._inner.gateway(institution)


async def test_I10_the_loan_is_retried_with_backoff_while_Alma_is_not_ready(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        scf = _NotReadyAtFirst(world.scf(), refusals=3, code="401153")
        bridge = dataclasses.replace(world.bridge, alma=_Directory(world.alma, scf))
        world.drop_publishing_file(AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", [AB_COPY])])
        summary = await item_sync(bridge, loan_retry=FAST_LOAN_RETRY).run(AB)
        assert summary.created == 1
        assert scf.attempts == 4
        assert len(world.state.loans_of(SCF, "01AAA_AB-ABRS")) == 1


async def test_I10_a_loan_that_still_fails_is_a_failed_event_and_the_item_stays_mirrored(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        scf = _NotReadyAtFirst(world.scf(), refusals=99, code="401153")
        bridge = dataclasses.replace(world.bridge, alma=_Directory(world.alma, scf))
        world.drop_publishing_file(AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", [AB_COPY])])
        summary = await item_sync(bridge, loan_retry=FAST_LOAN_RETRY).run(AB)
        assert (summary.created, summary.failed) == (0, 1)
        assert scf.attempts == FAST_LOAN_RETRY.attempts
        assert mirror(world, "AB9001") is not None
        mirrored = await row(world, AB, "AB9001")
        assert mirrored is not None
        assert mirrored.state == "lending"  # the loan is still owed: the next sync retries it
        assert mirrored.loaned_at is None
        (event,) = await item_events(world, AB, "AB9001")
        assert (event.action, event.outcome, event.error_code) == (
            "item.create",
            "failed",
            "401153",
        )
        assert event.details["scf_item_pid"] == mirrored.scf_item_pid
        assert "the loan to 01AAA_AB-ABRS failed" in (event.message or "")
        (report,) = world.reports.rows
        assert report.message.startswith("Failed to handle item AB9001: created AB9001X")


async def test_I10_a_missing_system_user_is_not_retried(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        world.state.add_location(AB, "ABMAIN", "rs_extra")
        settings = world.bridge.settings
        institution = settings.consortium.institution(AB)
        assert institution is not None
        library = dataclasses.replace(
            institution.libraries[0],
            code="ABMAIN",
            remote_storage_locations=frozenset({"rs_extra"}),
        )
        consortium = dataclasses.replace(
            settings.consortium,
            institutions=tuple(
                dataclasses.replace(i, libraries=(*i.libraries, library)) if i.code == AB else i
                for i in settings.consortium.institutions
            ),
        )
        bridge = dataclasses.replace(
            world.bridge, settings=dataclasses.replace(settings, consortium=consortium)
        )
        copy = Copy("AB9001", "ABMAIN", "rs_extra")
        world.drop_publishing_file(AB, "AB_new.xml", [seed_bib(world, AB, "99AB1", [copy])])
        summary = await item_sync(bridge, loan_retry=FAST_LOAN_RETRY).run(AB)
        assert summary.failed == 1
        (event,) = await item_events(world, AB, "AB9001")
        assert event.error_code == "401861"  # user 01AAA_AB-ABMAIN not found
