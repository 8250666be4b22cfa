"""The ledger audit API: item history, request record and the filtered event log as JSON."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from application.shared.ledger_records import Outcome, RequestStatus
from tests.integration.http.support import Service, admin

AB = "01AAA_AB"
BARCODE = "39031031697261"


async def seed(service: Service) -> None:
    """One mirrored item with two events, one forwarded request, one CD failure."""
    async with service.ledger.unit_of_work() as uow:
        await uow.items.upsert(
            AB, BARCODE, scf_mms_id="991", scf_holding_id="221", scf_item_pid="231"
        )
        await uow.events.append("item.create", Outcome.OK, institution=AB, barcode=BARCODE)
        await uow.events.append(
            "item.update",
            Outcome.OK,
            institution=AB,
            barcode=BARCODE,
            details={"changed_fields": ["location"]},
        )
        await uow.requests.upsert(
            AB, "7001", route="item", status=RequestStatus.FORWARDED, barcode=BARCODE
        )
        await uow.events.append("request.forward", Outcome.OK, institution=AB, request_id="7001")
        await uow.events.append(
            "item.create", Outcome.FAILED, institution="01AAA_CD", barcode="X1", error_code="401"
        )
        await uow.commit()


async def test_an_items_history_is_its_mirror_and_events_with_iso_datetimes(
    service: Service,
) -> None:
    await seed(service)
    response = await service.client.get(f"/ledger/items/{AB}/{BARCODE}", headers=admin())
    assert response.status_code == 200
    answer = response.json()
    assert answer["item"]["scf_item_pid"] == "231"
    assert answer["item"]["state"] == "mirrored"
    assert datetime.fromisoformat(answer["item"]["first_synced_at"]).tzinfo is not None
    assert [e["action"] for e in answer["events"]] == ["item.create", "item.update"]
    assert answer["events"][1]["details"] == {"changed_fields": ["location"]}
    assert datetime.fromisoformat(answer["events"][0]["occurred_at"]).utcoffset() == timedelta(0)


async def test_a_requests_record_is_its_row_and_events(service: Service) -> None:
    await seed(service)
    response = await service.client.get(f"/ledger/requests/{AB}/7001", headers=admin())
    assert response.status_code == 200
    answer = response.json()
    assert answer["request"]["status"] == "forwarded"
    assert answer["request"]["barcode"] == BARCODE
    assert [e["action"] for e in answer["events"]] == ["request.forward"]


@pytest.mark.parametrize("path", [f"/ledger/items/{AB}/unknown", f"/ledger/requests/{AB}/0"])
async def test_what_the_ledger_never_saw_is_404(service: Service, path: str) -> None:
    await seed(service)
    response = await service.client.get(path, headers=admin())
    assert response.status_code == 404
    assert "knows nothing" in response.json()["error"]


async def test_the_event_log_filters_and_pages(service: Service) -> None:
    await seed(service)

    async def actions(**params: str | int) -> list[str]:
        response = await service.client.get("/ledger/events", params=params, headers=admin())
        assert response.status_code == 200, response.text
        return [event["action"] for event in response.json()["events"]]

    assert await actions() == ["item.create", "item.update", "request.forward", "item.create"]
    assert await actions(institution="01AAA_CD") == ["item.create"]
    assert await actions(outcome="failed") == ["item.create"]
    assert await actions(action="item.update") == ["item.update"]
    assert await actions(order="desc", limit=1) == ["item.create"]
    assert await actions(since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00+00:00") == []
    assert len(await actions(since="2000-01-01t00:00:00.1234567+05:30")) == 4
    page = (await service.client.get("/ledger/events?limit=3", headers=admin())).json()
    assert (page["limit"], page["offset"], page["next_offset"]) == (3, 0, 3)
    rest = (await service.client.get("/ledger/events?limit=3&offset=3", headers=admin())).json()
    assert (len(rest["events"]), rest["next_offset"]) == (1, None)


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("outcome=maybe", "outcome"),
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
        ("since=2026-01-01", "since"),
        ("since=2026-01-01T00:00:00", "since"),
        ("colour=red", "'colour'"),
        ("order=random", "order"),
        ("institution=%00", "institution"),
    ],
)
async def test_a_bad_parameter_is_400_naming_it(service: Service, query: str, named: str) -> None:
    response = await service.client.get(f"/ledger/events?{query}", headers=admin())
    assert response.status_code == 400
    assert response.json()["error"].startswith(named)


async def test_an_overlong_path_parameter_is_400(service: Service) -> None:
    response = await service.client.get(f"/ledger/items/{AB}/{'9' * 300}", headers=admin())
    assert response.status_code == 400
    assert response.json()["error"].startswith("barcode")
