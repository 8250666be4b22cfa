"""What library staff see at `/status`: each member's last syncs, its recent failures, requests
waiting for a mirror, dead webhook messages, and thirty days of work per day (issue 7); and per
member, how many requests and items came by webhook and how many by file in the last 7 days
(issue 19, rules W6, W7).

`StaffStatus.snapshot` reads everything from the ledger in one pass and returns frozen
dataclasses, so the HTTP page only lays them out and a test can compare them with the ledger.
`StaffStatus.replay` puts a dead webhook message back in the inbox exactly as `almabridge replay
message` does, and records who asked in the same unit of work.

Nothing here shows a webhook body: a dead message is summarised by the three Alma codes that say
what it was (action, event, institution), read defensively because the body is whatever Alma
(or anyone who had the secret) sent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.recorded_via import WEBHOOK
from application.scf.requests.forwarding import REQUESTS_SYNC
from application.scf.settings import Settings
from application.shared.ledger_records import (
    DailyCount,
    InboxStatus,
    JsonValue,
    LedgerEvent,
    LedgerRecordNotFound,
    Outcome,
    ViaCount,
)

ITEMS_SYNC = "items.sync"
"""ItemSync's one event per run (application/scf/items/item_sync.py)."""

WEBHOOK_PROCESS = "webhook.process"
REQUESTS_JOB_CLASSIFICATION = "requests_sync_due"
"""Before `requests.sync` existed a requests run left only the worker's `webhook.process` event
of its `JOB_END`, classified so; ledgers written then are still read through it."""

SCAN_FOR_OLD_REQUESTS_SYNC = 200
"""How many of an institution's newest ok `webhook.process` events are searched for one."""

ITEM_MIRRORED = "item.create"
REQUEST_FORWARDED = "request.forward"
ITEM_CHANGES = ("item.create", "item.update", "item.delete")
"""What an item's mirroring does to the SCF (ok outcomes only: an unchanged item is SKIPPED)."""
REQUESTS_FAMILY = "requests"
ITEMS_FAMILY = "items"
ARRIVAL_FAMILIES = {REQUESTS_FAMILY: (REQUEST_FORWARDED,), ITEMS_FAMILY: ITEM_CHANGES}
"""The work counted by the path that brought it (`details.via`, rules W6, W7)."""
ARRIVAL_DAYS = 7
INBOX_REPLAY = "inbox.replay"
"""The event `almabridge replay message` writes too: one name for one kind of act."""

CHART_DAYS = 30
FAILURE_DAYS = 7
FAILURE_LIMIT = 50
"""Failures listed per institution; the page says when there were more."""
WAITING_LIMIT = 100
DEAD_LIMIT = 100
TEXT_LIMIT = 1000
"""Messages and errors are cut here: a page of stack traces helps nobody."""
CODE_LIMIT = 64
"""A webhook code longer than this is not one Alma sends; it is cut."""


@dataclass(frozen=True)
class SyncRun:
    """One items or requests run, from its summary event."""

    at: datetime
    outcome: Outcome
    message: str | None
    files: tuple[str, ...]
    counts: tuple[tuple[str, int], ...]
    """(outcome, count) in the order the run recorded them; empty for an old-style record."""
    error_code: str | None = None


@dataclass(frozen=True)
class Failure:
    """One failed event: what was tried, on what, and what Alma (or the bridge) said."""

    at: datetime
    action: str
    message: str | None
    error_code: str | None
    barcode: str | None
    request_id: str | None


@dataclass(frozen=True)
class WaitingRequest:
    """A member request parked until its item's SCF mirror exists (rule R7)."""

    request_id: str
    barcode: str | None
    first_seen_at: datetime
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class DayCount:
    """Items mirrored and requests forwarded on one UTC day."""

    day: date
    items_mirrored: int
    requests_forwarded: int


@dataclass(frozen=True)
class Arrivals:
    """Requests forwarded and items mirrored (created, updated or deleted in the SCF) over the
    last `ARRIVAL_DAYS` days, by what brought them: the member's webhook (rules W6, W7, event
    `via: webhook`) or its files (every other event: the export and publishing file syncs, and
    the reconciliation's repairs and command-line replays, which carry no `via` either)."""

    requests_by_webhook: int = 0
    requests_by_file: int = 0
    items_by_webhook: int = 0
    items_by_file: int = 0


@dataclass(frozen=True)
class InstitutionStatus:
    """Everything the page says about one member institution."""

    code: str
    last_items_sync: SyncRun | None
    last_requests_sync: SyncRun | None
    failures: tuple[Failure, ...]
    more_failures: bool
    """More than `FAILURE_LIMIT` failures in the window: only the newest are listed."""
    waiting: tuple[WaitingRequest, ...]
    waiting_total: int
    series: tuple[DayCount, ...]
    arrivals: Arrivals
    """The last `ARRIVAL_DAYS` days' work by webhook and by file."""

    @property
    def items_mirrored(self) -> int:
        """Items mirrored over the chart's days."""
        return sum(day.items_mirrored for day in self.series)

    @property
    def requests_forwarded(self) -> int:
        """Requests forwarded over the chart's days."""
        return sum(day.requests_forwarded for day in self.series)


@dataclass(frozen=True)
class WebhookSummary:
    """What a stored webhook was, without its body; None where the body does not say."""

    action: str | None
    event: str | None
    institution: str | None
    readable: bool = True
    """False when the body is not a JSON object at all."""


@dataclass(frozen=True)
class DeadMessage:
    """A webhook the worker gave up on, for the replay list."""

    id: int
    received_at: datetime
    attempts: int
    last_error: str | None
    webhook: WebhookSummary


@dataclass(frozen=True)
class StatusSnapshot:
    """The whole page's facts at one moment."""

    generated_at: datetime
    institutions: tuple[InstitutionStatus, ...]
    dead_messages: tuple[DeadMessage, ...]
    series: tuple[DayCount, ...]
    """Every institution's work per day, oldest first, zero days included."""
    chart_since: datetime
    failures_since: datetime
    arrivals_since: datetime

    @property
    def items_mirrored(self) -> int:
        """Items mirrored over the chart's days, all institutions."""
        return sum(day.items_mirrored for day in self.series)

    @property
    def requests_forwarded(self) -> int:
        """Requests forwarded over the chart's days, all institutions."""
        return sum(day.requests_forwarded for day in self.series)


class ReplayResult(StrEnum):
    """What became of a replay asked for on the page."""

    QUEUED = "queued"
    REFUSED = "refused"
    """The message is done or being processed: nothing to replay."""
    MISSING = "missing"


class StaffStatus:
    """The staff page's use case over the ledger and the settings in force."""

    def __init__(self, ledger: Ledger, settings: Settings, clock: Clock) -> None:
        self._ledger = ledger
        self._settings = settings
        self._clock = clock

    async def snapshot(self) -> StatusSnapshot:
        """Read the page's facts from the ledger, as of the clock's now."""
        now = self._clock.now().astimezone(UTC)
        days = chart_days(now)
        chart_since = datetime.combine(days[0], time(), UTC)
        failures_since = now - timedelta(days=FAILURE_DAYS)
        arrivals_since = now - timedelta(days=ARRIVAL_DAYS)
        counts = await self._ledger.daily_counts(
            actions=(ITEM_MIRRORED, REQUEST_FORWARDED), since=chart_since, outcome=Outcome.OK
        )
        async with self._ledger.unit_of_work() as uow:
            dead = await uow.inbox.list_by_status(InboxStatus.DEAD, limit=DEAD_LIMIT)
            by_via = await uow.events.count_by_via(
                ARRIVAL_FAMILIES, since=arrivals_since, outcome=Outcome.OK
            )
        institutions = []
        for member in self._settings.consortium.members:
            institutions.append(
                await self._institution(member.code, failures_since, days, counts, by_via)
            )
        return StatusSnapshot(
            generated_at=now,
            institutions=tuple(institutions),
            dead_messages=tuple(
                DeadMessage(
                    id=message.id,
                    received_at=message.received_at,
                    attempts=message.attempts,
                    last_error=_cut(message.last_error),
                    webhook=summarise_webhook(message.body),
                )
                for message in dead
            ),
            series=series_of(days, counts),
            chart_since=chart_since,
            failures_since=failures_since,
            arrivals_since=arrivals_since,
        )

    async def replay(self, message_id: int) -> ReplayResult:
        """Put a dead (or retry-waiting) message back in the inbox, due now, and record it."""
        async with self._ledger.unit_of_work() as uow:
            try:
                message = await uow.inbox.requeue(message_id)
            except LedgerRecordNotFound:
                return ReplayResult.MISSING
            if message is None:
                return ReplayResult.REFUSED
            await uow.events.append(
                INBOX_REPLAY,
                Outcome.OK,
                inbox_id=message_id,
                message=f"message {message_id} put back in the inbox from the staff status page",
                details={"last_error": message.last_error, "via": "status page"},
            )
            await uow.commit()
        return ReplayResult.QUEUED

    async def _institution(
        self,
        code: str,
        failures_since: datetime,
        days: Sequence[date],
        counts: Sequence[DailyCount],
        by_via: Sequence[ViaCount],
    ) -> InstitutionStatus:
        items = await self._ledger.events(
            institution=code, action=ITEMS_SYNC, limit=1, newest_first=True
        )
        requests = await last_requests_sync(self._ledger, code, outcome=None)
        failed = await self._ledger.events(
            institution=code,
            outcome=Outcome.FAILED,
            since=failures_since,
            limit=FAILURE_LIMIT + 1,
            newest_first=True,
        )
        async with self._ledger.unit_of_work() as uow:
            waiting = await uow.requests.list_waiting(code)
        return InstitutionStatus(
            code=code,
            last_items_sync=sync_run(items[0]) if items else None,
            last_requests_sync=sync_run(requests) if requests else None,
            failures=tuple(_failure(event) for event in failed[:FAILURE_LIMIT]),
            more_failures=len(failed) > FAILURE_LIMIT,
            waiting=tuple(
                WaitingRequest(
                    request_id=row.source_request_id,
                    barcode=row.barcode,
                    first_seen_at=row.first_seen_at,
                    attempts=row.attempts,
                    last_error=_cut(row.last_error),
                )
                for row in waiting[:WAITING_LIMIT]
            ),
            waiting_total=len(waiting),
            series=series_of(days, [c for c in counts if _same(c.institution, code)]),
            arrivals=arrivals_of(code, by_via),
        )


async def last_requests_sync(
    ledger: Ledger, institution: str, *, outcome: Outcome | None = Outcome.OK
) -> LedgerEvent | None:
    """The institution's newest requests run (with this outcome): its `requests.sync` event, or
    on a ledger that has none, the ok `webhook.process` event of its last requests `JOB_END`."""
    found = await ledger.events(
        institution=institution, action=REQUESTS_SYNC, outcome=outcome, limit=1, newest_first=True
    )
    if found:
        return found[0]
    if outcome not in (None, Outcome.OK):
        return None
    processed = await ledger.events(
        institution=institution,
        action=WEBHOOK_PROCESS,
        outcome=Outcome.OK,
        limit=SCAN_FOR_OLD_REQUESTS_SYNC,
        newest_first=True,
    )
    for event in processed:
        if event.details.get("classification") == REQUESTS_JOB_CLASSIFICATION:
            return event
    return None


def chart_days(now: datetime) -> tuple[date, ...]:
    """The chart's UTC days, oldest first, today last."""
    today = now.astimezone(UTC).date()
    return tuple(today - timedelta(days=back) for back in range(CHART_DAYS - 1, -1, -1))


def series_of(days: Sequence[date], counts: Sequence[DailyCount]) -> tuple[DayCount, ...]:
    """Per-day totals of the counts, one entry for every day (zero when nothing happened)."""
    items: dict[date, int] = defaultdict(int)
    forwarded: dict[date, int] = defaultdict(int)
    for count in counts:
        if count.action == ITEM_MIRRORED:
            items[count.day] += count.count
        elif count.action == REQUEST_FORWARDED:
            forwarded[count.day] += count.count
    return tuple(DayCount(day, items[day], forwarded[day]) for day in days)


def arrivals_of(code: str, counts: Sequence[ViaCount]) -> Arrivals:
    """One member's work by webhook and by file, from the ledger's per-via counts."""
    tally = {(family, by_webhook): 0 for family in ARRIVAL_FAMILIES for by_webhook in (True, False)}
    for count in counts:
        if _same(count.institution, code) and count.family in ARRIVAL_FAMILIES:
            tally[(count.family, count.via == WEBHOOK)] += count.count
    return Arrivals(
        requests_by_webhook=tally[(REQUESTS_FAMILY, True)],
        requests_by_file=tally[(REQUESTS_FAMILY, False)],
        items_by_webhook=tally[(ITEMS_FAMILY, True)],
        items_by_file=tally[(ITEMS_FAMILY, False)],
    )


def sync_run(event: LedgerEvent) -> SyncRun:
    """A run's summary event as the page shows it; details of unexpected shape are ignored."""
    details = event.details
    files = details.get("files")
    counts = details.get("counts")
    return SyncRun(
        at=event.occurred_at,
        outcome=event.outcome,
        message=_cut(event.message),
        files=tuple(name for name in files if isinstance(name, str))
        if isinstance(files, list)
        else (),
        counts=_counts(counts) if isinstance(counts, Mapping) else (),
        error_code=event.error_code,
    )


def summarise_webhook(body: bytes) -> WebhookSummary:
    """Action, event and institution codes of a webhook body; never raises, never echoes more.

    Only these three short codes are taken (each cut to `CODE_LIMIT`): a body is Alma's whole
    record of a loan or request, with patron ids in it, and none of that belongs on the page.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return WebhookSummary(None, None, None, readable=False)
    if not isinstance(document, dict):
        return WebhookSummary(None, None, None, readable=False)
    return WebhookSummary(
        action=_code(document.get("action")),
        event=_code(document.get("event")),
        institution=_code(document.get("institution")),
    )


def _code(value: object) -> str | None:
    """A plain string, or the `value` of an Alma code object such as {"value": "LOAN"}."""
    if isinstance(value, dict):
        value = value.get("value")
    if not isinstance(value, str) or not value:
        return None
    return value[:CODE_LIMIT]


def _counts(counts: Mapping[str, JsonValue]) -> tuple[tuple[str, int], ...]:
    return tuple(
        (name, number)
        for name, number in counts.items()
        if isinstance(number, int) and not isinstance(number, bool)
    )


def _failure(event: LedgerEvent) -> Failure:
    return Failure(
        at=event.occurred_at,
        action=event.action,
        message=_cut(event.message),
        error_code=event.error_code,
        barcode=event.barcode,
        request_id=event.request_id,
    )


def _same(institution: str | None, code: str) -> bool:
    # Codes compare case-insensitively everywhere else in the bridge (rule W5).
    return institution is not None and institution.casefold() == code.casefold()


def _cut(text: str | None) -> str | None:
    if text is None or len(text) <= TEXT_LIMIT:
        return text
    return text[: TEXT_LIMIT - 1] + "…"
