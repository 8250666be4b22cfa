"""A ledger with something on every part of the staff status page, written through the ledger's
own API at chosen times (a fake clock moved between writes), plus what the page should say,
read back from the ledger with its own queries (never hard-coded).

Shared by the browser test and the ASGI tests of `/status` (tests/integration/http).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from application.ports.ledger import Ledger
from application.scf.requests.forwarding import REQUESTS_SYNC
from application.scf.staff_status import (
    ARRIVAL_DAYS,
    CHART_DAYS,
    FAILURE_DAYS,
    ITEM_CHANGES,
    ITEM_MIRRORED,
    ITEMS_SYNC,
    REQUEST_FORWARDED,
)
from application.shared.ledger_records import (
    InboxStatus,
    JsonObject,
    LedgerEvent,
    Outcome,
    RequestStatus,
)
from tests.integration.ledger.support import FakeClock

NOW = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
"""The page's now in these tests: mid-morning, so day boundaries are hours away."""
AB = "01AAA_AB"
CD = "01AAA_CD"
MEMBERS = (AB, CD)
HOSTILE = "<script>alert(1)</script>"
ALMA_MESSAGE = "Item with barcode AB0007 already exists in the institution (Alma 401873)"
PATRON_SECRET = "PATRON-0042-PRIVATE"
"""A patron id inside a dead webhook's body: the page must never show it."""


def at(days_ago: float, hour: int = 9) -> datetime:
    """A moment `days_ago` whole days before NOW's day, at `hour` UTC (or fractional days)."""
    day = NOW.replace(hour=hour, minute=0, second=0, microsecond=0)
    return day - timedelta(days=days_ago)


async def append(
    ledger: Ledger,
    clock: FakeClock,
    when: datetime,
    action: str,
    outcome: Outcome,
    *,
    institution: str | None,
    message: str | None = None,
    details: JsonObject | None = None,
    error_code: str | None = None,
    barcode: str | None = None,
    request_id: str | None = None,
) -> LedgerEvent:
    """One event stamped `when` (the clock is moved there, then back to NOW)."""
    clock.current = when
    try:
        async with ledger.unit_of_work() as uow:
            event = await uow.events.append(
                action,
                outcome,
                institution=institution,
                message=message,
                details=details,
                error_code=error_code,
                barcode=barcode,
                request_id=request_id,
            )
            await uow.commit()
        return event
    finally:
        clock.current = NOW


def webhook_body(action: str, event: str | None, institution: str, **extra: object) -> bytes:
    """An Alma-shaped webhook body."""
    document: dict[str, object] = {
        "id": "7001",
        "action": action,
        "institution": {"value": institution, "desc": "Test"},
        "event": {"value": event, "desc": "Test"} if event else None,
        **extra,
    }
    return json.dumps(document).encode()


async def dead_message(
    ledger: Ledger, clock: FakeClock, key: str, body: bytes, error: str, attempts: int
) -> int:
    """A message the worker claimed `attempts` times and then gave up on."""
    clock.current = NOW - timedelta(hours=5)
    try:
        async with ledger.unit_of_work() as uow:
            added = await uow.inbox.add(key, body, clock.now())
            await uow.commit()
        for attempt in range(attempts):
            claimed = await ledger.claim_inbox("seed-worker", timedelta(minutes=5), 100)
            assert [m.id for m in claimed] == [added.id]
            async with ledger.unit_of_work() as uow:
                if attempt + 1 < attempts:
                    await uow.inbox.mark_failed(added.id, error, clock.now())
                else:
                    await uow.inbox.mark_dead(added.id, error)
                await uow.commit()
        return added.id
    finally:
        clock.current = NOW


async def done_message(ledger: Ledger, clock: FakeClock) -> int:
    """A message processed without trouble (not replayable)."""
    async with ledger.unit_of_work() as uow:
        added = await uow.inbox.add("done-1", webhook_body("JOB_END", None, AB), clock.now())
        await uow.commit()
    claimed = await ledger.claim_inbox("seed-worker", timedelta(minutes=5), 100)
    assert [m.id for m in claimed] == [added.id]
    async with ledger.unit_of_work() as uow:
        await uow.inbox.mark_done(added.id)
        await uow.commit()
    return added.id


@dataclass(frozen=True)
class Seeded:
    """Ids the tests act on."""

    dead: tuple[int, ...]
    done: int


async def seed(ledger: Ledger, clock: FakeClock) -> Seeded:
    """Thirty-odd days of an AB and a CD: syncs, mirrors, forwards, failures, waits, dead
    webhooks. The clock ends at NOW."""
    clock.current = NOW
    # Items mirrored and requests forwarded on scattered days, some outside the 30-day window
    # (and on its first day), some failed (not "mirrored"), some from an unconfigured member.
    for days_ago, institution, count in [
        (0, AB, 3),
        (1, AB, 2),
        (1, CD, 4),
        (6, CD, 1),
        (13, AB, 5),
        (CHART_DAYS - 1, AB, 2),
        (CHART_DAYS, AB, 7),
        (CHART_DAYS + 4, CD, 3),
    ]:
        for n in range(count):
            await append(
                ledger,
                clock,
                at(days_ago, hour=8 + n),
                ITEM_MIRRORED,
                Outcome.OK,
                institution=institution,
                barcode=f"{institution[-2:]}{days_ago:02d}{n}",
            )
    for days_ago, institution, count in [(0, CD, 2), (2, AB, 1), (9, AB, 3), (40, AB, 2)]:
        for n in range(count):
            await append(
                ledger,
                clock,
                at(days_ago, hour=7 + n),
                REQUEST_FORWARDED,
                Outcome.OK,
                institution=institution,
                request_id=f"R{days_ago}{n}",
            )
    # Work a member's webhook brought (rules W6, W7: `via: webhook`) beside the file syncs' above
    # and a file update: one too old for the 7 days, and webhook events that mirror nothing.
    for days_ago, action, outcome, institution, via in [
        (0, "item.create", Outcome.OK, AB, True),
        (0, "item.update", Outcome.OK, AB, True),
        (2, "item.delete", Outcome.OK, AB, True),
        (4, "item.update", Outcome.OK, CD, False),
        (1, REQUEST_FORWARDED, Outcome.OK, AB, True),
        (3, REQUEST_FORWARDED, Outcome.OK, CD, True),
        (0, "item.update", Outcome.SKIPPED, AB, True),
        (0, "request.skip", Outcome.SKIPPED, AB, True),
        (ARRIVAL_DAYS + 1, "item.create", Outcome.OK, CD, True),
    ]:
        await append(
            ledger,
            clock,
            at(days_ago, hour=6),
            action,
            outcome,
            institution=institution,
            details={"via": "webhook"} if via else {"file": "cd_1.xml"},
            barcode=f"{institution[-2:]}W{days_ago:02d}",
        )
    # Runs: AB's last items sync ok (an older one before it), CD's last one stopped by quota.
    await append(
        ledger,
        clock,
        at(3),
        ITEMS_SYNC,
        Outcome.OK,
        institution=AB,
        message="1 files, 9 items",
        details={"counts": {"created": 9}, "files": ["old.tar.gz"]},
    )
    await append(
        ledger,
        clock,
        at(0, hour=9),
        ITEMS_SYNC,
        Outcome.OK,
        institution=AB,
        message="2 files, 12 items",
        details={
            "counts": {
                "created": 3,
                "updated": 4,
                "unchanged": 2,
                "deleted": 1,
                "skipped": 1,
                "failed": 1,
            },
            "files": ["ab_new_1.tar.gz", "ab_new_2.tar.gz"],
        },
    )
    await append(
        ledger,
        clock,
        at(1, hour=6),
        ITEMS_SYNC,
        Outcome.FAILED,
        institution=CD,
        message="stopped, files resume next time: daily API quota exhausted",
        details={"counts": {"created": 4, "failed": 0}, "files": ["cd_1.xml"]},
        error_code="DAILY_THRESHOLD",
    )
    await append(
        ledger,
        clock,
        at(0, hour=7),
        REQUESTS_SYNC,
        Outcome.OK,
        institution=AB,
        message="1 files, 3 requests",
        details={
            "counts": {"forwarded": 1, "waiting": 2, "cancelled": 0, "failed": 0},
            "files": ["requests_ab.xml"],
        },
    )
    # Failures: Alma's message and code, a hostile message, and one too old for the 7 days.
    await append(
        ledger,
        clock,
        at(0, hour=9),
        "item.create",
        Outcome.FAILED,
        institution=AB,
        message=ALMA_MESSAGE,
        error_code="401873",
        barcode="AB0007",
    )
    await append(
        ledger,
        clock,
        at(2, hour=10),
        "request.fail",
        Outcome.FAILED,
        institution=AB,
        message=HOSTILE,
        error_code="401136",
        request_id="R-HOSTILE",
    )
    await append(
        ledger,
        clock,
        at(FAILURE_DAYS + 1),
        "item.update",
        Outcome.FAILED,
        institution=AB,
        message="too old to list",
        barcode="AB0001",
    )
    await append(
        ledger,
        clock,
        at(5, hour=11),
        "item.delete",
        Outcome.FAILED,
        institution=CD,
        message="Item is on loan and cannot be deleted",
        error_code="401690",
        barcode="CD0003",
    )
    # Requests waiting for their item's mirror (R7), and one forwarded (not waiting).
    for request_id, barcode, status in [
        ("W-1", "AB0100", RequestStatus.WAITING_FOR_MIRROR),
        ("W-2", "AB0101", RequestStatus.WAITING_FOR_MIRROR),
        ("F-1", "AB0102", RequestStatus.FORWARDED),
    ]:
        async with ledger.unit_of_work() as uow:
            await uow.requests.upsert(
                AB,
                request_id,
                route="item_hold",
                status=status,
                barcode=barcode,
                last_error=(
                    f"no SCF mirror of {barcode} yet"
                    if status is RequestStatus.WAITING_FOR_MIRROR
                    else None
                ),
            )
            await uow.commit()
    # Dead webhooks: one with a patron id in its body and a hostile last error.
    first = await dead_message(
        ledger,
        clock,
        "dead-1",
        webhook_body("LOAN", "LOAN_RETURNED", "01AAA_RS", item_loan={"user_id": PATRON_SECRET}),
        "AlmaUnavailable: SCF answered 503 three times",
        attempts=3,
    )
    second = await dead_message(
        ledger,
        clock,
        "dead-2",
        webhook_body("JOB_END", None, CD),
        f"ValueError: {HOSTILE}",
        attempts=1,
    )
    done = await done_message(ledger, clock)
    return Seeded(dead=(first, second), done=done)


@dataclass(frozen=True)
class Expected:
    """What the page should say, read from the ledger with its own queries."""

    items_per_day: dict[str, int]
    requests_per_day: dict[str, int]
    items_by_institution: dict[str, int]
    requests_by_institution: dict[str, int]
    failures: dict[str, list[LedgerEvent]]
    waiting: dict[str, list[str]]
    dead: list[int]
    last_items_sync: dict[str, LedgerEvent | None]
    last_requests_sync: dict[str, LedgerEvent | None]
    arrivals: dict[str, dict[str, dict[str, int]]]
    """Per member, {"requests"|"items": {"webhook"|"file": count}} over the last 7 days."""

    @property
    def items_total(self) -> int:
        return sum(self.items_per_day.values())

    @property
    def requests_total(self) -> int:
        return sum(self.requests_per_day.values())


async def expected(ledger: Ledger, now: datetime = NOW) -> Expected:
    """The page's numbers straight from the ledger."""
    first_day = (now - timedelta(days=CHART_DAYS - 1)).date()
    since = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    days = [(first_day + timedelta(days=n)).isoformat() for n in range(CHART_DAYS)]
    counts = await ledger.daily_counts(
        actions=[ITEM_MIRRORED, REQUEST_FORWARDED], since=since, outcome=Outcome.OK
    )
    items = dict.fromkeys(days, 0)
    requests = dict.fromkeys(days, 0)
    items_by = dict.fromkeys(MEMBERS, 0)
    requests_by = dict.fromkeys(MEMBERS, 0)
    for count in counts:
        per_day, by = (
            (items, items_by) if count.action == ITEM_MIRRORED else (requests, requests_by)
        )
        per_day[count.day.isoformat()] += count.count
        if count.institution in by:
            by[count.institution] += count.count
    failures = {
        code: await ledger.events(
            institution=code,
            outcome=Outcome.FAILED,
            since=now - timedelta(days=FAILURE_DAYS),
            newest_first=True,
        )
        for code in MEMBERS
    }
    waiting: dict[str, list[str]] = {}
    async with ledger.unit_of_work() as uow:
        for code in MEMBERS:
            waiting[code] = [r.source_request_id for r in await uow.requests.list_waiting(code)]
        dead = [m.id for m in await uow.inbox.list_by_status(InboxStatus.DEAD)]
    last_items = {
        code: next(
            iter(
                await ledger.events(institution=code, action=ITEMS_SYNC, newest_first=True, limit=1)
            ),
            None,
        )
        for code in MEMBERS
    }
    last_requests = {
        code: next(
            iter(
                await ledger.events(
                    institution=code, action=REQUESTS_SYNC, newest_first=True, limit=1
                )
            ),
            None,
        )
        for code in MEMBERS
    }
    arrivals: dict[str, dict[str, dict[str, int]]] = {}
    for code in MEMBERS:
        tally = {family: {"webhook": 0, "file": 0} for family in ("requests", "items")}
        for event in await ledger.events(
            institution=code,
            outcome=Outcome.OK,
            since=now - timedelta(days=ARRIVAL_DAYS),
            limit=10_000,
        ):
            path = "webhook" if event.details.get("via") == "webhook" else "file"
            if event.action == REQUEST_FORWARDED:
                tally["requests"][path] += 1
            elif event.action in ITEM_CHANGES:
                tally["items"][path] += 1
        arrivals[code] = tally
    return Expected(
        items_per_day=items,
        requests_per_day=requests,
        items_by_institution=items_by,
        requests_by_institution=requests_by,
        failures=failures,
        waiting=waiting,
        dead=dead,
        last_items_sync=last_items,
        last_requests_sync=last_requests,
        arrivals=arrivals,
    )


async def seed_runs(ledger: Ledger, clock: FakeClock) -> tuple[str, ...]:
    """Batch runs through the ledger's run port (rule B1), at chosen times; the clock ends at NOW.

    `cleanup` ran ok three days ago and partial this morning (7 failed records, one with a
    hostile reason, and options holding a secret a careless writer left there); `west-batch` ended
    yesterday and runs now (still `running`); `courses` failed without a record; `aspace` never
    ran. Returns the four workflow names, in the page's order.
    """
    # Imported here so that this function is all this seed adds to the shared module.
    from application.shared.run_records import (
        FileDigest,
        FileRole,
        RecordOutcome,
        RunStatus,
        RunTrigger,
    )

    async def run(
        workflow: str,
        trigger: RunTrigger,
        start: datetime,
        records: list[tuple[str, str, RecordOutcome, str]],
        status: RunStatus | None,
        *,
        reason: str | None = None,
        options: JsonObject | None = None,
    ) -> None:
        clock.current = start
        try:
            async with ledger.unit_of_work() as uow:
                started = await uow.runs.start_run(workflow, trigger, options=options)
                await uow.runs.add_file(
                    started.id, FileRole.INPUT, FileDigest(f"{workflow}-in.csv", "a" * 64)
                )
                for kind, key, outcome, why in records:
                    clock.advance(seconds=30)
                    await uow.runs.record(started.id, kind, key, outcome, why)
                if status is not None:
                    await uow.runs.add_file(
                        started.id, FileRole.OUTPUT, FileDigest(f"{workflow}-out.csv", "b" * 64)
                    )
                    clock.advance(minutes=2)
                    await uow.runs.finish_run(started.id, status, reason=reason)
                await uow.commit()
        finally:
            clock.current = NOW

    ok, skipped, failed = RecordOutcome.OK, RecordOutcome.SKIPPED, RecordOutcome.FAILED
    await run(
        "cleanup",
        RunTrigger.SCHEDULE,
        at(3, hour=6),
        [("path", "/out/a", ok, "removed")],
        RunStatus.OK,
    )
    cleanup_records = [
        ("path", "/out/keep.csv", ok, "removed: 31 days old"),
        ("path", "/out/new.csv", skipped, "kept: 2 days old"),
        ("path", "/out/hostile.csv", failed, f"cannot remove /out/hostile.csv: {HOSTILE}"),
        *[
            ("path", f"/out/locked-{n}.csv", failed, f"/out/locked-{n}.csv: permission denied")
            for n in range(1, 7)
        ],
    ]
    await run(
        "cleanup",
        RunTrigger.SCHEDULE,
        at(0, hour=6),
        cleanup_records,
        RunStatus.PARTIAL,
        options={
            "folders": ["/out"],
            "api_key": PATRON_SECRET,
            "source": f"sftp://bridge:{PATRON_SECRET}@sftp.example/in",
        },
    )
    await run("west-batch", RunTrigger.CLI, at(1, hour=22), [], RunStatus.OK)
    await run(
        "west-batch",
        RunTrigger.CLI,
        at(0, hour=10),
        [("mms_id", "991000000001", ok, "sent"), ("mms_id", "991000000002", ok, "sent")],
        None,
    )
    await run(
        "courses",
        RunTrigger.SCHEDULE,
        at(0, hour=5),
        [],
        RunStatus.FAILED,
        reason="no CEM file for today in /in/cem",
    )
    return ("cleanup", "west-batch", "courses", "aspace")
