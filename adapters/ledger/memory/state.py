"""The in-memory ledger's tables and the working copy a unit of work changes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime

from application.shared.ledger_records import (
    ForwardedRequest,
    InboxMessage,
    JsonObject,
    JsonValue,
    LedgerEvent,
    MirroredItem,
    TransferFile,
)
from application.shared.run_records import JobRun, RunRecord


@dataclass
class LedgerState:
    """Every table of the ledger; records are frozen, so a shallow copy is a snapshot."""

    inbox: dict[int, InboxMessage] = field(default_factory=dict)
    inbox_keys: dict[str, int] = field(default_factory=dict)
    files: dict[int, TransferFile] = field(default_factory=dict)
    items: dict[tuple[str, str], MirroredItem] = field(default_factory=dict)
    requests: dict[tuple[str, str], ForwardedRequest] = field(default_factory=dict)
    events: list[LedgerEvent] = field(default_factory=list)
    runs: dict[int, JobRun] = field(default_factory=dict)
    # Keyed by (run id, kind, key); a dict keeps first-recorded order, as run_records' ids do.
    run_records: dict[tuple[int, str, str], RunRecord] = field(default_factory=dict)
    last_id: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> LedgerState:
        """A copy whose changes do not show in this one."""
        return LedgerState(
            inbox=dict(self.inbox),
            inbox_keys=dict(self.inbox_keys),
            files=dict(self.files),
            items=dict(self.items),
            requests=dict(self.requests),
            events=list(self.events),
            runs=dict(self.runs),
            run_records=dict(self.run_records),
            last_id=dict(self.last_id),
        )

    def next_id(self, table: str) -> int:
        """The next id of a table with a generated key."""
        self.last_id[table] = self.last_id.get(table, 0) + 1
        return self.last_id[table]


class Workspace:
    """The working copy of one unit of work; commit() swaps it in, so repositories share this."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state


def utc(value: datetime, name: str) -> datetime:
    """An aware datetime in UTC, as the SQL ledger hands it back; naive ones are refused."""
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def json_copy(value: JsonObject | None) -> dict[str, JsonValue]:
    """A private copy, as the SQL ledger's round trip through JSON gives."""
    return copy.deepcopy(dict(value or {}))
