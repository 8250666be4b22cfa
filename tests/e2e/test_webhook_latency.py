"""Latency of a member's webhooks, measured from outside (issue 19, rules W6 and W7).

`almabridge serve` runs as a subprocess against the fake Alma on 127.0.0.1 (tests.e2e.harness),
on a SQLite file ledger and on a PostgreSQL schema. The test acts as Alma: it creates a patron's
request on a member item in remote storage, or a new member item in remote storage, then sends
the member's signed `REQUEST_CREATED` or `ITEM_CREATED`, and polls the fake's state (every
50 ms, with a deadline, never a fixed sleep) until the effect is there: the request placed in the
SCF on the item's mirror (W6), or the mirror created and on the bridge's transit loan (W7, I10).
The rules' target is 60 s; on this machine each must be there within 10 s of sending.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.fake_alma.model import Item, Loan, UserRequest
from adapters.fake_alma.state import FakeAlmaState
from entrypoints.demo.setup import AB, SCF, SCF_DESK, SCF_LIBRARY
from tests.e2e.harness import AlmaSide, BridgeApi, ServiceProcess, alma_side, running_service, until
from tests.integration.ledger.support import database
from tests.scenarios.webhooks_fast.support import item_event, request_created

LEDGERS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
ALLOWED = 10.0
"""Seconds from sending the webhook to its effect in the SCF, on this machine (target: 60 s)."""
POLL = 0.05
LIBRARY, LOCATION = "ABRS", "rs_shared_in_ab"
"""AB's remote storage (I5)."""
SYSTEM_USER = f"{AB}-{LIBRARY}"
"""The borrower of the bridge's transit loans (N3, I10)."""
PICKUP = {"request_type": "HOLD", "pickup_location_type": "LIBRARY"}
_ids = itertools.count(1)


def _webhook_id() -> str:
    """A fresh Alma-like webhook id (the inbox dedupes on it, W3)."""
    return f"{time.time_ns()}{next(_ids):04d}"


async def _seconds_until(
    found: Callable[[], object | None], sent: float, what: str, service: ServiceProcess
) -> float:
    """Poll `found` until it answers something; the seconds since `sent` (time.monotonic)
    when it did. Fails once ALLOWED seconds have passed since `sent`."""
    while found() is None:
        if time.monotonic() - sent > ALLOWED:
            raise AssertionError(
                f"{what}: not there {ALLOWED:.0f} s after the webhook\n{service.log_text()}"
            )
        await asyncio.sleep(POLL)
    return time.monotonic() - sent


def _scf_request_on(state: FakeAlmaState, item_pid: str) -> UserRequest | None:
    requests = state.requests_of(SCF, item_pid=item_pid)
    return requests[0] if requests else None


def _mirror_on_transit_loan(state: FakeAlmaState, barcode: str) -> tuple[Item, Loan] | None:
    mirror = state.find_item(SCF, f"{barcode}X")
    if mirror is None:
        return None
    loans = [
        loan
        for loan in state.institutions[SCF].loans.values()
        if loan.item_pid == mirror.pid and loan.active and loan.user_id == SYSTEM_USER
    ]
    return (mirror, loans[0]) if loans else None


def _member_item(side: AlmaSide, barcode: str, title: str) -> Item:
    return side.state.seed_item(
        AB, barcode=barcode, library=LIBRARY, location=LOCATION, title=f"{title} /"
    )


def _scf_mirror(side: AlmaSide, member: Item) -> Item:
    """The SCF copy `{b}X` as an items sync would have left it (N1, N2, N4), already returned."""
    return side.state.seed_item(
        SCF,
        barcode=f"{member.barcode}X",
        library=SCF_LIBRARY,
        location="rs_shared",
        title="Latency request /",
        item_data={"provenance": {"value": AB}},
        system_numbers=[f"({AB}){member.mms_id}"],
    )


@pytest.mark.parametrize("ledger", LEDGERS)
async def test_W6_W7_member_webhooks_take_effect_in_the_scf_within_10_s(
    tmp_path: Path, ledger: str
) -> None:
    async with (
        database(ledger, tmp_path) as url,
        alma_side(tmp_path, database_url=url) as side,
        running_service(side) as service,
    ):
        api = BridgeApi(side.client, service, side.secrets.webhook)
        state = side.state

        # rule W6: a patron's request on a member item in remote storage whose mirror exists.
        requested = _member_item(side, "LATREQ0001", "Latency request")
        mirror = _scf_mirror(side, requested)
        source = state.create_item_request(
            AB,
            requested.mms_id,
            requested.holding_id,
            requested.pid,
            "ab_patron2",
            {**PICKUP, "pickup_location_library": LIBRARY},
        )
        raw = request_created(AB, source, webhook_id=_webhook_id())
        sent = time.monotonic()
        answer = await api.post_webhook(raw, api.signed(raw))
        assert answer.status_code == 200, answer.text
        request_seconds = await _seconds_until(
            lambda: _scf_request_on(state, mirror.pid), sent, "W6: the SCF request", service
        )
        placed = _scf_request_on(state, mirror.pid)
        assert placed is not None
        assert placed.user_primary_id == SYSTEM_USER
        assert request_seconds < ALLOWED  # rule W6

        # The bridge records the forwarding once Alma has answered: wait for the record too.
        async def recorded() -> bool:
            return bool(await api.events(action="request.forward"))

        await until(recorded, ALLOWED, "the request.forward event")
        (forwarded,) = await api.events(action="request.forward")
        assert forwarded["request_id"] == source.request_id
        assert forwarded["details"]["via"] == "webhook"

        # rule W7: a new member item in remote storage, mirrored and lent in transit (I10).
        created = _member_item(side, "LATITM0001", "Latency item")
        raw = item_event(AB, "ITEM_CREATED", created, webhook_id=_webhook_id())
        sent = time.monotonic()
        answer = await api.post_webhook(raw, api.signed(raw))
        assert answer.status_code == 200, answer.text
        item_seconds = await _seconds_until(
            lambda: _mirror_on_transit_loan(state, created.barcode),
            sent,
            "W7: the mirror on its transit loan",
            service,
        )
        lent = _mirror_on_transit_loan(state, created.barcode)
        assert lent is not None
        scf_item, loan = lent
        assert scf_item.data["provenance"]["value"] == AB
        assert (loan.circ_desk, loan.library) == (SCF_DESK, SCF_LIBRARY)
        assert item_seconds < ALLOWED  # rule W7

        async def mirrored() -> bool:
            history = await api.item_history(AB, created.barcode)
            return bool(history["item"] and history["item"]["state"] == "mirrored")

        await until(mirrored, ALLOWED, "the ledger's mirror row")
        history = await api.item_history(AB, created.barcode)
        assert history["item"]["scf_item_pid"] == scf_item.pid

        assert await api.events(outcome="failed") == []
        print(f"\n[{ledger}] W6 request {request_seconds:.2f} s, W7 item {item_seconds:.2f} s")
