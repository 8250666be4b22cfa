"""Published items in flight: bounded concurrency, one barcode at a time, files tracked (I1, I3).

At least `floor` items are processed at once (the setting `max_number_of_threads`, as asyncio
tasks, not threads). Beyond it, up to `most`, one more item starts each time the SCF's limiter
starts a call while it still wants more (`CallPacing`, rule A4): the first item of a bib makes
its calls one after another while the bib's other items wait, so a fixed thread count leaves
Alma's allowance unused at every bib boundary. Two records of one barcode never overlap: the
later waits for the earlier, so they apply in file order, and files are fed in claim order.
Feeding waits for a free slot, so reading never runs ahead of the Alma calls and memory stays
bounded whatever the file size.

A `FileRun` counts one file's items; it is complete when the file was read to its end (or its
failure) and every item of it has been handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from application.scf.file_batches import FileToProcess
from application.shared.call_pacing import UNPACED, CallPacing
from domain.scf.items.published import PublishedItem


@dataclass
class FileRun:
    """One file of the batch while its items are handled."""

    name: str
    file: FileToProcess | None
    total: int = 0
    failed: int = 0
    failure: str | None = None
    incomplete: bool = False
    """Some items were not attempted (quota) or the file could not be read now: not finished."""
    _outstanding: int = 0
    _read: bool = False
    _done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def file_id(self) -> int | None:
        return self.file.record.id if self.file else None

    def started(self) -> None:
        self.total += 1
        self._outstanding += 1

    def handled(self) -> None:
        self._outstanding -= 1
        self._check()

    def read_to_end(self) -> None:
        """No more items will come from this file."""
        self._read = True
        self._check()

    def _check(self) -> None:
        if self._read and self._outstanding == 0:
            self._done.set()

    async def wait(self) -> None:
        """Until the file was read and each of its items handled."""
        await self._done.wait()


Handler = Callable[[PublishedItem, FileRun, int], Awaitable[None]]
"""Handles one item of a file; the int is its position in the batch, in reading order."""


@dataclass(frozen=True)
class Pacing:
    """How many items run at once: `floor` always, up to `most` while `institution`'s limiter
    wants more calls."""

    floor: int
    most: int
    institution: str = ""
    pacing: CallPacing = UNPACED
    step_seconds: float | None = None
    """Above the floor, one more item at each call start, or after this long without one (the
    limiter's spacing: a throttle left idle at the start, or between bibs, fills up in a second
    instead of one item per rare call)."""


class ItemPipeline:
    """Runs `handle` for each submitted item inside a task group, as many at once as `pacing`
    allows."""

    def __init__(self, group: asyncio.TaskGroup, pacing: Pacing | int, handle: Handler) -> None:
        self._group = group
        self._pacing = pacing if isinstance(pacing, Pacing) else Pacing(pacing, pacing)
        self._running = 0
        self._freed = asyncio.Event()
        self._handle = handle
        self._last: dict[str, asyncio.Task[None]] = {}
        self._submitted = 0
        self._awaiting_call = False
        self.most_running = 0

    @property
    def running(self) -> int:
        """Items started and not yet handled."""
        return self._running

    async def _slot(self) -> None:
        """Wait until one more item may start."""
        pacing = self._pacing
        floor = max(1, pacing.floor)
        while self._running >= floor:
            if (
                self._running < pacing.most
                and not self._awaiting_call
                and pacing.pacing.calls_wanted(pacing.institution) > 0
            ):
                break
            self._freed.clear()
            call = asyncio.ensure_future(pacing.pacing.next_call_start(pacing.institution))
            freed = asyncio.ensure_future(self._freed.wait())
            try:
                done, _ = await asyncio.wait(
                    (call, freed),
                    timeout=pacing.step_seconds if self._awaiting_call else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                call.cancel()
                freed.cancel()
            if call in done or not done:
                self._awaiting_call = False
        self._running += 1
        self.most_running = max(self.most_running, self._running)
        # Above the floor, the next item waits for a call start: the demand figure is read
        # again once this item has had the chance to ask for its first call.
        self._awaiting_call = self._running > floor

    async def submit(self, item: PublishedItem, run: FileRun) -> None:
        """Start the item once a slot is free; it waits for the barcode's previous record."""
        await self._slot()
        run.started()
        previous = self._last.get(item.barcode) if item.barcode else None
        task = self._group.create_task(self._run(item, run, self._submitted, previous))
        self._submitted += 1
        if item.barcode:
            self._last[item.barcode] = task

    async def _run(
        self,
        item: PublishedItem,
        run: FileRun,
        position: int,
        previous: asyncio.Task[None] | None,
    ) -> None:
        try:
            if previous is not None and not previous.done():
                # The waiting item keeps its slot; the chain's head runs, so this cannot stall.
                await asyncio.wait([previous])
            await self._handle(item, run, position)
        finally:
            self._running -= 1
            self._freed.set()
            if item.barcode and self._last.get(item.barcode) is asyncio.current_task():
                del self._last[item.barcode]
            run.handled()
