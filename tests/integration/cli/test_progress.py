"""Progress of long commands: a live line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime

from rich.console import Console

from adapters.ledger.memory import MemoryLedger
from application.ports.ledger import Ledger
from application.shared.ledger_records import Outcome
from entrypoints.cli.progress import EventCounter, watch
from tests.integration.ledger.support import FakeClock

AB = "01AAA_AB"


async def _write_events(ledger: Ledger, count: int, *, pause: float = 0.0) -> str:
    for number in range(count):
        async with ledger.unit_of_work() as uow:
            outcome = Outcome.FAILED if number == 0 else Outcome.OK
            await uow.events.append("item.create", outcome, institution=AB, barcode=str(number))
            await uow.events.append("item.create", Outcome.OK, institution="01AAA_CD")
            await uow.commit()
        await asyncio.sleep(pause)
    return "done"


async def test_the_counter_reads_each_event_once_and_only_its_institution() -> None:
    clock = FakeClock(datetime(2025, 1, 31, tzinfo=UTC))
    ledger = MemoryLedger(clock)
    counter = EventCounter(ledger, institution=AB, since=clock.now())
    assert counter.describe() == "waiting for the first event"
    await _write_events(ledger, 3)
    await counter.poll()
    await counter.poll()
    assert counter.counts["item.create"] == 3
    assert counter.describe() == "3 item.create (1 failed)"


async def test_on_a_terminal_a_live_line_shows_the_counts() -> None:
    clock = FakeClock(datetime(2025, 1, 31, tzinfo=UTC))
    ledger = MemoryLedger(clock)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    counter = EventCounter(ledger, institution=AB, since=clock.now())
    result = await watch(
        _write_events(ledger, 5, pause=0.02),
        counter,
        console=console,
        label="items sync",
        interval=0.01,
    )
    assert result == "done"
    assert "items sync:" in screen.getvalue()
    assert "item.create" in screen.getvalue()


async def test_off_a_terminal_plain_timestamped_lines_are_logged() -> None:
    clock = FakeClock(datetime(2025, 1, 31, tzinfo=UTC))
    ledger = MemoryLedger(clock)
    console = Console(file=io.StringIO(), force_terminal=False)
    log = io.StringIO()
    counter = EventCounter(ledger, institution=AB, since=clock.now())
    await watch(
        _write_events(ledger, 5, pause=0.03),
        counter,
        console=console,
        label="items sync 01AAA_AB",
        interval=0.01,
        log_every=0.02,
        log_to=log,
    )
    lines = log.getvalue().splitlines()
    assert lines[0].endswith("items sync 01AAA_AB: started")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", lines[0])
    assert any("item.create" in line for line in lines[1:])
    assert "\x1b[" not in log.getvalue()  # no terminal escapes in logs


async def test_an_interrupted_watch_cancels_the_job() -> None:
    clock = FakeClock(datetime(2025, 1, 31, tzinfo=UTC))
    ledger = MemoryLedger(clock)
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    job = forever()
    counter = EventCounter(ledger, institution=AB, since=clock.now())
    console = Console(file=io.StringIO())
    watcher = asyncio.create_task(
        watch(job, counter, console=console, label="x", log_to=io.StringIO())
    )
    await started.wait()
    watcher.cancel()
    await asyncio.gather(watcher, return_exceptions=True)
    tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    await asyncio.sleep(0)
    assert all(task.done() for task in tasks)
