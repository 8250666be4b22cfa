"""/status's last 7 days by webhook and by file (issue 19, rules W6, W7), over what the real paths
write: a member's REQUEST_CREATED and ITEM_CREATED delivered as the worker delivers them, and the
export and publishing file syncs, in the scenario world (a fake Alma, a file server, a ledger)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from application.scf.requests.outcomes import Action
from application.scf.staff_status import Arrivals, StaffStatus
from application.shared.ledger_records import Outcome
from tests.scenarios.items.support import AB_RS, NZ_BARCODES, Copy, seed_bib, sync
from tests.scenarios.requests.support import (
    forward,
    member_item_request,
    mirror,
    record_mirror,
)
from tests.scenarios.webhooks_fast.support import deliver, item_event, request_created
from tests.scenarios.world import AB, CD, LedgerKind, open_world

BY_WEBHOOK = Copy("AB0100", AB_RS["c"], AB_RS["l"], {"description": "v.1"})
BY_FILE = Copy("AB0101", AB_RS["c"], AB_RS["l"], {"description": "v.2"})
PICKUP = {"request_type": "HOLD", "pickup_location_type": "LIBRARY"}


@pytest.mark.parametrize(
    "ledger", ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
async def test_the_snapshot_counts_what_each_path_did_once(
    tmp_path: Path, ledger: LedgerKind
) -> None:
    async with open_world(tmp_path, ledger=ledger, alma="http") as world:
        # rule W6: one request forwarded by its webhook, one by the export file, which also
        # carries the first again (R6: a duplicate, not a second forward).
        for barcode in ("AB0001", "AB0002"):
            await record_mirror(world, AB, barcode, mirror(world, AB, barcode))
        now = member_item_request(world, AB, "AB0002", "ab_patron2", PICKUP)
        later = member_item_request(world, AB, "AB0001", "ab_patron2", PICKUP)
        handled = await deliver(world, request_created(AB, now))
        assert handled.outcome is Outcome.OK, handled.message
        summary = await forward(
            world,
            AB,
            {"requestId": now.request_id, "barcode": "AB0002"},
            {"requestId": later.request_id, "barcode": "AB0001"},
        )
        assert [o.action for o in summary.outcomes] == [Action.ALREADY_HANDLED, Action.FORWARDED]

        # rule W7: one item created by its webhook, one by the publishing file, which also
        # carries the first unchanged (I11: no SCF write, not counted).
        webhook_record = seed_bib(world, AB, "99100000000004101", [BY_WEBHOOK], nz_id=NZ_BARCODES)
        file_record = seed_bib(world, AB, "99100000000005101", [BY_FILE])
        item = world.state.item_by_barcode(AB, BY_WEBHOOK.barcode)
        handled = await deliver(world, item_event(AB, "ITEM_CREATED", item), inbox_id=2)
        assert handled.outcome is Outcome.OK, handled.message
        world.drop_publishing_file(AB, "ab_new_1.xml", [webhook_record, file_record])
        items = await sync(world, AB)
        assert items.total == 2

        snapshot = await StaffStatus(world.ledger, world.bridge.settings, world.clock).snapshot()
    by_code = {inst.code: inst.arrivals for inst in snapshot.institutions}
    assert by_code == {
        AB: Arrivals(
            requests_by_webhook=1, requests_by_file=1, items_by_webhook=1, items_by_file=1
        ),
        CD: Arrivals(),
    }


async def test_the_window_is_the_last_seven_days_by_the_clock(tmp_path: Path) -> None:
    # rule W6, rule W7: counted over the 7 days before the clock's now, not the system's.
    async with open_world(tmp_path) as world:
        for action, details in (
            ("item.create", {"via": "webhook"}),
            ("request.forward", {}),
            ("item.delete", {"via": "webhook"}),
        ):
            async with world.ledger.unit_of_work() as uow:
                await uow.events.append(action, Outcome.OK, institution=AB, details=details)
                await uow.commit()
            world.clock.advance(seconds=1)
        world.clock.advance(days=7, seconds=-2)  # the first is 7 days and 1 s old now
        snapshot = await StaffStatus(world.ledger, world.bridge.settings, world.clock).snapshot()
    assert snapshot.arrivals_since == snapshot.generated_at - timedelta(days=7)
    (ab,) = [inst.arrivals for inst in snapshot.institutions if inst.code == AB]
    assert ab == Arrivals(requests_by_file=1, items_by_webhook=1)
