"""Published items in flight: bounded concurrency, one barcode at a time, files tracked (I1, I3).

Up to `limit` items are processed at once (the setting `max_number_of_threads`, as asyncio tasks,
not threads). Two records of one barcode never overlap: the later waits for the earlier, so they
apply in file order, and files are fed in claim order. Feeding waits for a free slot, so reading
never runs ahead of the Alma calls and memory stays bounded whatever the file size.

A `FileRun` counts one file's items; it is complete when the file was read to its end (or its
failure) and every item of it has been handled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from application.file_batches import FileToProcess
from domain.published import PublishedItem


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


class ItemPipeline:
    """Runs `handle` for each submitted item inside a task group, at most `limit` at once."""

    def __init__(self, group: asyncio.TaskGroup, limit: int, handle: Handler) -> None:
        self._group = group
        self._slots = asyncio.Semaphore(max(1, limit))
        self._handle = handle
        self._last: dict[str, asyncio.Task[None]] = {}
        self._submitted = 0

    async def submit(self, item: PublishedItem, run: FileRun) -> None:
        """Start the item once a slot is free; it waits for the barcode's previous record."""
        await self._slots.acquire()
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
            self._slots.release()
            if item.barcode and self._last.get(item.barcode) is asyncio.current_task():
                del self._last[item.barcode]
            run.handled()
