"""How a long command shows that it is alive: a progress line on a terminal, log lines otherwise.

The use cases report nothing while they run, but they write one ledger event per item, request
and file as they go. So progress is read from the ledger: the events of the institution since
the job started, fetched incrementally (only the new ones each time). On a terminal a rich
spinner line shows the counts; when stdout is a file or a pipe (cron, CI, a scheduler), a plain
timestamped line goes to stderr every few seconds instead, so logs stay readable.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TextIO, TypeVar

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from application.ports.ledger import Ledger
from application.shared.ledger_records import Outcome

T = TypeVar("T")
log = logging.getLogger(__name__)

_PAGE = 500


class EventCounter:
    """Counts the ledger events of one institution since a moment, reading each event once."""

    def __init__(self, ledger: Ledger, *, institution: str | None, since: datetime) -> None:
        self._ledger = ledger
        self._institution = institution
        self._since = since
        self._seen = 0
        self.counts: Counter[str] = Counter()
        self.failed = 0

    async def poll(self) -> Counter[str]:
        """Read the events written since the last poll; the counts so far, by action."""
        while True:
            batch = await self._ledger.events(
                institution=self._institution, since=self._since, limit=_PAGE, offset=self._seen
            )
            self._seen += len(batch)
            for event in batch:
                self.counts[event.action] += 1
                self.failed += event.outcome is Outcome.FAILED
            if len(batch) < _PAGE:
                return self.counts

    def describe(self) -> str:
        """`12 item.create, 3 item.update (1 failed)`: the most frequent actions first."""
        if not self.counts:
            return "waiting for the first event"
        parts = [f"{count} {action}" for action, count in self.counts.most_common(4)]
        rest = sum(self.counts.values()) - sum(count for _, count in self.counts.most_common(4))
        if rest:
            parts.append(f"{rest} other")
        failed = f" ({self.failed} failed)" if self.failed else ""
        return ", ".join(parts) + failed


async def watch(
    job: Awaitable[T],
    counter: EventCounter,
    *,
    console: Console,
    label: str,
    interval: float = 0.25,
    log_every: float = 5.0,
    log_to: TextIO | None = None,
) -> T:
    """Run `job` to its end while showing `counter`'s progress; returns the job's result."""
    task = asyncio.ensure_future(job)
    try:
        if console.is_terminal:
            await _spinner(task, counter, console, label, interval)
        else:
            await _log_lines(task, counter, label, interval, log_every, log_to or sys.stderr)
        return await task
    finally:
        # Interrupted (Ctrl-C cancels the command's main task): do not leave the job running.
        if not task.done():
            task.cancel()


async def _spinner(
    task: asyncio.Future[T], counter: EventCounter, console: Console, label: str, interval: float
) -> None:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        shown = progress.add_task(label, total=None)
        while not task.done():
            await asyncio.wait({task}, timeout=interval)
            await _poll(counter)
            progress.update(shown, description=f"{label}: {counter.describe()}")


async def _log_lines(
    task: asyncio.Future[T],
    counter: EventCounter,
    label: str,
    interval: float,
    log_every: float,
    out: TextIO,
) -> None:
    loop = asyncio.get_running_loop()
    _line(out, f"{label}: started")
    last = loop.time()
    while not task.done():
        await asyncio.wait({task}, timeout=interval)
        if not task.done() and loop.time() - last >= log_every:
            await _poll(counter)
            _line(out, f"{label}: {counter.describe()}")
            last = loop.time()


async def _poll(counter: EventCounter) -> None:
    # Progress is a courtesy: a failed read must never stop or fail the job it describes.
    try:
        await counter.poll()
    except Exception as error:
        log.debug("progress: could not read the ledger: %s", error)


def _line(out: TextIO, text: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out.write(f"{stamp} {text}\n")
    out.flush()
