"""Contract: the listings reconciliation and the staff page read (issue 7).

Mirror rows and request rows per institution (the reconciliation's expected set when no
publishing file is given), inbox messages by status (dead ones get a replay button) and
per-day event counts (the 30-day chart).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from application.ports.ledger import Ledger
from application.shared.ledger_records import (
    DailyCount,
    InboxStatus,
    MirrorState,
    Outcome,
    RequestStatus,
)
from tests.integration.ledger.support import Backend


async def _mirror(ledger: Ledger, institution: str, barcode: str, state: MirrorState) -> None:
    async with ledger.unit_of_work() as uow:
        await uow.items.upsert(
            institution,
            barcode,
            scf_mms_id="99",
            scf_holding_id="22",
            scf_item_pid=f"23{barcode}",
            state=state,
        )
        if state is MirrorState.DELETED:
            await uow.items.mark_deleted(institution, barcode)
        await uow.commit()


async def test_mirror_rows_of_one_institution_by_barcode_and_state(ledger: Ledger) -> None:
    await _mirror(ledger, "01AAA", "B2", MirrorState.MIRRORED)
    await _mirror(ledger, "01AAA", "B1", MirrorState.LENDING)
    await _mirror(ledger, "01AAA", "B3", MirrorState.DELETED)
    await _mirror(ledger, "01BBB", "B0", MirrorState.MIRRORED)
    async with ledger.unit_of_work() as uow:
        every = await uow.items.list_for("01AAA")
        live = await uow.items.list_for("01AAA", states=(MirrorState.MIRRORED, MirrorState.LENDING))
        none = await uow.items.list_for("01CCC")
    assert [row.barcode for row in every] == ["B1", "B2", "B3"]
    assert [(row.barcode, row.state) for row in live] == [
        ("B1", MirrorState.LENDING),
        ("B2", MirrorState.MIRRORED),
    ]
    assert none == []


async def test_request_rows_of_one_institution_oldest_first(
    backend: Backend, ledger: Ledger
) -> None:
    async with ledger.unit_of_work() as uow:
        for rid, status in (
            ("r1", RequestStatus.FORWARDED),
            ("r2", RequestStatus.WAITING_FOR_MIRROR),
            ("r3", RequestStatus.CANCELLED),
            ("r4", RequestStatus.FORWARDED),
        ):
            await uow.requests.upsert("01AAA", rid, route="item_hold", status=status)
            backend.clock.advance(seconds=1)
        await uow.requests.upsert("01BBB", "r9", route="item_hold", status=RequestStatus.FORWARDED)
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        every = await uow.requests.list_for("01AAA")
        forwarded = await uow.requests.list_for("01AAA", statuses=[RequestStatus.FORWARDED])
    assert [row.source_request_id for row in every] == ["r1", "r2", "r3", "r4"]
    assert [row.source_request_id for row in forwarded] == ["r1", "r4"]


async def test_inbox_messages_by_status_newest_first(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        ids = []
        for n in range(4):
            added = await uow.inbox.add(f"k{n}", b"{}", datetime(2026, 1, 1, tzinfo=UTC))
            ids.append(added.id)
        await uow.inbox.mark_dead(ids[0], "boom 0")
        await uow.inbox.mark_dead(ids[2], "boom 2")
        await uow.inbox.mark_done(ids[3])
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        dead = await uow.inbox.list_by_status(InboxStatus.DEAD)
        one = await uow.inbox.list_by_status(InboxStatus.DEAD, limit=1)
        pending = await uow.inbox.list_by_status(InboxStatus.PENDING)
    assert [(m.id, m.last_error) for m in dead] == [(ids[2], "boom 2"), (ids[0], "boom 0")]
    assert [m.id for m in one] == [ids[2]]
    assert [m.id for m in pending] == [ids[1]]


async def test_daily_counts_per_utc_day_institution_and_action(
    backend: Backend, ledger: Ledger
) -> None:
    start = backend.clock.now()  # 2026-01-01 09:00 UTC
    async with ledger.unit_of_work() as uow:
        await uow.events.append("item.create", Outcome.OK, institution="01AAA")
        await uow.events.append("item.create", Outcome.OK, institution="01AAA")
        await uow.events.append("item.create", Outcome.FAILED, institution="01AAA")
        await uow.events.append("request.forward", Outcome.OK, institution="01BBB")
        await uow.events.append("item.update", Outcome.OK, institution="01AAA")
        backend.clock.advance(hours=16)  # 01:00 the next day
        await uow.events.append("item.create", Outcome.OK, institution="01AAA")
        await uow.commit()
    actions = ("item.create", "request.forward")
    ok = await ledger.daily_counts(actions=actions, since=start, outcome=Outcome.OK)
    assert ok == [
        DailyCount(date(2026, 1, 1), "01AAA", "item.create", 2),
        DailyCount(date(2026, 1, 1), "01BBB", "request.forward", 1),
        DailyCount(date(2026, 1, 2), "01AAA", "item.create", 1),
    ]
    later = await ledger.daily_counts(actions=actions, since=start + timedelta(hours=1))
    assert later == [DailyCount(date(2026, 1, 2), "01AAA", "item.create", 1)]
