"""C2: the SCF cancels a request, and exactly the member request behind it is cancelled.

Lookup order: the ledger's own mapping, then the `{Source Request INST-RID-UID}` tag, then
`Internal identifier: RID` with the mirror's barcode. Never every request on the item (fix).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from application.scf.circulation.carry_back import CANCEL_SOURCE
from application.scf.reports import ReportName
from application.shared.ledger_records import Outcome, RequestStatus
from domain.scf.webhooks import RequestCanceled
from entrypoints.bridge_wiring import circulation
from tests.scenarios.circulation.support import forwarded, hold, mirror
from tests.scenarios.world import AB, CD, SCF, LedgerKind, World, open_world

NOT_FULFILLED = "Request could not be fulfilled by the SCF."


def canceled(
    scf_request_id: str | None = "SCF-REQ-1",
    *,
    barcode: str | None = None,
    comment: str | None = None,
) -> RequestCanceled:
    return RequestCanceled(
        request_id=scf_request_id,
        barcode=barcode,
        scf_barcode=f"{barcode}X" if barcode else None,
        comment=comment,
        user_primary_id="01AAA_AB-ABRS",
    )


def seeded_hold(world: World) -> str:
    """ab_patron1's seeded hold on AB0001."""
    (request,) = world.state.requests_of(AB, user_id="ab_patron1")
    return request.request_id


@pytest.mark.parametrize("ledger", ["memory", "sqlite"])
async def test_C2_ledger_mapping_cancels_exactly_that_request(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger) as world:
        mapped = seeded_hold(world)
        other = hold(world, AB, "AB0001", "ab_patron2", "ABMAIN")
        item = world.state.item_by_barcode(AB, "AB0001")
        await forwarded(world, AB, mapped, "SCF-REQ-1", barcode="AB0001", mms_id=item.mms_id)
        # The comment points at the other request: the ledger's own record wins.
        comment = f"Patron: x || Internal identifier: {other}"

        outcome = await circulation(world.bridge).request_canceled(
            canceled(barcode="AB0001", comment=comment), inbox_id=11
        )

        assert outcome.outcome is Outcome.OK, outcome.message
        cancelled = world.state.request(AB, mapped)
        assert not cancelled.active
        assert (cancelled.cancel_reason, cancelled.cancel_note, cancelled.notify_user) == (
            "CannotBeFulfilled",
            NOT_FULFILLED,
            True,
        )
        assert world.state.request(AB, other).active  # same member item, untouched
        record = await world.ledger.request_record(AB, mapped)
        assert record.request is not None
        assert record.request.status is RequestStatus.CANCELLED
        (event,) = record.events
        assert (event.action, event.outcome, event.barcode, event.inbox_id) == (
            CANCEL_SOURCE,
            Outcome.OK,
            "AB0001",
            11,
        )
        assert event.details["path"] == "ledger"
        assert event.details["scf_request_id"] == "SCF-REQ-1"
        assert world.reports.rows == []


async def test_C2_R8_source_request_tag_cancels_through_the_user(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        (digitization,) = world.state.requests_of(CD, user_id="cd_patron1")
        rid = digitization.request_id
        comment = (
            "The inventory for this request should come from 01AAA_CD. Patron: Lin Zhou"
            f" || Internal identifier: {rid} {{Source Request 01AAA_CD-{rid}-cd_patron1}}"
        )

        outcome = await circulation(world.bridge).request_canceled(canceled(comment=comment))

        assert outcome.outcome is Outcome.OK, outcome.message
        assert (outcome.institution, outcome.request_id) == (CD, rid)
        assert outcome.details["path"] == "tag"
        assert outcome.details["endpoint"] == f"users/cd_patron1/requests/{rid}"
        request = world.state.request(CD, rid)
        assert not request.active
        assert (request.cancel_reason, request.cancel_note, request.notify_user) == (
            "CannotBeFulfilled",
            NOT_FULFILLED,
            True,
        )


async def test_C2_N2_internal_identifier_cancels_one_request_on_the_owning_item(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        await mirror(world, AB, "AB0001", home_library="ABRS")
        first = seeded_hold(world)
        second = hold(world, AB, "AB0001", "ab_patron2", "ABMAIN")
        comment = f"Patron: Grace Hopper || request type: HOLD || Internal identifier: {second}"

        outcome = await circulation(world.bridge).request_canceled(
            canceled("SCF-77", barcode="AB0001", comment=comment)
        )

        assert outcome.outcome is Outcome.OK, outcome.message
        assert (outcome.institution, outcome.request_id) == (AB, second)
        assert outcome.details["path"] == "internal_identifier"
        request = world.state.request(AB, second)
        assert not request.active
        assert (request.cancel_reason, request.cancel_note, request.notify_user) == (
            "CannotBeFulfilled",
            "Remote storage cannot fulfill the request",
            None,
        )
        assert world.state.request(AB, first).active  # never every request on the item (fix)


async def test_C2_no_match_is_recorded_and_cancels_nothing(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        before = [r.request_id for r in world.state.requests_of(AB)]

        outcome = await circulation(world.bridge).request_canceled(
            canceled("SCF-404", comment="Patron asked to cancel")
        )

        assert outcome.outcome is Outcome.SKIPPED
        assert "no Source Request tag or internal identifier" in outcome.message
        assert [r.request_id for r in world.state.requests_of(AB)] == before
        (event,) = await world.events(action=CANCEL_SOURCE)
        assert (event.outcome, event.institution) == (Outcome.SKIPPED, SCF)
        assert event.details["scf_request_id"] == "SCF-404"
        assert world.reports.rows == []


async def test_C2_a_request_already_gone_is_skipped_with_Almas_code(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        mapped = seeded_hold(world)
        item = world.state.item_by_barcode(AB, "AB0001")
        await forwarded(world, AB, mapped, "SCF-REQ-1", barcode="AB0001", mms_id=item.mms_id)
        world.state.cancel_request(AB, mapped, reason="PatronRequest")  # the patron was first

        outcome = await circulation(world.bridge).request_canceled(canceled(barcode="AB0001"))

        assert outcome.outcome is Outcome.SKIPPED
        assert outcome.error_code == "401694"
        assert "already gone" in outcome.message
        assert world.state.request(AB, mapped).cancel_reason == "PatronRequest"
        record = await world.ledger.request_record(AB, mapped)
        assert record.request is not None
        assert record.request.status is RequestStatus.CANCELLED
        assert world.reports.rows == []


async def test_C2_P1_Alma_refusal_is_failed_with_its_code_and_reported(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        (digitization,) = world.state.requests_of(CD, user_id="cd_patron1")
        rid = digitization.request_id
        comment = f"{{Source Request 01AAA_CD-{rid}-nobody_here}}"  # a user CD does not have

        outcome = await circulation(world.bridge).request_canceled(canceled(comment=comment))

        assert outcome.outcome is Outcome.FAILED
        assert outcome.error_code == "401861"
        (event,) = await world.events(action=CANCEL_SOURCE)
        assert (event.outcome, event.institution, event.request_id) == (
            Outcome.FAILED,
            CD,
            rid,
        )
        assert event.error_code == "401861"
        assert event.details["alma_error_message"]
        assert world.state.request(CD, rid).active
        (row,) = world.reports.rows
        assert (row.report, row.barcode, row.institution) == (ReportName.REQUEST_CANCELED, "", CD)


async def test_C2_P1_internal_identifier_on_an_unknown_mirror_fails_by_name(
    tmp_path: Path,
) -> None:
    async with open_world(tmp_path) as world:
        outcome = await circulation(world.bridge).request_canceled(
            canceled("SCF-5", barcode="AB0001", comment="Internal identifier: 42")
        )

        assert outcome.outcome is Outcome.FAILED
        assert outcome.message == "SCF item AB0001X not found in 01AAA_RS"
        assert all(r.active for r in world.state.requests_of(AB, active=None))
        (row,) = world.reports.rows
        assert (row.barcode, row.institution) == ("AB0001", SCF)
