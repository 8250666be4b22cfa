"""Helpers of the W6/W7 scenarios: Alma's real REQUEST and ITEM webhook bodies, pointed at the
seeded consortium, delivered the way the inbox worker delivers them (scrubbed body, classified,
dispatched to the bridge's handlers)."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.fake_alma.model import Item, UserRequest
from application.scf.inbox.dispatch import dispatch
from application.scf.inbox.handlers import BridgeHandlers
from application.scf.inbox.records import Handled
from application.shared.metrics import Metrics
from domain.scf.webhooks import classify_webhook, inbox_body
from entrypoints.bridge_wiring import circulation, item_now, request_now, sync_jobs
from tests.scenarios.items.support import AB_RS, FAST_LOAN_RETRY, Copy
from tests.scenarios.requests import support as requests
from tests.scenarios.world import AB, SCF, World

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "alma"
REQUEST_SAMPLE = FIXTURES / "latoohey-libraryapps-server-webhooks__webhook_request.json"
ITEM_SAMPLE = FIXTURES / "latoohey-libraryapps-server-webhooks__webhook_item.json"


def _sample(path: Path, institution: str, event: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    document["institution"]["value"] = institution
    document["event"]["value"] = event
    return document


def request_created(
    institution: str, request: UserRequest, *, title_level: bool = False, webhook_id: str = "1"
) -> bytes:
    """The REQUEST sample as a REQUEST_CREATED of `request`; a title request names no copy."""
    document = _sample(REQUEST_SAMPLE, institution, "REQUEST_CREATED")
    document["id"] = webhook_id
    payload = document["user_request"]
    payload.update(
        user_primary_id=request.user_primary_id,
        request_id=request.request_id,
        mms_id=request.mms_id,
        request_status="NOT_STARTED",
        comment="Please hurry",  # the inbox keeps only what C2 reads of a comment (P2)
    )
    if title_level:
        payload.update(item_id=None, barcode=None)
    return json.dumps(document).encode()


def item_event(institution: str, event: str, item: Item, *, webhook_id: str = "2") -> bytes:
    """The ITEM sample as `event` of the member item (its ids and state as of now)."""
    document = _sample(ITEM_SAMPLE, institution, event)
    document["id"] = webhook_id
    body = document["item"]
    body["bib_data"]["mms_id"] = item.mms_id
    body["holding_data"]["holding_id"] = item.holding_id
    data = body["item_data"]
    data.update(
        pid=item.pid,
        barcode=item.barcode,
        library=copy.deepcopy(item.data.get("library")),
        location=copy.deepcopy(item.data.get("location")),
    )
    return json.dumps(document).encode()


def handlers(world: World) -> BridgeHandlers:
    """The worker's handlers over the world's bridge, with quick I10 loan retries."""
    jobs = sync_jobs(world.bridge)
    return BridgeHandlers(
        jobs,
        circulation(world.bridge),
        request_now(world.bridge, jobs.requests),
        item_now(world.bridge, loan_retry=FAST_LOAN_RETRY),
    )


async def deliver(world: World, raw: bytes, inbox_id: int = 1) -> Handled:
    """What the worker does with a verified body: keep it scrubbed (P2), classify, dispatch."""
    event = classify_webhook(inbox_body(raw), world.bridge.settings.consortium)
    return await dispatch(handlers(world), Metrics(), event, inbox_id)


def move(world: World, institution: str, barcode: str, location: str) -> Item:
    """The member moves the item to another location of its library (Alma's item view)."""
    item = world.state.item_by_barcode(institution, barcode)
    item.data["location"] = {"value": location, "desc": location}
    return item


def delete(world: World, institution: str, barcode: str) -> Item:
    """The member withdraws the item: Alma has it no more."""
    item = world.state.item_by_barcode(institution, barcode)
    world.state.delete_item(institution, item.mms_id, item.holding_id, item.pid, override=True)
    return item


BIB = "99100000000004101"
"""The member bib whose new items the side-by-side scenarios create."""
PICKUP_ABRS = {"request_type": "HOLD", "pickup_location_type": "LIBRARY"}
PICKUP_ABRS.update(pickup_location_library="ABRS", comment="Please hurry")


def new_copies(count: int) -> list[Copy]:
    return [Copy(f"AB01{n:02d}", AB_RS["c"], AB_RS["l"]) for n in range(count)]


def created(world: World, copies: Sequence[Copy]) -> list[bytes]:
    """The ITEM_CREATED of each seeded copy."""
    item = world.state.item_by_barcode
    return [item_event(AB, "ITEM_CREATED", item(AB, c.barcode)) for c in copies]


async def requested(world: World) -> tuple[list[str], list[UserRequest]]:
    """AB0001 and AB0002 mirrored (pids) and requested by a patron of AB (R3-R7 forward)."""
    mirrors, sources = [], []
    for barcode in ("AB0001", "AB0002"):
        scf_copy = requests.mirror(world, AB, barcode)
        await requests.record_mirror(world, AB, barcode, scf_copy)
        mirrors.append(scf_copy.pid)
        sources.append(requests.member_item_request(world, AB, barcode, "ab_patron2", PICKUP_ABRS))
    return mirrors, sources


async def at_once(world: World, bodies: Sequence[bytes], worker: BridgeHandlers) -> list[Handled]:
    """The bodies dispatched concurrently through one worker's handlers, as its slots do."""
    consortium = world.bridge.settings.consortium
    events = [classify_webhook(inbox_body(raw), consortium) for raw in bodies]
    runs = (dispatch(worker, Metrics(), event, n) for n, event in enumerate(events, 1))
    return list(await asyncio.gather(*runs))


def scf_items(world: World, barcode: str) -> list[Any]:
    """The SCF items with the barcode of the mirror of `barcode`."""
    return [i for i in world.state.institution(SCF).items.values() if i.barcode == barcode + "X"]
