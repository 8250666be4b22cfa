"""Reconciliation verdicts: expected (rules I5, I10, I11, R4) against actual, barcode by barcode
and request by request, and the repair each difference calls for (issue 7)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from domain.scf.reconciliation import (
    Finding,
    FindingKind,
    ItemFacts,
    MirrorRow,
    Renamed,
    Repair,
    RequestFacts,
    RequestState,
    ScfCopy,
    check_failed,
    classify_item,
    classify_request,
    current_location,
    request_state,
    scf_cancel_note,
)
from domain.scf.requests.routing import Route
from domain.shared.errors import MalformedItem

from .samples import AB, CD

USER = f"{AB}-ABRS"


def member(**fields: Any) -> dict[str, Any]:
    item_data = {
        "barcode": "B1",
        "description": "v.1",
        "library": {"value": "ABRS"},
        "location": {"value": "rs_shared_in_ab"},
        **fields,
    }
    return {"item_data": item_data, "holding_data": {"in_temp_location": False}}


def scf(process: str = "", provenance: str | None = AB, **fields: Any) -> dict[str, Any]:
    item_data: dict[str, Any] = {
        "barcode": "B1X",
        "pid": "P1",
        "description": "v.1",
        "process_type": {"value": process},
        **fields,
    }
    if provenance is not None:
        item_data["provenance"] = {"value": provenance}
    return {"item_data": item_data}


ROW = MirrorRow("P1", loan_owed=False, loan_open=True)
FACTS = ItemFacts(
    institution=AB,
    barcode="B1",
    in_remote_storage=True,
    row=ROW,
    scf=ScfCopy(scf("LOAN"), borrower=USER),
    member=member(),
    system_user=USER,
)


def verdict(facts: ItemFacts) -> list[tuple[FindingKind, Repair]]:
    return [(f.kind, f.repair) for f in classify_item(facts)]


# ---- mirrors -----------------------------------------------------------------------------------


def test_I10_a_mirror_as_the_rules_want_it_is_no_finding() -> None:
    assert classify_item(FACTS) == ()


def test_I11_a_mirror_the_bridge_has_no_loan_facts_for_may_circulate_freely() -> None:
    returned = replace(FACTS, row=MirrorRow("P1", loan_owed=False, loan_open=False))
    assert classify_item(replace(returned, scf=ScfCopy(scf("LOAN")))) == ()
    assert classify_item(replace(returned, scf=ScfCopy(scf("")))) == ()


def test_I6_an_expected_barcode_without_an_SCF_item_is_a_missing_mirror() -> None:
    (finding,) = classify_item(replace(FACTS, scf=None))
    assert (finding.kind, finding.repair) == (FindingKind.MISSING_MIRROR, Repair.CREATE_MIRROR)
    assert finding.message.endswith("B1X (the ledger remembers one)")
    assert USER in finding.plan
    (unknown,) = classify_item(replace(FACTS, scf=None, row=None))
    assert unknown.message == "the member item is in remote storage but the SCF has no B1X"


def test_a_row_whose_mirror_and_expectation_are_both_gone_is_only_closed_in_the_ledger() -> None:
    (finding,) = classify_item(replace(FACTS, scf=None, member=None))
    assert (finding.kind, finding.repair) == (FindingKind.LEDGER_STALE, Repair.FORGET_MIRROR)
    assert finding.message.endswith("the member item is gone")
    assert classify_item(replace(FACTS, scf=None, member=None, row=None)) == ()


def test_I5_a_member_item_the_file_lists_but_Alma_lacks_is_not_wanted() -> None:
    # Expected per the file, but no member item to copy: nothing can be mirrored.
    (finding,) = classify_item(replace(FACTS, member=None))
    assert finding.kind is FindingKind.ORPHAN_MIRROR


def test_N2_an_SCF_item_of_another_owner_is_not_ours_to_judge() -> None:
    for provenance in (CD, None):
        stranger = ScfCopy(scf(provenance=provenance))
        assert classify_item(replace(FACTS, row=None, scf=stranger, member=None)) == ()


def test_I12_a_mirror_whose_member_item_left_remote_storage_is_an_orphan_to_delete() -> None:
    moved = replace(FACTS, in_remote_storage=False, member=member(location={"value": "stacks"}))
    (finding,) = classify_item(moved)
    assert (finding.kind, finding.repair) == (FindingKind.ORPHAN_MIRROR, Repair.DELETE_MIRROR)
    assert "not in remote storage (ABRS/stacks, I5)" in finding.message
    assert finding.plan.startswith("scan B1X in at the SCF desk")  # on loan: Alma refuses else
    in_place = replace(moved, scf=ScfCopy(scf()))
    assert classify_item(in_place)[0].plan == "delete B1X (I12)"


def test_I12_a_mirror_whose_member_item_is_gone_is_an_orphan_found_by_provenance() -> None:
    (finding,) = classify_item(replace(FACTS, row=None, member=None, in_remote_storage=False))
    assert finding.kind is FindingKind.ORPHAN_MIRROR
    assert finding.message == "B1X exists but the member item is gone"
    blank = replace(FACTS, in_remote_storage=False, member={"item_data": {}})
    assert "(-/-, I5)" in classify_item(blank)[0].message


def test_I6_with_ignore_delete_files_an_orphan_stays_and_is_no_finding() -> None:
    kept = replace(FACTS, member=None, in_remote_storage=False, ignore_delete_files=True)
    assert classify_item(kept) == ()


def test_I13_a_mirror_the_ledger_does_not_record_is_recorded() -> None:
    adopted = replace(FACTS, row=None)
    assert verdict(adopted) == [(FindingKind.LEDGER_STALE, Repair.RECORD_MIRROR)]
    elsewhere = replace(FACTS, row=MirrorRow("P0", loan_owed=False, loan_open=True))
    # The row's loan belongs to the SCF item it names, so no loan verdict on another one.
    assert verdict(elsewhere) == [(FindingKind.LEDGER_STALE, Repair.RECORD_MIRROR)]


def test_I11_an_SCF_item_whose_copied_fields_differ_is_drift() -> None:
    drifted = replace(FACTS, scf=ScfCopy(scf("LOAN", description="typo"), borrower=USER))
    (finding,) = classify_item(drifted)
    assert (finding.kind, finding.repair) == (FindingKind.DRIFT, Repair.UPDATE_MIRROR)
    assert finding.changed_fields == ("description",)
    assert finding.message == "B1X differs from the member item in description"


def test_I11_fields_the_SCF_owns_are_not_drift() -> None:
    own = ScfCopy(scf("LOAN", internal_note_1="SCF shelf", barcode="B1X"), borrower=USER)
    assert classify_item(replace(FACTS, scf=own)) == ()


def test_malformed_items_raise_for_the_caller_to_report() -> None:
    with pytest.raises(MalformedItem):
        classify_item(replace(FACTS, member={"no": "item_data"}))


# ---- loans (I10, N3) ---------------------------------------------------------------------------


def test_I10_an_open_transit_loan_Alma_does_not_show_is_a_missing_loan() -> None:
    (finding,) = classify_item(replace(FACTS, scf=ScfCopy(scf(""))))
    assert (finding.kind, finding.repair) == (FindingKind.MISSING_LOAN, Repair.LEND)
    assert "is open in the ledger" in finding.message
    owed = replace(FACTS, row=MirrorRow("P1", loan_owed=True, loan_open=False), scf=ScfCopy(scf()))
    assert "owed since its creation" in classify_item(owed)[0].message


def test_N3_a_mirror_lent_to_another_system_user_is_a_wrong_loan() -> None:
    (finding,) = classify_item(replace(FACTS, scf=ScfCopy(scf("LOAN"), borrower=f"{CD}-CDRS")))
    assert (finding.kind, finding.repair) == (FindingKind.WRONG_LOAN, Repair.RELEND)
    assert finding.message == f"B1X is on loan to {CD}-CDRS, not to {USER}"


def test_R7_a_loan_to_someone_else_means_the_transit_loan_is_over() -> None:
    (finding,) = classify_item(replace(FACTS, scf=ScfCopy(scf("LOAN"), borrower=None)))
    assert (finding.kind, finding.repair) == (
        FindingKind.LEDGER_STALE,
        Repair.RECORD_LOAN_RETURNED,
    )


def test_R7_an_item_the_SCF_works_with_is_not_lent_again() -> None:
    (finding,) = classify_item(replace(FACTS, scf=ScfCopy(scf("TRANSIT"))))
    assert finding.repair is Repair.RECORD_LOAN_RETURNED
    assert finding.message == "B1X is TRANSIT in the SCF: the bridge's transit loan is over"


def test_I10_an_owed_loan_Alma_already_shows_is_only_recorded() -> None:
    owed = replace(FACTS, row=MirrorRow("P1", loan_owed=True, loan_open=False))
    assert verdict(owed) == [(FindingKind.LEDGER_STALE, Repair.RECORD_LOAN)]


def test_without_a_known_library_there_is_no_system_user_to_check_the_loan_against() -> None:
    assert classify_item(replace(FACTS, system_user=None, scf=ScfCopy(scf("")))) == ()


def test_verdicts_come_in_repair_order_ledger_item_loan() -> None:
    messy = replace(
        FACTS,
        row=MirrorRow("P1", loan_owed=True, loan_open=False),
        scf=ScfCopy(scf("", description="typo")),
    )
    assert verdict(messy) == [
        (FindingKind.DRIFT, Repair.UPDATE_MIRROR),
        (FindingKind.MISSING_LOAN, Repair.LEND),
    ]


# ---- barcode changes (research §13) ------------------------------------------------------------


def renamed(**changes: Any) -> ItemFacts:
    moved = Renamed("B2", in_remote_storage=True, mirror_exists=False)
    return replace(FACTS, member=None, renamed=replace(moved, **changes))


def test_a_changed_member_barcode_moves_the_mirror_to_the_new_barcode() -> None:
    (finding,) = classify_item(renamed())
    assert (finding.kind, finding.repair) == (FindingKind.BARCODE_CHANGED, Repair.MOVE_MIRROR)
    assert finding.new_barcode == "B2"
    assert finding.message == (
        "the member item's barcode changed from B1 to B2; the SCF still has B1X"
    )
    assert "B2X" in finding.plan


def test_a_moved_mirror_has_its_loan_judged_under_the_new_barcode() -> None:
    # The loan was returned by hand too: one run moves the mirror, then lends it again.
    move, loan = classify_item(replace(renamed(), scf=ScfCopy(scf(""))))
    assert move.repair is Repair.MOVE_MIRROR
    assert (loan.kind, loan.repair, loan.barcode) == (FindingKind.MISSING_LOAN, Repair.LEND, "B2")
    assert loan.message.startswith("the transit loan of B2X to")
    # A row naming another SCF item says nothing about this one's loan.
    other = replace(renamed(), row=MirrorRow("P0", loan_owed=False, loan_open=True))
    assert verdict(replace(other, scf=ScfCopy(scf("")))) == [
        (FindingKind.BARCODE_CHANGED, Repair.MOVE_MIRROR)
    ]


def test_a_changed_barcode_whose_new_mirror_exists_deletes_the_one_left_behind() -> None:
    (finding,) = classify_item(renamed(mirror_exists=True))
    assert (finding.kind, finding.repair) == (FindingKind.BARCODE_CHANGED, Repair.DELETE_MIRROR)
    assert finding.plan == (
        "B2X exists already: delete the left-behind B1X after scanning it in at the SCF desk"
    )
    in_place = replace(renamed(mirror_exists=True), scf=ScfCopy(scf()))
    assert classify_item(in_place)[0].plan == "B2X exists already: delete the left-behind B1X"


def test_a_changed_barcode_out_of_remote_storage_is_an_orphan() -> None:
    (finding,) = classify_item(renamed(in_remote_storage=False))
    assert finding.kind is FindingKind.ORPHAN_MIRROR
    assert "no longer in remote storage" in finding.message
    assert classify_item(replace(renamed(in_remote_storage=False), ignore_delete_files=True)) == ()


def test_a_changed_barcode_whose_old_mirror_is_gone_only_closes_the_row() -> None:
    (finding,) = classify_item(replace(renamed(), scf=None))
    assert (finding.kind, finding.repair) == (FindingKind.LEDGER_STALE, Repair.FORGET_MIRROR)
    assert finding.new_barcode == "B2"


def test_a_rename_without_a_ledger_row_is_judged_as_any_barcode() -> None:
    facts = replace(renamed(), row=None, in_remote_storage=False)
    assert verdict(facts) == [(FindingKind.ORPHAN_MIRROR, Repair.DELETE_MIRROR)]


def test_the_new_barcode_of_a_moving_mirror_expects_no_mirror_of_its_own() -> None:
    assert classify_item(replace(FACTS, scf=None, row=None, moved_here_from="B0")) == ()


def test_I3_the_current_location_is_the_temporary_one_while_in_a_temporary_location() -> None:
    item = member()
    assert current_location(item) == ("ABRS", "rs_shared_in_ab")
    item["holding_data"] = {
        "in_temp_location": True,
        "temp_library": {"value": "ABMAIN"},
        "temp_location": {"value": "main"},
    }
    assert current_location(item) == ("ABMAIN", "main")


def test_an_SCF_copy_reads_its_pid_and_process_type() -> None:
    copy = ScfCopy({"item_data": {}})
    assert (copy.item_pid, copy.process_type, copy.on_loan) == (None, "", False)
    assert ScfCopy(scf("LOAN")).on_loan


# ---- requests (R4, R7, C2) ---------------------------------------------------------------------

REQUEST = RequestFacts(
    institution=AB,
    request_id="R1",
    barcode="B1",
    route=Route.ITEM_HOLD,
    scf_request_id="S1",
    scf=RequestState.ACTIVE,
    source=RequestState.ACTIVE,
)


def test_R4_both_requests_alive_is_no_finding() -> None:
    assert classify_request(REQUEST) == ()


def test_R4_an_SCF_request_gone_while_the_member_request_is_active_is_forwarded_again() -> None:
    (finding,) = classify_request(replace(REQUEST, scf=RequestState.GONE))
    assert (finding.kind, finding.repair) == (
        FindingKind.REQUEST_LOST_IN_SCF,
        Repair.FORWARD_AGAIN,
    )
    assert (finding.request_id, finding.barcode, finding.subject) == ("R1", "B1", "R1")
    unrouted = replace(REQUEST, scf=RequestState.GONE, route=None)
    assert classify_request(unrouted)[0].kind is FindingKind.REQUEST_LOST_IN_SCF


def test_R4_an_SCF_request_gone_while_its_copy_is_out_is_taken_as_fulfilled() -> None:
    assert classify_request(replace(REQUEST, scf=RequestState.GONE, scf_copy_busy=True)) == ()


def test_C2_an_SCF_request_whose_member_request_is_gone_is_cancelled() -> None:
    (finding,) = classify_request(replace(REQUEST, source=RequestState.GONE))
    assert (finding.kind, finding.repair) == (
        FindingKind.REQUEST_LOST_AT_SOURCE,
        Repair.CANCEL_SCF_REQUEST,
    )
    assert finding.plan == "cancel SCF request S1 (CannotBeFulfilled)"


def test_R5_a_patron_digitization_has_its_member_request_switched_off_on_purpose() -> None:
    switched = replace(REQUEST, route=Route.PATRON_ITEM_DIGITIZATION, source=RequestState.GONE)
    assert classify_request(switched) == ()


def test_requests_both_gone_or_unknown_are_no_finding() -> None:
    for scf_state, source in (
        (RequestState.GONE, RequestState.GONE),
        (RequestState.UNKNOWN, RequestState.ACTIVE),
        (RequestState.GONE, RequestState.UNKNOWN),
    ):
        assert classify_request(replace(REQUEST, scf=scf_state, source=source)) == ()


def test_a_request_is_over_when_Alma_lacks_it_or_names_it_history() -> None:
    assert request_state(None) is RequestState.GONE
    assert request_state({"request_status": "HISTORY"}) is RequestState.GONE
    assert request_state({"request_status": "cancelled"}) is RequestState.GONE
    assert request_state({"request_status": "IN_PROCESS"}) is RequestState.ACTIVE
    assert request_state({}) is RequestState.ACTIVE


def test_the_SCF_cancel_note_names_the_source_request() -> None:
    assert scf_cancel_note(AB, "R1") == (
        f"Source request {AB}-R1 is no longer active (almabridge reconcile)."
    )


def test_a_check_that_failed_is_a_finding_with_nothing_to_repair() -> None:
    finding = check_failed(AB, "HTTP 503", barcode="B1")
    assert (finding.kind, finding.repair, finding.subject) == (
        FindingKind.CHECK_FAILED,
        Repair.NONE,
        "B1",
    )
    assert finding.message == "could not be checked: HTTP 503"
    assert check_failed(AB, "x", request_id="R1").subject == "R1"


def test_a_finding_without_barcode_or_request_has_a_placeholder_subject() -> None:
    bare = Finding(FindingKind.CHECK_FAILED, AB, None, None, "m", Repair.NONE, "p")
    assert bare.subject == "-"
