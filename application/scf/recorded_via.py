"""Which path started the work an event records: a member's webhook (W6, W7) or its files.

The webhook paths carry out a single request or item with the same use cases as the file-driven
syncs, so their events have the same actions; `recorded_via(WEBHOOK)` around that work adds the
detail `via: webhook` to each event written inside it, so /status can count webhook vs file.
A context variable, so concurrent messages of one worker never see each other's path.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from application.shared.ledger_records import JsonValue

WEBHOOK = "webhook"
"""The `via` of work a member's webhook started (W6, W7)."""

_VIA: ContextVar[str | None] = ContextVar("scf_recorded_via", default=None)


@contextmanager
def recorded_via(path: str) -> Iterator[None]:
    """Events recorded inside the block say `via: path`."""
    token = _VIA.set(path)
    try:
        yield
    finally:
        _VIA.reset(token)


def via_details() -> dict[str, JsonValue]:
    """`{"via": path}` inside `recorded_via`, else nothing (the file-driven paths)."""
    path = _VIA.get()
    return {} if path is None else {"via": path}
