"""Contract: forwarded requests are looked up before sending (rule R6); events are queryable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.ports.ledger import Ledger
from application.shared.ledger_records import JsonObject, Outcome, RequestStatus
from tests.integration.ledger.support import Backend

REQUEST_DATA: JsonObject = {
    "barcode": "3210",
    "requestType": "PATRON_PHYSICAL",
    "patronInfo": {"patronIdentifier": "u1", "patronName": "Ada"},
    "copies": [1, 2.5, True, None],
}


async def test_a_seen_request_is_found_before_sending_again(
    backend: Backend, ledger: Ledger
) -> None:
    async with ledger.unit_of_work() as uow:
        assert await uow.requests.get("01AAA", "7001") is None
        first = await uow.requests.upsert(
            "01AAA",
            "7001",
            route="item_hold",
            status=RequestStatus.FORWARDED,
            barcode="3210",
            mms_id="9955",
            scf_request_id="8001",
            scf_mms_id="9901",
            user_id="01AAA-ABRS",
            request_data=REQUEST_DATA,
        )
        await uow.commit()
    async with backend.open().unit_of_work() as uow:
        seen = await uow.requests.get("01AAA", "7001")
        assert await uow.requests.get("01BBB", "7001") is None
    assert seen == first
    assert seen is not None
    assert (seen.status, seen.attempts, seen.route) == (RequestStatus.FORWARDED, 1, "item_hold")
    assert seen.first_seen_at == seen.updated_at == backend.clock.now()
    assert seen.request_data == REQUEST_DATA


async def test_another_attempt_counts_and_keeps_first_seen(
    backend: Backend, ledger: Ledger
) -> None:
    first_seen = backend.clock.now()
    async with ledger.unit_of_work() as uow:
        await uow.requests.upsert(
            "01AAA",
            "7001",
            route="item_hold",
            status=RequestStatus.FAILED,
            last_error="Alma 503",
            request_data=REQUEST_DATA,
        )
        await uow.commit()
    later = backend.clock.advance(minutes=10)
    async with ledger.unit_of_work() as uow:
        retried = await uow.requests.upsert(
            "01AAA",
            "7001",
            route="item_hold",
            status=RequestStatus.FORWARDED,
            scf_request_id="8001",
        )
        await uow.commit()
    assert retried.attempts == 2
    assert (retried.first_seen_at, retried.updated_at) == (first_seen, later)
    assert retried.last_error is None
    assert retried.request_data == {}


async def test_set_status_and_lookup_by_scf_request(backend: Backend, ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        await uow.requests.upsert(
            "01AAA", "7001", route="item_hold", status=RequestStatus.WAITING_FOR_MIRROR
        )
        later = backend.clock.advance(hours=1)
        forwarded = await uow.requests.set_status(
            "01AAA", "7001", RequestStatus.FORWARDED, scf_request_id="8001"
        )
        assert forwarded is not None
        assert (forwarded.status, forwarded.scf_request_id, forwarded.updated_at) == (
            RequestStatus.FORWARDED,
            "8001",
            later,
        )
        cancelled = await uow.requests.set_status(
            "01AAA", "7001", RequestStatus.CANCELLED, last_error="Item is on loan"
        )
        assert cancelled is not None
        assert (cancelled.scf_request_id, cancelled.last_error) == ("8001", "Item is on loan")
        assert cancelled.attempts == 1
        assert await uow.requests.set_status("01AAA", "none", RequestStatus.FAILED) is None
        await uow.commit()
    async with ledger.unit_of_work() as uow:
        found = await uow.requests.get_by_scf_request("8001")
        assert await uow.requests.get_by_scf_request("8999") is None
    assert found is not None
    assert found.source_request_id == "7001"


async def test_list_waiting_gives_an_institutions_waiting_requests_oldest_first(
    backend: Backend, ledger: Ledger
) -> None:
    async with ledger.unit_of_work() as uow:
        for request_id, institution, status in [
            ("3", "01AAA", RequestStatus.WAITING_FOR_MIRROR),
            ("1", "01AAA", RequestStatus.FORWARDED),
            ("2", "01BBB", RequestStatus.WAITING_FOR_MIRROR),
            ("0", "01AAA", RequestStatus.WAITING_FOR_MIRROR),
        ]:
            await uow.requests.upsert(institution, request_id, route="item_hold", status=status)
            backend.clock.advance(seconds=1)
        await uow.commit()
        waiting = await uow.requests.list_waiting("01AAA")
    assert [request.source_request_id for request in waiting] == ["3", "0"]


async def test_request_record_gives_the_row_and_its_events(ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        await uow.requests.upsert("01AAA", "7001", route="title_hold", status=RequestStatus.FAILED)
        await uow.events.append(
            "request.forward", Outcome.FAILED, institution="01AAA", request_id="7001"
        )
        await uow.events.append(
            "request.forward", Outcome.OK, institution="01AAA", request_id="7002"
        )
        await uow.commit()
    record = await ledger.request_record("01AAA", "7001")
    assert record.request is not None
    assert record.request.route == "title_hold"
    assert [event.request_id for event in record.events] == ["7001"]
    missing = await ledger.request_record("01BBB", "7001")
    assert missing.request is None
    assert missing.events == ()


async def log_day(backend: Backend, ledger: Ledger) -> None:
    """Six events an hour apart: 01AAA/01BBB, create/delete, ok/failed/skipped."""
    rows = [
        ("01AAA", "item.create", Outcome.OK),
        ("01BBB", "item.create", Outcome.OK),
        ("01AAA", "item.delete", Outcome.FAILED),
        ("01AAA", "item.create", Outcome.SKIPPED),
        ("01BBB", "item.delete", Outcome.FAILED),
        ("01AAA", "item.create", Outcome.OK),
    ]
    async with ledger.unit_of_work() as uow:
        for n, (institution, action, outcome) in enumerate(rows):
            await uow.events.append(action, outcome, institution=institution, barcode=f"b{n}")
            backend.clock.advance(hours=1)
        await uow.commit()


async def test_events_filter_by_institution_action_and_outcome(
    backend: Backend, ledger: Ledger
) -> None:
    await log_day(backend, ledger)

    async def barcodes(**filters: object) -> list[str | None]:
        return [event.barcode for event in await ledger.events(**filters)]  # type: ignore[arg-type]

    assert await barcodes() == ["b0", "b1", "b2", "b3", "b4", "b5"]
    assert await barcodes(institution="01AAA") == ["b0", "b2", "b3", "b5"]
    assert await barcodes(action="item.delete") == ["b2", "b4"]
    assert await barcodes(outcome=Outcome.FAILED) == ["b2", "b4"]
    assert await barcodes(institution="01AAA", action="item.create", outcome=Outcome.OK) == [
        "b0",
        "b5",
    ]
    assert await barcodes(institution="01CCC") == []


async def test_events_time_window_and_paging(backend: Backend, ledger: Ledger) -> None:
    start = backend.clock.now()
    await log_day(backend, ledger)
    hour = timedelta(hours=1)

    async def barcodes(**filters: object) -> list[str | None]:
        return [event.barcode for event in await ledger.events(**filters)]  # type: ignore[arg-type]

    # since is inclusive, until exclusive: back-to-back windows never count an event twice.
    assert await barcodes(since=start + hour, until=start + 3 * hour) == ["b1", "b2"]
    assert await barcodes(since=start + 3 * hour) == ["b3", "b4", "b5"]
    assert await barcodes(until=start + hour) == ["b0"]
    assert await barcodes(limit=2, offset=1) == ["b1", "b2"]
    assert await barcodes(newest_first=True, limit=2) == ["b5", "b4"]
    assert await barcodes(institution="01AAA", newest_first=True, offset=1) == ["b3", "b2", "b0"]


async def test_event_times_come_back_in_utc(backend: Backend, ledger: Ledger) -> None:
    async with ledger.unit_of_work() as uow:
        appended = await uow.events.append("x", Outcome.OK, details={})
        await uow.commit()
    [stored] = await ledger.events()
    assert stored == appended
    assert stored.occurred_at == backend.clock.now()
    assert stored.occurred_at.utcoffset() == timedelta(0)
    assert stored.details == {}
    assert stored.message is None


async def test_naive_time_window_is_refused(ledger: Ledger) -> None:
    from datetime import datetime

    with pytest.raises(ValueError, match="aware"):
        await ledger.events(since=datetime(2026, 1, 1))
