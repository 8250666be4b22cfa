"""Helpers of the kill-point test: the consortium it runs on, the kill switch, what is compared.

The consortium is the demo's plus a bulk of 01AAA_AB items in remote storage (published in one
archive) and member requests on them (exported in one request file): item holds, patron and
staff digitizations, two holds of one item by two patrons, and holds on items on open shelves
(which R7 cancels). Everything is seeded into the fake Alma before the bridge starts, so two
consortia built from one seed are the same consortium.

`KillSwitch` watches the fake Alma's call log, which the fake appends to once it has answered a
call (the write done in its state, the answer sent or on its way). At each kill point (a number
of write calls seen, of all or only of those placing or cancelling requests, then a few more
calls of any kind) it SIGKILLs the bridge process there and then, inside the fake's call: the
bridge dies with that call's effect made in Alma and, most of the time, before it could write
what it learnt to its ledger.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from adapters.fake_alma.call_log import CallRecord
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from adapters.ledger.engine import create_ledger_engine
from adapters.ledger.tables import events, forwarded_requests, mirrored_items
from application.shared.ledger_records import Outcome as EventOutcome
from domain.scf.requests.comments import parse_internal_identifier
from entrypoints.demo.alma_files import PublishedRecord
from entrypoints.demo.setup import AB, SCF
from tests.e2e.harness import seed_remote_storage

LIBRARY, LOCATION, SHELF = "ABRS", "rs_shared_in_ab", "stacks"
SYSTEM_USER = f"{AB}-{LIBRARY}"
ITEMS, BIBS = 150, 3
PREFIX = "KP"
PICKUP = "AB Remote Storage Library"
WRITES = frozenset({"POST", "PUT", "DELETE"})

HOLD = "PATRON_PHYSICAL"
PATRON_DIGITIZATION = "PHYSICAL_TO_DIGITIZATION"
STAFF_DIGITIZATION = "STAFF_PHYSICAL_DIGITIZATION"


def item_barcodes() -> list[str]:
    """The bulk items in remote storage, in publishing order."""
    return [f"{PREFIX}{n:04d}" for n in range(ITEMS)]


def shelf_barcodes() -> list[str]:
    """Items of AB on open shelves: not in remote storage, never mirrored (I5, I6)."""
    return [f"{PREFIX}S{n}" for n in range(5)]


@dataclass(frozen=True)
class Plan:
    """What the seed holds besides the demo: published records and the exported requests."""

    records: list[PublishedRecord]
    requests: list[dict[str, str]]
    kinds: dict[str, str]
    """Source request id → what it is ('hold', 'patron digitization', 'shelf hold', ...)."""

    @property
    def effect_floor(self) -> int:
        """Write calls any complete run makes at least, one per effect left in Alma: a bib and
        a holding per record, an item and a loan per mirror, a forward per request on a
        mirrored item, the RequestSwitched cancel of each patron digitization, the R7 cancel
        of each shelf hold."""
        return 2 * BIBS + 2 * ITEMS + self.request_effect_floor

    @property
    def request_effect_floor(self) -> int:
        """Write calls on requests any complete run makes at least: the forwards and cancels."""
        forwards = sum(kind != "shelf hold" for kind in self.kinds.values())
        cancels = sum(kind in ("patron digitization", "shelf hold") for kind in self.kinds.values())
        return forwards + cancels


def _digitization_body(sub_type: str) -> dict[str, Any]:
    return {
        "request_type": "DIGITIZATION",
        "request_sub_type": {"value": sub_type},
        "partial_digitization": True,
        "required_pages_range": [{"from_page": "1", "to_page": "12"}],
        "copyrights_declaration_signed_by_patron": True,
    }


HOLD_BODY = {
    "request_type": "HOLD",
    "pickup_location_type": "LIBRARY",
    "pickup_location_library": "ABMAIN",
}


def consortium(seed: int) -> tuple[FakeAlmaState, Plan]:
    """The demo consortium plus the bulk items and the member requests on them."""
    state = state_from_file()
    rng = random.Random(seed)
    barcodes = item_barcodes()
    records = seed_remote_storage(
        state, AB, (LIBRARY, LOCATION), barcodes, bibs=BIBS, title="Kill point record"
    )
    pid_of: dict[str, tuple[str, str, str]] = {}
    for barcode in barcodes:
        seeded = state.find_item(AB, barcode)
        assert seeded is not None
        pid_of[barcode] = (seeded.mms_id, seeded.holding_id, seeded.pid)
    shelf_bib: str | None = None
    for barcode in shelf_barcodes():
        item = state.seed_item(
            AB, barcode=barcode, library=LIBRARY, location=SHELF, mms_id=shelf_bib, title="Shelf /"
        )
        shelf_bib = item.mms_id
        pid_of[barcode] = (item.mms_id, item.holding_id, item.pid)

    # Requests on every sixth item, all through the file: the early ones find their mirror,
    # the late ones wait for it (R7) until the items sync of the same run brings it.
    wanted: list[tuple[str, str, str]] = []  # (barcode, export type, kind)
    for position, barcode in enumerate(barcodes[::6]):
        if position % 5 == 2:
            wanted.append((barcode, PATRON_DIGITIZATION, "patron digitization"))
        elif position % 7 == 4:
            wanted.append((barcode, STAFF_DIGITIZATION, "staff digitization"))
        else:
            wanted.append((barcode, HOLD, "hold"))
    wanted.append((barcodes[6 * 3], HOLD, "second hold"))  # two patrons, one item: both stand
    wanted += [(barcode, HOLD, "shelf hold") for barcode in shelf_barcodes()]
    rng.shuffle(wanted)

    requests: list[dict[str, str]] = []
    kinds: dict[str, str] = {}
    held: set[str] = set()
    for barcode, export_type, kind in wanted:
        mms_id, holding_id, pid = pid_of[barcode]
        if export_type == HOLD:
            user = "ab_patron2" if barcode in held else "ab_patron1"
            held.add(barcode)
            body: dict[str, Any] = HOLD_BODY
        elif export_type == PATRON_DIGITIZATION:
            user, body = "ab_patron1", _digitization_body(PATRON_DIGITIZATION)
        else:
            user, body = "ab_patron2", _digitization_body(STAFF_DIGITIZATION)
        made = state.create_item_request(AB, mms_id, holding_id, pid, user, body)
        kinds[made.request_id] = kind
        requests.append(
            {
                "requestId": made.request_id,
                "requestType": export_type,
                "barcode": barcode,
                "mmsId": mms_id,
                "pickup": PICKUP,
                "patronName": user,
                "patronIdentifier": user,
            }
        )
    return state, Plan(records, requests, kinds)


# ---- the kill switch --------------------------------------------------------------------------


@dataclass(frozen=True)
class KillPoint:
    """Kill once `count` write calls (only those on requests, with `requests_only`) have reached
    the fake Alma, then `then_calls` more calls of any kind."""

    count: int
    then_calls: int
    requests_only: bool = False


def is_request_write(record: CallRecord) -> bool:
    """A request placed in the SCF (R5, R6) or a member request cancelled (R7, R8)."""
    return record.method in ("POST", "DELETE") and "/requests" in record.path


def kill_points(seed: int, count: int, plan: Plan, on_requests: int = 2) -> list[KillPoint]:
    """`count` kill points spread over the whole run, `on_requests` of them among the request
    writes, the others among all writes: each drawn in its own equal stretch of the writes a
    complete run makes at least, short of the last few (a kill point must come before the end)."""
    rng = random.Random(seed)

    def spread(number: int, floor: int, requests_only: bool) -> list[KillPoint]:
        width = (floor - 4) / number
        points = []
        for stretch in range(number):
            low = int(stretch * width) + 1
            high = max(low, int((stretch + 1) * width))
            points.append(KillPoint(rng.randint(low, high), rng.randint(0, 3), requests_only))
        return points

    return spread(count - on_requests, plan.effect_floor, False) + spread(
        on_requests, plan.request_effect_floor, True
    )


@dataclass(frozen=True)
class Kill:
    """Where a kill landed: the call the fake had just answered, and the writes seen by then."""

    point: KillPoint
    writes: int
    method: str
    path: str
    status: int
    at: float = field(default_factory=time.monotonic, compare=False, repr=False)
    """When the SIGKILL was sent (time.monotonic), to measure the take-up after it (rule W8)."""


@dataclass
class KillSwitch:
    """SIGKILLs the armed bridge process at each kill point, from inside the fake's call log."""

    points: list[KillPoint]
    writes: int = 0
    request_writes: int = 0
    calls: int = 0
    kills: list[Kill] = field(default_factory=list)
    fired: asyncio.Event = field(default_factory=asyncio.Event)
    _pid: int | None = None
    _due: KillPoint | None = None
    _countdown: int = 0

    def install(self, state: FakeAlmaState) -> None:
        """Watch every call the fake records from now on."""
        append: Callable[[CallRecord], None] = state.call_log.append

        def watched(record: CallRecord) -> None:
            append(record)
            self._observe(record)

        state.call_log.append = watched  # type: ignore[method-assign]

    def arm(self, pid: int) -> None:
        """The next kill point kills this process."""
        self._pid = pid

    @property
    def done(self) -> bool:
        return len(self.kills) == len(self.points)

    def _reached(self, point: KillPoint) -> bool:
        return (self.request_writes if point.requests_only else self.writes) >= point.count

    def _observe(self, record: CallRecord) -> None:
        self.calls += 1
        if record.method in WRITES:
            self.writes += 1
            self.request_writes += is_request_write(record)
        if self._pid is None:
            return
        if self._due is None:
            killed = [kill.point for kill in self.kills]
            due = [p for p in self.points if p not in killed and self._reached(p)]
            if not due:
                return
            self._due, self._countdown = due[0], due[0].then_calls
        else:
            self._countdown -= 1
        if self._countdown > 0:
            return
        os.kill(self._pid, signal.SIGKILL)
        kill = Kill(self._due, self.writes, record.method, record.path, record.status)
        self.kills.append(kill)
        self._pid, self._due = None, None
        self.fired.set()


# ---- what a run left behind -------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One consortium after the run: the SCF, the member's requests and the bridge's ledger."""

    mirrors: Counter[str]
    """SCF barcode → items carrying it (only the bulk's `{b}X`)."""
    loans: Counter[str]
    """SCF barcode → active loans to the member's system user (I10)."""
    bibs: frozenset[frozenset[str]]
    """Per SCF bib holding mirrors, its barcodes (I7)."""
    holdings: Counter[tuple[frozenset[str], str, str]]
    """Per SCF holding with mirrors: its barcodes, library and location (I8)."""
    scf_bibs: int
    scf_holdings: int
    scf_users: int
    forwarded: Counter[str]
    """Source request id → SCF requests naming it (`Internal identifier`, R5, R6)."""
    cancelled: dict[str, str | None]
    """Source request id → the note it was cancelled with (R7, R8, RequestSwitched)."""
    ledger_items: dict[str, tuple[str, bool, bool]]
    """Barcode → (state, lent, still in transit) of `mirrored_items`."""
    ledger_requests: dict[str, tuple[str, str, bool, str | None]]
    """Source request id → (status, route, has an SCF request id, last error) of
    `forwarded_requests`."""
    ledger_failures: list[str]
    """Every event the ledger recorded as failed: `action barcode-or-request: message`."""


def outcome(state: FakeAlmaState, plan: Plan, ledger: dict[str, Any]) -> Outcome:
    scf = state.institutions[SCF]
    ours = {f"{barcode}X" for barcode in item_barcodes() + shelf_barcodes()}
    items = [item for item in scf.items.values() if item.barcode in ours]
    by_bib: dict[str, set[str]] = {}
    by_holding: dict[str, set[str]] = {}
    for item in items:
        by_bib.setdefault(item.mms_id, set()).add(item.barcode)
        by_holding.setdefault(item.holding_id, set()).add(item.barcode)
    pid_barcode = {item.pid: item.barcode for item in items}
    sources = set(plan.kinds)
    forwarded: Counter[str] = Counter()
    for request in scf.requests.values():
        source = parse_internal_identifier(request.fields.get("comment"))
        if source in sources:
            forwarded[source] += 1
    member = state.institutions[AB]
    return Outcome(
        mirrors=Counter(item.barcode for item in items),
        loans=Counter(
            pid_barcode[loan.item_pid]
            for loan in scf.loans.values()
            if loan.item_pid in pid_barcode and loan.active and loan.user_id == SYSTEM_USER
        ),
        bibs=frozenset(frozenset(names) for names in by_bib.values()),
        holdings=Counter(
            (frozenset(names), scf.holdings[holding].library, scf.holdings[holding].location)
            for holding, names in by_holding.items()
        ),
        scf_bibs=len(scf.bibs),
        scf_holdings=len(scf.holdings),
        scf_users=len(scf.users),
        forwarded=forwarded,
        cancelled={
            request_id: member.requests[request_id].cancel_note
            for request_id in sources
            if not member.requests[request_id].active
        },
        ledger_items=ledger["items"],
        ledger_requests=ledger["requests"],
        ledger_failures=ledger["failures"],
    )


async def ledger_rows(url: str) -> dict[str, Any]:
    """The member's `mirrored_items` and `forwarded_requests` rows, as `Outcome` keeps them."""
    engine = create_ledger_engine(url)
    try:
        async with engine.connect() as conn:
            items = (
                await conn.execute(select(mirrored_items).where(mirrored_items.c.institution == AB))
            ).all()
            requests = (
                await conn.execute(
                    select(forwarded_requests).where(forwarded_requests.c.source_institution == AB)
                )
            ).all()
            failed = select(events).where(events.c.outcome == EventOutcome.FAILED.value)
            failures = (await conn.execute(failed)).all()
    finally:
        await engine.dispose()
    return {
        "items": {
            row.barcode: (
                row.state,
                row.loaned_at is not None,
                row.loaned_at is not None and row.loan_returned_at is None,
            )
            for row in items
        },
        "requests": {
            row.source_request_id: (
                row.status,
                row.route,
                row.scf_request_id is not None,
                row.last_error,
            )
            for row in requests
        },
        "failures": [
            f"{row.action} {row.barcode or row.request_id}: {row.message}" for row in failures
        ],
    }
