"""Contract: events counted per institution, action family and `details.via` since a time, in one
query (issue 19: /status's requests and items by webhook and by file, rules W6, W7)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from application.ports.ledger import Ledger
from application.shared.ledger_records import JsonObject, Outcome, ViaCount
from tests.integration.ledger.support import Backend

FAMILIES = {
    "requests": ("request.forward",),
    "items": ("item.create", "item.update", "item.delete"),
}
WEBHOOK: JsonObject = {"via": "webhook", "result": "created"}
FILE: JsonObject = {"result": "created", "file": "ab_new_1.tar.gz"}


async def _append(
    ledger: Ledger,
    rows: list[tuple[str, Outcome, str | None, JsonObject | None]],
) -> None:
    async with ledger.unit_of_work() as uow:
        for action, outcome, institution, details in rows:
            await uow.events.append(action, outcome, institution=institution, details=details)
        await uow.commit()


async def _count(ledger: Ledger, since: datetime, outcome: Outcome = Outcome.OK) -> list[ViaCount]:
    async with ledger.unit_of_work() as uow:
        return await uow.events.count_by_via(FAMILIES, since=since, outcome=outcome)


async def test_counts_per_institution_family_and_via_since_a_time(
    backend: Backend, ledger: Ledger
) -> None:
    # rule W6, rule W7: the fast path's events say `via: webhook`, the file syncs' say nothing.
    ok, skipped, failed = Outcome.OK, Outcome.SKIPPED, Outcome.FAILED
    await _append(ledger, [("item.create", ok, "01AAA", WEBHOOK)])  # before the window
    backend.clock.advance(days=1)
    since = backend.clock.now()
    await _append(
        ledger,
        [
            ("item.create", ok, "01AAA", WEBHOOK),  # at `since`: counted
            ("item.update", ok, "01AAA", WEBHOOK),
            ("item.delete", ok, "01AAA", WEBHOOK),
            ("item.create", ok, "01AAA", FILE),
            ("item.update", ok, "01AAA", None),
            ("item.update", skipped, "01AAA", WEBHOOK),  # unchanged: not mirrored
            ("item.create", failed, "01AAA", WEBHOOK),
            ("item.skip", skipped, "01AAA", WEBHOOK),  # not in a family
            ("item.sync", ok, "01AAA", FILE),
            ("request.forward", ok, "01AAA", {"via": "webhook", "route": "item_hold"}),
            ("request.forward", ok, "01AAA", {"route": "item_hold"}),
            ("request.forward", ok, "01AAA", {"route": "title_hold"}),
            ("request.skip", skipped, "01AAA", WEBHOOK),
            ("request.forward", ok, "01BBB", {"via": "replay"}),  # another path, kept apart
            ("item.create", ok, None, FILE),
        ],
    )
    backend.clock.advance(hours=3)
    await _append(ledger, [("request.forward", ok, "01BBB", WEBHOOK)])

    assert await _count(ledger, since) == [
        ViaCount(None, "items", None, 1),
        ViaCount("01AAA", "items", None, 2),
        ViaCount("01AAA", "items", "webhook", 3),
        ViaCount("01AAA", "requests", None, 2),
        ViaCount("01AAA", "requests", "webhook", 1),
        ViaCount("01BBB", "requests", "replay", 1),
        ViaCount("01BBB", "requests", "webhook", 1),
    ]
    assert await _count(ledger, since + timedelta(hours=1)) == [
        ViaCount("01BBB", "requests", "webhook", 1)
    ]
    assert await _count(ledger, since, Outcome.FAILED) == [ViaCount("01AAA", "items", "webhook", 1)]


async def test_only_the_families_actions_are_read_and_none_is_no_count(ledger: Ledger) -> None:
    await _append(ledger, [("item.create", Outcome.OK, "01AAA", WEBHOOK)])
    since = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
    async with ledger.unit_of_work() as uow:
        assert await uow.events.count_by_via({}, since=since) == []
        assert await uow.events.count_by_via({"requests": ["request.forward"]}, since=since) == []
        assert await uow.events.count_by_via(
            {"created": ["item.create"], "items": ["item.create", "item.update"]}, since=since
        ) == [ViaCount("01AAA", "created", "webhook", 1)]


async def test_a_naive_since_is_refused(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        with pytest.raises(ValueError, match="aware"):
            await uow.events.count_by_via(FAMILIES, since=datetime(2026, 1, 1))
