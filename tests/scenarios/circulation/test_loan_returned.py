"""C1: the SCF returns the loan on a mirror `{b}X`; the member item is scanned in at its owner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.fake_alma.faults import FaultConfig
from application.scf.circulation.carry_back import SCAN_IN
from application.scf.reports import ReportName
from application.shared.alma import AlmaUnavailable
from application.shared.ledger_records import Outcome
from domain.scf.webhooks import LoanReturned
from entrypoints.bridge_wiring import circulation
from tests.scenarios.circulation.support import mirror, scf_returns, send_in_transit
from tests.scenarios.world import AB, EXAMPLE_CONF, SCF, LedgerKind, example_settings, open_world


def returned(barcode: str, user_id: str | None = "01AAA_AB-ABRS") -> LoanReturned:
    return LoanReturned(barcode.removesuffix("X"), barcode, loan_id="L1", user_id=user_id)


def with_desk_at_abmain() -> dict[str, object]:
    """examples/conf.json's institutions, with AB's ABMAIN library given a circulation desk."""
    institutions = json.loads(EXAMPLE_CONF.read_text())["institutions"]
    for institution in institutions:
        if institution["code"] == AB:
            institution["libraries"].append(
                {"code": "ABMAIN", "circ_desc": "DEFAULT_CIRC_DESK", "remote_storage_location": []}
            )
    return {"institutions": institutions}


@pytest.mark.parametrize("ledger", ["memory", "sqlite"])
async def test_C1_N2_loan_returned_scans_the_member_item_in_at_its_owner(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        copy = await mirror(world, AB, "AB0002", home_library="ABRS")
        member = send_in_transit(world, AB, "AB0002", via="ABMAIN")
        scf_returns(world, copy)
        before = await world.ledger.item_history(AB, "AB0002")
        assert before.item is not None
        assert before.item.in_transit_loan

        outcome = await circulation(world.bridge).loan_returned(returned("AB0002X"), inbox_id=7)

        assert outcome.outcome is Outcome.OK
        assert member.process_type == ""  # transit completed: back in place at ABRS
        assert "Reshelve to rs_shared_in_ab ABRS" in str(outcome.details["additional_info"])
        (event,) = await world.events(action=SCAN_IN)
        assert (event.outcome, event.institution, event.barcode, event.inbox_id) == (
            Outcome.OK,
            AB,
            "AB0002",
            7,
        )
        assert event.details["library"] == "ABRS"
        assert event.details["circ_desk"] == "DEFAULT_CIRC_DESK"
        assert event.details["member_item_pid"] == member.pid
        assert event.details["scf_item_pid"] == copy.pid
        # The borrower is not checked (parity) but is on record.
        assert event.details["user_id"] == "01AAA_AB-ABRS"
        # R7: the bridge's transit loan is over, so a later loan of the copy is a real one.
        history = await world.ledger.item_history(AB, "AB0002")
        assert history.item is not None
        assert not history.item.in_transit_loan
        assert world.reports.rows == []


async def test_C1_item_in_a_temporary_location_is_scanned_in_at_the_temp_library(
    tmp_path: Path,
) -> None:
    settings = example_settings(**with_desk_at_abmain())
    async with open_world(tmp_path, settings=settings) as world:
        world.state.seed_item(
            AB,
            barcode="AB7001",
            library="ABRS",
            location="rs_shared_in_ab",
            holding_data={
                "in_temp_location": True,
                "temp_library": {"value": "ABMAIN"},
                "temp_location": {"value": "main"},
            },
        )
        copy = await mirror(world, AB, "AB7001", home_library="ABRS")
        member = send_in_transit(world, AB, "AB7001", via="ABMAIN")
        scf_returns(world, copy)

        outcome = await circulation(world.bridge).loan_returned(returned("AB7001X"))

        assert outcome.outcome is Outcome.OK, outcome.message
        assert outcome.details["library"] == "ABMAIN"
        assert member.process_type == ""


async def test_C1_P1_library_without_a_desk_fails_naming_the_library(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:  # ABMAIN has no circ_desc in examples/conf.json
        world.state.seed_item(
            AB,
            barcode="AB7002",
            library="ABRS",
            location="rs_shared_in_ab",
            holding_data={
                "in_temp_location": True,
                "temp_library": {"value": "ABMAIN"},
                "temp_location": {"value": "main"},
            },
        )
        copy = await mirror(world, AB, "AB7002", home_library="ABRS")
        member = send_in_transit(world, AB, "AB7002", via="ABMAIN")
        scf_returns(world, copy)

        outcome = await circulation(world.bridge).loan_returned(returned("AB7002X"))

        assert outcome.outcome is Outcome.FAILED
        assert "ABMAIN" in outcome.message
        assert "circulation desk" in outcome.message
        assert member.process_type == "TRANSIT"  # nothing sent, no circ_desk=null (fix)
        (event,) = await world.events(action=SCAN_IN)
        assert (event.outcome, event.institution, event.barcode) == (Outcome.FAILED, AB, "AB7002")
        (row,) = world.reports.rows
        assert (row.report, row.barcode, row.institution) == (
            ReportName.LOAN_RETURNED,
            "AB7002",
            AB,
        )
        assert "ABMAIN" in row.message
        # The SCF loan did end, whatever the member side says (R7).
        history = await world.ledger.item_history(AB, "AB7002")
        assert history.item is not None
        assert not history.item.in_transit_loan


async def test_C1_P1_unknown_SCF_item_is_a_named_failure_never_a_null_row(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        outcome = await circulation(world.bridge).loan_returned(returned("GHOST1X"))

        assert outcome.outcome is Outcome.FAILED
        assert outcome.message == "SCF item GHOST1X not found in 01AAA_RS"
        assert outcome.error_code == "401689"
        (row,) = world.reports.rows
        assert (row.report, row.barcode, row.institution) == (
            ReportName.LOAN_RETURNED,
            "GHOST1",
            SCF,
        )


async def test_C1_P1_member_item_missing_at_the_owner_is_a_named_failure(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        copy = world.state.seed_item(
            SCF,
            barcode="AB9999X",
            library="RS",
            location="rs_shared",
            item_data={"provenance": {"value": AB}},
        )
        outcome = await circulation(world.bridge).loan_returned(returned("AB9999X"))

        assert outcome.outcome is Outcome.FAILED
        assert outcome.message == "member item AB9999 not found in 01AAA_AB"
        assert outcome.details["scf_item_pid"] == copy.pid
        (row,) = world.reports.rows
        assert (row.barcode, row.institution) == ("AB9999", AB)


async def test_C1_N2_SCF_item_without_member_provenance_fails_by_name(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        world.state.seed_item(SCF, barcode="ZZ1X", library="RS", location="rs_shared")
        outcome = await circulation(world.bridge).loan_returned(returned("ZZ1X"))
        assert outcome.outcome is Outcome.FAILED
        assert outcome.message == "SCF item ZZ1X has no provenance"


async def test_N1_a_barcode_without_X_is_skipped(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        event = LoanReturned("12345", "12345", loan_id=None, user_id="LBAAJH")
        outcome = await circulation(world.bridge).loan_returned(event)

        assert outcome.outcome is Outcome.SKIPPED
        assert "not an SCF mirror (N1)" in outcome.message
        (recorded,) = await world.events(action=SCAN_IN)
        assert recorded.outcome is Outcome.SKIPPED
        assert world.reports.rows == []


async def test_C1_transient_failures_are_raised_for_the_inbox_to_retry(tmp_path: Path) -> None:
    async with open_world(tmp_path, alma="http", faults=FaultConfig(enforce_thresholds=False)) as (
        world
    ):
        copy = await mirror(world, AB, "AB0002", home_library="ABRS")
        member = send_in_transit(world, AB, "AB0002", via="ABMAIN")
        scf_returns(world, copy)
        assert world.faults is not None
        world.faults.fail_next(1000, status=503, institution=AB)

        with pytest.raises(AlmaUnavailable):
            await circulation(world.bridge).loan_returned(returned("AB0002X"), inbox_id=3)
        assert await world.events(action=SCAN_IN) == []  # the inbox records the attempt
        assert world.reports.rows == []

        world.faults.clear_script()
        outcome = await circulation(world.bridge).loan_returned(returned("AB0002X"), inbox_id=3)
        assert outcome.outcome is Outcome.OK
        assert member.process_type == ""
