"""Items in flight (rule A4): the configured floor always, more only while the SCF's limiter
wants calls, one more per call start, never beyond the bound; barcodes still in file order."""

from __future__ import annotations

import asyncio

from application.scf.items.item_pipeline import FileRun, ItemPipeline, Pacing
from domain.scf.items.published import PublishedItem

SCF = "01AAA_RS"


class Limiter:
    """A stand-in for the SCF's throttle: a settable demand and call starts on demand."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self._started = asyncio.Event()

    def calls_wanted(self, institution: str) -> int:
        assert institution == SCF
        return self.wanted

    async def next_call_start(self, institution: str) -> None:
        await self._started.wait()

    def call_started(self) -> None:
        self._started.set()
        self._started = asyncio.Event()


def item(barcode: str) -> PublishedItem:
    return PublishedItem(
        institution="01AAA_AB",
        member_mms_id="991",
        nz_mms_id=None,
        barcode=barcode,
        library="ABRS",
        location="rs_shared_in_ab",
        internal_note_2=None,
        deleted=False,
        source_file="f.xml",
        record_position=0,
    )


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def feed(pipeline: ItemPipeline, run: FileRun, count: int) -> None:
    for number in range(count):
        await pipeline.submit(item(f"B{number:03d}"), run)


async def test_A4_without_a_limiter_to_keep_busy_the_floor_is_the_limit() -> None:
    release = asyncio.Event()

    async def handle(_item: PublishedItem, _run: FileRun, _position: int) -> None:
        await release.wait()

    async with asyncio.TaskGroup() as group:
        pipeline = ItemPipeline(group, Pacing(floor=4, most=50), handle)
        feeder = group.create_task(feed(pipeline, FileRun("f", None), 10))
        await settle()
        assert pipeline.running == 4
        release.set()
        await feeder
    assert pipeline.most_running == 4


async def test_A4_above_the_floor_one_more_item_per_call_start_while_calls_are_wanted() -> None:
    limiter = Limiter(wanted=3)
    release = asyncio.Event()

    async def handle(_item: PublishedItem, _run: FileRun, _position: int) -> None:
        await release.wait()

    async with asyncio.TaskGroup() as group:
        pipeline = ItemPipeline(group, Pacing(2, 6, SCF, limiter), handle)
        feeder = group.create_task(feed(pipeline, FileRun("f", None), 20))
        await settle()
        assert pipeline.running == 3  # the floor, then one more at once
        limiter.call_started()
        await settle()
        assert pipeline.running == 4
        limiter.wanted = 0  # the limiter has enough now
        limiter.call_started()
        await settle()
        assert pipeline.running == 4
        limiter.wanted = 10
        for _ in range(5):
            limiter.call_started()
            await settle()
        assert pipeline.running == 6  # never beyond the bound
        release.set()
        await feeder
    assert pipeline.most_running == 6


async def test_a_later_record_of_a_barcode_waits_for_the_earlier_one() -> None:
    order: list[tuple[str, int]] = []
    first_may_end = asyncio.Event()

    async def handle(published: PublishedItem, _run: FileRun, position: int) -> None:
        if position == 0:
            await first_may_end.wait()
        order.append((published.barcode, position))

    async with asyncio.TaskGroup() as group:
        pipeline = ItemPipeline(group, Pacing(4, 4), handle)
        run = FileRun("f", None)
        await pipeline.submit(item("SAME"), run)
        await pipeline.submit(item("SAME"), run)
        await pipeline.submit(item("OTHER"), run)
        await settle()
        assert order == [("OTHER", 2)]
        first_may_end.set()
    assert order == [("OTHER", 2), ("SAME", 0), ("SAME", 1)]
