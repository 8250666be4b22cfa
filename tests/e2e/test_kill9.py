"""kill -9 of `almabridge serve` in the middle of an items sync of 500 new items, then a restart.

Two consortia run side by side, each with its own fake Alma, SFTP server, ledger and service:
one is interrupted, one is not. Both get the same publishing archive of 01AAA_AB (500 items in
remote storage on five bibs, seeded at the member first) and its JOB_END. The interrupted
service is SIGKILLed once some mirrors exist, at a moment made certain rather than lucky: the
SCF answers 503 to transit loans for a short while, so the kill lands while a mirror has been
created and its loan is still being retried (the window a real kill falls into sooner or later).
The restarted service (same ledger, same conf.json, default settings: no lease override) must
take the dead process's message up again within 30 s of the kill (rule W8), and finish the sync.
Then the SCF of both consortia must hold the same thing, nothing twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.fake_alma.model import Item
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from entrypoints.demo import webhooks
from entrypoints.demo.alma_files import PublishedRecord, publishing_archive
from entrypoints.demo.setup import AB, AB_PUBLISHING_JOB, SCF
from tests.e2e.harness import (
    W8_SECONDS,
    AlmaSide,
    BridgeApi,
    LedgerInbox,
    ServiceProcess,
    alma_side,
    seed_remote_storage,
    until,
    wait_taken_up,
)

ITEMS, BIBS = 500, 5
LIBRARY, LOCATION = "ABRS", "rs_shared_in_ab"
SYSTEM_USER = f"{AB}-{LIBRARY}"
KILL_AFTER = 100
"""Mirrors created before the transit loans start failing and the service is killed."""
SYNC_DEADLINE = 75.0
"""500 mirrors cost about 1,000 SCF calls, at the bridge's 25 calls per second per institution."""


def barcodes() -> list[str]:
    return [f"BULK{n:04d}" for n in range(ITEMS)]


def bulk_consortium() -> tuple[FakeAlmaState, list[PublishedRecord]]:
    """The demo consortium plus 500 items of AB in remote storage, and their publishing records."""
    state = state_from_file()
    records = seed_remote_storage(
        state, AB, (LIBRARY, LOCATION), barcodes(), bibs=BIBS, title="Bulk record"
    )
    return state, records


@dataclass(frozen=True)
class ScfShape:
    """What the SCF holds after the sync, without its (run-dependent) ids."""

    barcodes: Counter[str]
    """SCF item barcodes, each with how many items carry it."""
    bibs: frozenset[frozenset[str]]
    """Per SCF bib holding mirrors, the barcodes on it."""
    holdings: Counter[tuple[frozenset[str], str, str]]
    """Per holding with mirrors: its barcodes, library and location."""
    bib_count: int
    holding_count: int
    loans: Counter[str]
    """Per SCF barcode, active loans to the member's system user."""
    ledger_rows: int
    ledger_loaned: int


def scf_shape(state: FakeAlmaState, ledger: Path) -> ScfShape:
    scf = state.institutions[SCF]
    items = [item for item in scf.items.values() if item.barcode.startswith("BULK")]
    by_bib: dict[str, set[str]] = {}
    by_holding: dict[str, set[str]] = {}
    for item in items:
        by_bib.setdefault(item.mms_id, set()).add(item.barcode)
        by_holding.setdefault(item.holding_id, set()).add(item.barcode)
    holdings = Counter(
        (frozenset(names), scf.holdings[holding].library, scf.holdings[holding].location)
        for holding, names in by_holding.items()
    )
    pid_barcode = {item.pid: item.barcode for item in items}
    loans = Counter(
        pid_barcode[loan.item_pid]
        for loan in scf.loans.values()
        if loan.item_pid in pid_barcode and loan.active and loan.user_id == SYSTEM_USER
    )
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as database:
        rows, loaned = database.execute(
            "SELECT count(*), count(loaned_at) FROM mirrored_items"
            " WHERE institution = ? AND state = 'mirrored'",
            (AB,),
        ).fetchone()
    return ScfShape(
        barcodes=Counter(item.barcode for item in items),
        bibs=frozenset(frozenset(names) for names in by_bib.values()),
        holdings=holdings,
        bib_count=len({holding.mms_id for holding in scf.holdings.values()} & set(by_bib)),
        holding_count=len(
            [h for h in scf.holdings.values() if h.mms_id in by_bib]  # holdings of these bibs
        ),
        loans=loans,
        ledger_rows=rows,
        ledger_loaned=loaned,
    )


@dataclass(frozen=True)
class Run:
    """One consortium's sync: the SCF afterwards, and what the bridge's ledger said."""

    shape: ScfShape
    processed: list[dict[str, Any]]
    failed_events: list[dict[str, Any]]
    created_before_kill: int = 0
    unlent_at_kill: frozenset[str] = frozenset()
    taken_up_after: float | None = None
    """Seconds from the kill until the restarted service held the message (rule W8)."""


def _unlent(state: FakeAlmaState) -> frozenset[str]:
    scf = state.institutions[SCF]
    lent = {loan.item_pid for loan in scf.loans.values() if loan.active}
    return frozenset(item.barcode for item in scf.items.values() if item.pid not in lent)


def _mirrors(state: FakeAlmaState) -> list[Item]:
    return list(state.institutions[SCF].items.values())


async def _sync(root: Path, *, interrupt: bool) -> Run:
    state, records = bulk_consortium()
    async with alma_side(root, state) as side:
        archive = publishing_archive(f"{AB}_publishing_bulk_new", records)
        (side.paths.drop_folder(AB, "items") / f"{AB}_publishing_bulk_new.tar.gz").write_bytes(
            archive
        )
        service = ServiceProcess(side)  # default settings: the lease is not shortened
        created, unlent, taken_up = 0, frozenset[str](), None
        try:
            await service.start()
            api = BridgeApi(side.client, service, side.secrets.webhook)
            await api.send(webhooks.job_end(AB, AB_PUBLISHING_JOB, "Publishing Platform Job RS"))
            if interrupt:
                created, unlent, taken_up = await _kill_mid_sync(side, service)
            await api.wait_processed(1, SYNC_DEADLINE)
            processed = await api.processed()
            failed = await api.events(outcome="failed")
        finally:
            await service.stop()
        shape = scf_shape(side.state, side.paths.ledger)
        return Run(shape, processed, failed, created, unlent, taken_up)


async def _kill_mid_sync(
    side: AlmaSide, service: ServiceProcess
) -> tuple[int, frozenset[str], float]:
    """SIGKILL once KILL_AFTER mirrors exist and a loan is failing; restart; what was left, and
    how long after the kill the restarted service held the message again."""

    async def some_mirrors() -> bool:
        return len(_mirrors(side.state)) >= KILL_AFTER

    await until(some_mirrors, SYNC_DEADLINE, f"{KILL_AFTER} mirrors in the SCF", poll=0.02)
    side.faults.fail_next(200, kind="error", status=503, institution=SCF, path_contains="/loans")

    async def loans_failing() -> bool:
        failed = side.state.call_log.records(institution=SCF, method="POST", status=503)
        return len([call for call in failed if call.path.endswith("/loans")]) >= 2

    await until(loans_failing, 10.0, "the SCF to refuse two transit loans", poll=0.01)
    await service.kill()
    killed_at = time.monotonic()
    side.faults.clear_script()
    created, unlent = len(_mirrors(side.state)), _unlent(side.state)
    assert KILL_AFTER <= created < ITEMS
    assert unlent, "the kill was meant to land between a mirror's creation and its loan"
    inbox = LedgerInbox(side.database_url)
    try:
        assert await inbox.held_by_others("nobody"), "the dead process held no message"
        await service.start()  # same conf.json, same ledger, default settings
        taken_up = await wait_taken_up(inbox, service, killed_at)
    finally:
        await inbox.close()
    return created, unlent, taken_up


async def test_kill_9_mid_sync_then_restart_leaves_the_scf_as_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    # Side by side: each is bound by the bridge's 25 Alma calls per second, not by the CPU.
    async with asyncio.TaskGroup() as group:
        interrupting = group.create_task(_sync(tmp_path / "interrupted", interrupt=True))
        plain = group.create_task(_sync(tmp_path / "uninterrupted", interrupt=False))
    interrupted, uninterrupted = interrupting.result(), plain.result()
    expected = Counter(f"{barcode}X" for barcode in barcodes())
    for run in (uninterrupted, interrupted):
        shape = run.shape
        assert run.failed_events == []
        (event,) = run.processed
        assert event["outcome"] == "ok"
        # Every item mirrored exactly once, on one bib per member bib, one holding per location.
        assert shape.barcodes == expected
        assert shape.bib_count == BIBS == len(shape.bibs)
        assert shape.holding_count == BIBS == sum(shape.holdings.values())
        assert max(shape.loans.values()) == 1  # never two transit loans on one mirror
        assert shape.ledger_rows == ITEMS
    assert uninterrupted.shape.loans == expected
    assert uninterrupted.shape.ledger_loaned == ITEMS
    assert interrupted.processed[0]["details"]["attempt"] == 2  # taken up again once
    # W8: with default settings, the restarted service took the dead one's message up at once.
    assert interrupted.taken_up_after is not None
    assert interrupted.taken_up_after < W8_SECONDS

    # The interrupted run's SCF is the uninterrupted run's: same mirrors, bibs and holdings.
    assert interrupted.shape.bibs == uninterrupted.shape.bibs
    assert interrupted.shape.holdings == uninterrupted.shape.holdings

    # Mirrors created before the kill but not yet lent are lent after the restart (I10).
    assert interrupted.shape.loans == expected
    assert interrupted.shape.ledger_loaned == ITEMS
