"""How commands print: a rich console sized for its reader, and ledger rows as JSON or CSV."""

from __future__ import annotations

import csv
import dataclasses
import enum
import io
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from application.shared.ledger_records import LedgerEvent

EVENT_COLUMNS = (
    "id",
    "occurred_at",
    "institution",
    "barcode",
    "request_id",
    "action",
    "outcome",
    "message",
    "file_id",
    "inbox_id",
    "error_code",
    "details",
)


def make_console() -> Console:
    """stdout; wide when it is a file or pipe, where rich would otherwise wrap at 80 columns."""
    console = Console()
    if console.is_terminal:
        return console
    return Console(width=max(console.width, 200), soft_wrap=False)


def plain(value: Any) -> Any:
    """A ledger record (dataclasses, enums, datetimes, bytes) as JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def to_json(value: Any) -> str:
    """Indented JSON of a ledger record or a list of them."""
    return json.dumps(plain(value), indent=2, ensure_ascii=False)


def events_csv(events: Iterable[LedgerEvent]) -> str:
    """Events as CSV with a header row; `details` as compact JSON in one column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EVENT_COLUMNS)
    for event in events:
        row = plain(event)
        row["details"] = json.dumps(row["details"], ensure_ascii=False, sort_keys=True)
        writer.writerow(["" if row[name] is None else row[name] for name in EVENT_COLUMNS])
    return buffer.getvalue()


def short_time(moment: datetime) -> str:
    """`2025-01-31 10:04:05Z`: seconds are enough in a table."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
