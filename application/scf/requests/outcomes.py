"""What became of each member request in one forwarding run, and the run's summary (R1–R8)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from application.shared.ledger_records import JsonValue, RequestStatus
from domain.scf.requests.routing import Route


class Action(StrEnum):
    """The outcome of one request; the `WOULD_*` actions are a dry run's plan."""

    FORWARDED = "forwarded"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    FAILED = "failed"
    ALREADY_HANDLED = "already handled"
    WOULD_FORWARD = "would forward"
    WOULD_WAIT = "would wait"
    WOULD_CANCEL = "would cancel"

    @property
    def status(self) -> RequestStatus | None:
        """The `forwarded_requests` status this outcome writes; None writes no row."""
        return _STATUS.get(self)


_STATUS = {
    Action.FORWARDED: RequestStatus.FORWARDED,
    Action.WAITING: RequestStatus.WAITING_FOR_MIRROR,
    Action.CANCELLED: RequestStatus.CANCELLED,
    Action.FAILED: RequestStatus.FAILED,
}


@dataclass(frozen=True)
class RequestOutcome:
    """One request's outcome with the ids the ledger event carries."""

    institution: str
    request_id: str
    action: Action
    reason: str
    route: Route | None = None
    barcode: str | None = None
    mms_id: str | None = None
    file_id: int | None = None
    scf_request_id: str | None = None
    scf_mms_id: str | None = None
    user_id: str | None = None
    error_code: str | None = None
    transient: bool = False
    """A failure that retrying may cure (5xx, timeout, rate limit, spent quota)."""
    retry_later: bool = False
    """Transient and not yet retried too often: the run tries it again after a pause
    (`TransientRetry`), and if it still fails its file stays open so a later run retries it."""
    quota_exhausted: bool = False
    run_pass: int = 1
    """The run's pass over its requests that produced this outcome: 1, or 2 and more for an
    in-run retry of a request that failed transiently (recorded as the event's `pass`)."""
    details: dict[str, JsonValue] = field(default_factory=dict)


@dataclass
class ForwardingSummary:
    """One run of `RequestForwarding` for one institution."""

    institution: str
    dry_run: bool = False
    files: int = 0
    files_failed: int = 0
    """Finished as failed: unreadable or malformed (R1)."""
    files_pending: int = 0
    """Left unfinished for the next run: transient failures inside, or a download that failed."""
    stopped: str | None = None
    """Why the run stopped early (the daily API quota is spent), or None."""
    outcomes: list[RequestOutcome] = field(default_factory=list)
    """One per request: its latest outcome in this run."""
    retries: int = 0
    """In-run retries made: requests tried again after a transient failure, once per pass."""

    def add(self, outcome: RequestOutcome) -> None:
        """Count one request's outcome."""
        self.outcomes.append(outcome)

    def retried(self, earlier: RequestOutcome, outcome: RequestOutcome) -> None:
        """A request tried again in this run: `outcome` takes the place of `earlier`."""
        self.retries += 1
        for index, known in enumerate(self.outcomes):
            if known is earlier:
                self.outcomes[index] = outcome
                return
        self.outcomes.append(outcome)

    @property
    def settled_on_retry(self) -> int:
        """Requests that failed transiently earlier in this run and are settled now."""
        return sum(o.run_pass > 1 and o.action is not Action.FAILED for o in self.outcomes)

    def count(self, action: Action) -> int:
        """How many requests ended with `action`."""
        return Counter(outcome.action for outcome in self.outcomes)[action]

    @property
    def forwarded(self) -> int:
        return self.count(Action.FORWARDED)

    @property
    def waiting(self) -> int:
        return self.count(Action.WAITING)

    @property
    def cancelled(self) -> int:
        return self.count(Action.CANCELLED)

    @property
    def failed(self) -> int:
        return self.count(Action.FAILED)

    def __str__(self) -> str:
        counts = Counter(outcome.action.value for outcome in self.outcomes)
        parts = [f"{count} {action}" for action, count in sorted(counts.items())]
        head = f"{self.institution}{' (dry run)' if self.dry_run else ''}: {self.files} files"
        text = f"{head}, {', '.join(parts) or 'no requests'}"
        if self.retries:
            text += f" ({self.retries} in-run retries, {self.settled_on_retry} settled by them)"
        return f"{text}; stopped: {self.stopped}" if self.stopped else text
