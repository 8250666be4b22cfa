"""Alma's own webhook bodies (Lancaster's samples) through `classify_webhook` to the members.

The samples come from another institution, so the tests make them the SCF's (rule W5) and point
them at seeded items; everything else is Alma's wire format as delivered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from application.scf.circulation.carry_back import CANCEL_SOURCE, SCAN_IN
from application.shared.ledger_records import Outcome, RequestStatus
from domain.scf.webhooks import LoanReturned, RequestCanceled, Skipped, classify_webhook
from entrypoints.bridge_wiring import circulation
from tests.scenarios.circulation.support import forwarded, mirror, scf_returns, send_in_transit
from tests.scenarios.world import AB, CD, SCF, example_settings, open_world

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "alma"
LOAN_RETURNED = FIXTURES / "lulibrary-alma-webhook-handler__loan_returned_event.body.json"
REQUEST_CANCELED = FIXTURES / "lulibrary-alma-webhook-handler__request_canceled_event.body.json"


def body(path: Path, *, institution: str = SCF, **payload: Any) -> bytes:
    """The sample with `institution.value` rewritten and the payload's keys replaced."""
    document = json.loads(path.read_text())
    document["institution"]["value"] = institution
    key = "item_loan" if document["action"] == "LOAN" else "user_request"
    document[key].update(payload)
    return json.dumps(document).encode()


async def test_W5_C1_N1_a_real_LOAN_RETURNED_body_scans_the_member_item_in(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        copy = await mirror(world, AB, "AB0002", home_library="ABRS")
        member = send_in_transit(world, AB, "AB0002", via="ABMAIN")
        scf_returns(world, copy)
        consortium = world.bridge.settings.consortium

        event = classify_webhook(body(LOAN_RETURNED, item_barcode="AB0002X"), consortium)
        assert isinstance(event, LoanReturned)
        outcome = await circulation(world.bridge).loan_returned(event, inbox_id=1)

        assert outcome.outcome is Outcome.OK, outcome.message
        assert member.process_type == ""
        (recorded,) = await world.events(action=SCAN_IN)
        assert recorded.details["user_id"] == "LBAAJH"  # logged, not checked (parity)
        assert recorded.details["loan_id"] == "18263808770001221"


def test_W5_N1_the_unmodified_samples_ask_nothing_of_the_bridge() -> None:
    consortium = example_settings().consortium
    not_scf = classify_webhook(LOAN_RETURNED.read_bytes(), consortium)
    assert isinstance(not_scf, Skipped)
    assert "not from the SCF" in not_scf.reason
    not_mirror = classify_webhook(body(LOAN_RETURNED), consortium)  # barcode 12345, no X
    assert isinstance(not_mirror, Skipped)
    assert "(N1)" in not_mirror.reason


async def test_W5_C2_a_real_REQUEST_CANCELED_body_cancels_the_mapped_source_request(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        (digitization,) = world.state.requests_of(CD, user_id="cd_patron1")
        rid = digitization.request_id
        # A title-level forward: no bib in the ledger row, so the user endpoint is used.
        await forwarded(
            world, CD, rid, "83013520000121", user_id="cd_patron1", route="patron_title"
        )

        event = classify_webhook(body(REQUEST_CANCELED), world.bridge.settings.consortium)
        assert isinstance(event, RequestCanceled)
        assert (event.barcode, event.comment) == (None, None)  # title level, comment null
        outcome = await circulation(world.bridge).request_canceled(event, inbox_id=2)

        assert outcome.outcome is Outcome.OK, outcome.message
        assert outcome.details["endpoint"] == f"users/cd_patron1/requests/{rid}"
        assert not world.state.request(CD, rid).active
        record = await world.ledger.request_record(CD, rid)
        assert record.request is not None
        assert record.request.status is RequestStatus.CANCELLED
        (recorded,) = record.events
        assert (recorded.action, recorded.inbox_id) == (CANCEL_SOURCE, 2)
