"""``PublishingFiles`` over Alma's publishing archives and MARCXML (rules I2–I4, I7).

The blocking work runs in worker threads so the event loop keeps serving webhooks: extraction in
one ``asyncio.to_thread`` call, parsing in a thread that hands items over in batches through a
bounded ``asyncio.Queue``. The queue is the backpressure: when the items sync falls behind, the
parser thread waits for room instead of reading ahead, so memory stays bounded whatever the size
of the file.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from adapters.scf.formats.archives import ArchiveLimits, extract_archive, is_archive
from adapters.scf.formats.publishing_marc import iter_published_items
from application.shared.files import ArchiveRefused
from domain.scf.items.published import PublishedItem

__all__ = ["BATCH_SIZE", "QUEUE_BATCHES", "MarcPublishingFiles"]

BATCH_SIZE = 256
"""Items handed from the parser thread to the event loop at a time: one loop wake-up each."""

QUEUE_BATCHES = 4
"""Batches the parser may run ahead of the consumer before it waits."""


class MarcPublishingFiles:
    """``PublishingFiles`` for Alma publishing output: ``.tar.gz``/``.tgz`` archives of MARCXML,
    or a bare ``.xml`` file."""

    def __init__(
        self,
        limits: ArchiveLimits | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        queue_batches: int = QUEUE_BATCHES,
    ) -> None:
        if batch_size < 1 or queue_batches < 1:
            raise ValueError("batch_size and queue_batches must be at least 1")
        self._limits = limits or ArchiveLimits()
        self._batch_size = batch_size
        self._queue_batches = queue_batches

    async def unpack(self, archive: Path, into: Path) -> list[Path]:
        """The XML files of an archive, extracted into a new directory of their own under
        ``into``; a bare ``.xml`` is returned as it is (rule I2)."""
        if is_archive(archive):
            cancelled = threading.Event()
            try:
                return await asyncio.to_thread(
                    extract_archive, archive, into, self._limits, cancelled
                )
            except asyncio.CancelledError:
                # The thread cannot be interrupted; it sees this at its next chunk, stops and
                # removes what it extracted.
                cancelled.set()
                raise
        if archive.name.casefold().endswith(".xml"):
            return [archive]
        raise ArchiveRefused(
            archive.name, "not a publishing archive (expected .tar.gz, .tgz or .xml)"
        )

    async def read_items(
        self, xml_file: Path, institution: str
    ) -> AsyncGenerator[PublishedItem, None]:
        """Every ITM of every record of ``xml_file``, in file order (rules I3, I4, I7).

        Items before a malformed spot are yielded first; then ``MalformedFile`` names the file and
        the record (and line) where reading stopped. Leaving the loop early stops the parser.
        """
        stream = _ThreadedStream(
            lambda: iter_published_items(xml_file, institution),
            self._batch_size,
            self._queue_batches,
        )
        try:
            while (batch := await stream.next_batch()) is not None:
                for item in batch:
                    yield item
        finally:
            # Also when the consumer leaves early or is cancelled: no parser thread outlives it.
            await stream.close()


@dataclass
class _Batch:
    items: list[PublishedItem]
    last: bool = False
    error: BaseException | None = None


class _ThreadedStream:
    """Runs a blocking iterator in a worker thread; its values come out in batches on the loop."""

    def __init__(
        self,
        produce: Callable[[], Iterator[PublishedItem]],
        batch_size: int,
        queue_batches: int,
    ) -> None:
        self._produce = produce
        self._batch_size = batch_size
        self._queue: asyncio.Queue[_Batch] = asyncio.Queue(queue_batches)
        self._stop = threading.Event()
        self._loop = asyncio.get_running_loop()
        self._worker = asyncio.ensure_future(asyncio.to_thread(self._work))
        self._finished = False
        self._error: BaseException | None = None

    async def next_batch(self) -> list[PublishedItem] | None:
        """The next items in order; None at the end. What stopped the iterator is raised by the
        call after the one that returned the items read before it."""
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._finished:
            return None
        batch = await self._queue.get()
        if batch.last:
            self._finished = True
            self._error = batch.error
        return batch.items

    async def close(self) -> None:
        """Stop the worker and wait for it to return, so no thread is left blocked on the queue
        and the file is closed when this returns."""
        self._stop.set()
        # Once told to stop, the worker puts at most the one batch it may be waiting to put;
        # emptying the queue gives that put room, after which the worker sees the flag and ends.
        while not self._queue.empty():
            self._queue.get_nowait()
        # Shielded: if this close is itself cancelled, the worker still runs to its end.
        await asyncio.shield(self._worker)

    def _work(self) -> None:
        batch: list[PublishedItem] = []
        error: BaseException | None = None
        try:
            for item in self._produce():
                batch.append(item)
                if len(batch) >= self._batch_size:
                    if not self._send(_Batch(batch)):
                        return
                    batch = []
        except BaseException as exc:  # handed to the consumer, after the items read before it
            error = exc
        self._send(_Batch(batch, last=True, error=error))

    def _send(self, batch: _Batch) -> bool:
        """Put a batch on the queue, waiting while it is full; False once the consumer left."""
        if self._stop.is_set():
            return False
        asyncio.run_coroutine_threadsafe(self._queue.put(batch), self._loop).result()
        return not self._stop.is_set()
