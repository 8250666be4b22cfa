"""Which SCF system user places a forwarded hold: the pickup library, resolved per rule R3."""

from __future__ import annotations

from pathlib import Path

from entrypoints.bridge_wiring import request_forwarding
from tests.scenarios.requests.support import forward, member_item_request, mirror, scf_requests
from tests.scenarios.world import AB, CD, open_world, request_export


async def test_R3_pickup_in_another_institution_resolves_the_name_there(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        mirror(world, AB, "AB0002")
        source = member_item_request(world, AB, "AB0002", "ab_patron2")
        await forward(
            world,
            AB,
            {
                "requestId": source.request_id,
                "barcode": "AB0002",
                "institutionCode": CD,
                "pickup": "CD Remote Storage Library",
                "libraryCode": "ABRS",  # ignored: the named pickup institution's library wins
            },
        )
        (placed,) = scf_requests(world)
        assert placed.user_primary_id == "01AAA_CD-CDRS"
        (event,) = await world.events(action="request.forward")
        assert "pickup institution" in str(event.details["user_how"])


async def test_R3_library_code_then_default_library(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        world.state.add_user("01AAA_RS", {"primary_id": "01AAA_AB-ABMAIN"})
        mirror(world, AB, "AB0002")
        mirror(world, AB, "AB0001")
        by_code = member_item_request(world, AB, "AB0002", "ab_patron2")
        by_default = member_item_request(world, AB, "AB0001", "ab_patron2")
        await forward(
            world,
            AB,
            {"requestId": by_code.request_id, "barcode": "AB0002", "libraryCode": "ABMAIN"},
            {"requestId": by_default.request_id, "barcode": "AB0001", "pickup": "No such name"},
        )
        users = {r.item_pid: r.user_primary_id for r in scf_requests(world)}
        assert sorted(users.values()) == ["01AAA_AB-ABMAIN", "01AAA_AB-ABRS"]


async def test_R3_library_names_are_cached_per_institution_and_expire(tmp_path: Path) -> None:
    async with open_world(tmp_path, alma="http") as world:
        for barcode in ("AB0001", "AB0002", "AB 0003+4&5#6"):
            mirror(world, AB, barcode)
        first = member_item_request(world, AB, "AB0001", "ab_patron2")
        second = member_item_request(world, AB, "AB0002", "ab_patron2")
        forwarding = request_forwarding(world.bridge)

        def library_calls() -> int:
            return len(world.state.call_log.records(path_prefix="/almaws/v1/conf/libraries"))

        pickup = {"pickup": "AB Remote Storage Library"}
        world.drop_request_file(
            AB,
            "one.xml",
            request_export(
                [
                    {"requestId": first.request_id, "barcode": "AB0001", **pickup},
                    {"requestId": second.request_id, "barcode": "AB0002", **pickup},
                ]
            ),
        )
        summary = await forwarding.run(AB)
        assert summary.forwarded == 2
        assert library_calls() == 1  # one GET /conf/libraries for both requests

        third = member_item_request(world, AB, "AB 0003+4&5#6", "ab_patron1")
        world.clock.advance(hours=2)  # past the cache's hour
        # A barcode with a space routes as a title hold (R4), found through the mmsId.
        request: dict[str, object] = {"requestId": third.request_id, "barcode": "AB 0003+4&5#6"}
        request.update(pickup)
        request["mmsId"] = third.mms_id
        world.drop_request_file(AB, "two.xml", request_export([request]))
        assert (await forwarding.run(AB)).forwarded == 1
        assert library_calls() == 2
