"""Rule R7: a patron's request is cancelled only for a definitive business reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.scf.requests.cancellations import ITEM_ON_LOAN, NOT_FULFILLED_BY_SCF
from domain.scf.requests.forwarding import (
    Cancel,
    Forward,
    Wait,
    cancels_source_after_success,
    decide_unforwardable,
)
from domain.scf.requests.routing import Route

SEEN = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def _decide(**facts: Any) -> Forward | Wait | Cancel:
    defaults: dict[str, Any] = {
        "scf_copy_exists": True,
        "scf_copy_on_loan": False,
        "loan_is_bridge_transit": False,
        "member_copy_in_remote_storage": True,
        "first_seen": SEEN,
        "now": SEEN,
    }
    return decide_unforwardable(**{**defaults, **facts})


def test_R7_an_available_scf_copy_is_forwarded() -> None:
    assert isinstance(_decide(), Forward)


def test_R7_an_scf_copy_on_someone_else_loan_cancels_with_item_is_on_loan() -> None:
    decision = _decide(scf_copy_on_loan=True)
    assert decision == Cancel(ITEM_ON_LOAN, "the SCF copy is on loan")
    assert decision.cancellation.note == "Item is on loan"


def test_R7_the_bridge_own_transit_loan_is_not_on_loan_the_request_is_forwarded() -> None:
    decision = _decide(scf_copy_on_loan=True, loan_is_bridge_transit=True)
    assert isinstance(decision, Forward)
    assert "transit" in decision.reason


def test_R7_not_in_the_scf_and_not_in_remote_storage_cancels_at_once() -> None:
    decision = _decide(scf_copy_exists=False, member_copy_in_remote_storage=False)
    assert isinstance(decision, Cancel)
    assert decision.cancellation is NOT_FULFILLED_BY_SCF


def test_R7_not_yet_in_the_scf_but_in_remote_storage_waits_for_the_next_items_sync() -> None:
    decision = _decide(scf_copy_exists=False, now=SEEN + timedelta(hours=3))
    assert decision == Wait(
        SEEN + timedelta(hours=24), "not in the SCF yet; the next items sync may bring it"
    )


def test_R7_an_unknown_remote_storage_state_waits_rather_than_cancels() -> None:
    decision = _decide(scf_copy_exists=False, member_copy_in_remote_storage=None)
    assert isinstance(decision, Wait)


def test_R7_still_absent_after_the_grace_hours_cancels() -> None:
    decision = _decide(scf_copy_exists=False, now=SEEN + timedelta(hours=24))
    assert decision == Cancel(NOT_FULFILLED_BY_SCF, "still not in the SCF after 24 hours")


def test_R7_the_grace_period_is_configurable() -> None:
    just_before = _decide(scf_copy_exists=False, grace_hours=1.5, now=SEEN + timedelta(minutes=89))
    assert isinstance(just_before, Wait)
    assert just_before.until == SEEN + timedelta(minutes=90)
    after = _decide(scf_copy_exists=False, grace_hours=1.5, now=SEEN + timedelta(minutes=90))
    assert after == Cancel(NOT_FULFILLED_BY_SCF, "still not in the SCF after 1.5 hours")


def test_R5_only_patron_digitizations_switch_the_member_request_off_after_success() -> None:
    assert cancels_source_after_success(Route.PATRON_ITEM_DIGITIZATION)
    assert cancels_source_after_success(Route.PATRON_TITLE_DIGITIZATION)
    for route in (
        Route.ITEM_HOLD,
        Route.TITLE_HOLD,
        Route.STAFF_ITEM_DIGITIZATION,
        Route.STAFF_TITLE_DIGITIZATION,
    ):
        assert not cancels_source_after_success(route)
