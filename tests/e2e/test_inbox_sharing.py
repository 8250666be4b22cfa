"""`almabridge serve` and `almabridge worker` share one PostgreSQL inbox (issue 13; rule W8).

Both processes run with default settings over one ledger. Two members publish a bulk of items in
remote storage each and send their publishing JOB_END: each process must take up one of them
(before the fix, the standalone worker claimed both in one batch and serve's worker stayed
idle). Then the standalone worker is SIGKILLed in the middle of its sync: serve, the surviving
worker, must take its message up again within 30 s of the kill, once its short lease has run out
(the owner is on this host, but only a starting worker looks for dead predecessors), and finish
it. Every item of both members is mirrored and lent exactly once.

Observed from outside: the inbox's leases read from the ledger, the fake Alma's state, and the
service's HTTP API.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from application.shared.ledger_records import InboxMessage, InboxStatus
from entrypoints.demo import webhooks
from entrypoints.demo.alma_files import PublishedRecord, publishing_archive
from entrypoints.demo.setup import AB, AB_PUBLISHING_JOB, CD, SCF
from tests.e2e.harness import (
    W8_SECONDS,
    AlmaSide,
    BridgeApi,
    LedgerInbox,
    ServiceProcess,
    WorkerProcess,
    alma_side,
    seed_remote_storage,
    until,
    wait_taken_up,
)
from tests.integration.ledger.support import postgres_schema

pytestmark = pytest.mark.postgres

ITEMS = 60
"""Items each member publishes: with the fake's latency, a sync of some ten seconds."""
LATENCY = 0.15
"""Seconds the fake Alma takes per call, so that both syncs are still running when looked at."""
CD_PUBLISHING_JOB = "S123456789"
"""CD's `publishing_job_id` in the demo's conf.json (AB's requests job: W4 settles it)."""
MEMBERS = {
    AB: ("ABRS", "rs_shared_in_ab", AB_PUBLISHING_JOB, "SHAB"),
    CD: ("CDRS", "rs_shared_1", CD_PUBLISHING_JOB, "SHCD"),
}
DEADLINE = 90.0


def barcodes(institution: str) -> list[str]:
    prefix = MEMBERS[institution][3]
    return [f"{prefix}{n:03d}" for n in range(ITEMS)]


def consortium() -> tuple[FakeAlmaState, dict[str, PublishedRecord]]:
    """The demo consortium plus ITEMS items in remote storage on one bib per member."""
    state = state_from_file()
    records = {}
    for institution, (library, location, _, _) in MEMBERS.items():
        [records[institution]] = seed_remote_storage(
            state,
            institution,
            (library, location),
            barcodes(institution),
            bibs=1,
            title=f"Shared inbox {institution}",
        )
    return state, records


def drop_archives(side: AlmaSide, records: dict[str, PublishedRecord]) -> None:
    for institution, record in records.items():
        name = f"{institution}_publishing_shared_new"
        archive = publishing_archive(name, [record])
        (side.paths.drop_folder(institution, "items") / f"{name}.tar.gz").write_bytes(archive)


def mirrors(state: FakeAlmaState, institution: str) -> Counter[str]:
    """The member's `{b}X` in the SCF, each with how many items carry it."""
    wanted = {f"{barcode}X" for barcode in barcodes(institution)}
    return Counter(
        item.barcode for item in state.institutions[SCF].items.values() if item.barcode in wanted
    )


def loans(state: FakeAlmaState, institution: str) -> Counter[str]:
    """Per mirror of the member, its active loans to the member's system user (I10)."""
    scf = state.institutions[SCF]
    user = f"{institution}-{MEMBERS[institution][0]}"
    wanted = {f"{barcode}X" for barcode in barcodes(institution)}
    pids = {item.pid: item.barcode for item in scf.items.values() if item.barcode in wanted}
    return Counter(
        pids[loan.item_pid]
        for loan in scf.loans.values()
        if loan.item_pid in pids and loan.active and loan.user_id == user
    )


async def test_serve_and_a_worker_split_two_job_ends_and_serve_takes_over_a_killed_ones(
    tmp_path: Path,
) -> None:
    state, records = consortium()
    async with postgres_schema() as url, alma_side(tmp_path, state, database_url=url) as side:
        side.faults.configure(latency=LATENCY)
        drop_archives(side, records)
        inbox = LedgerInbox(url)
        worker = WorkerProcess(side)  # default settings, like serve: no lease override
        service = ServiceProcess(side)
        try:
            await worker.start()
            await service.start()
            await worker.wait_ready()  # polling before the JOB_ENDs arrive
            api = BridgeApi(side.client, service, side.secrets.webhook)
            for institution, (_, _, job, _) in MEMBERS.items():
                await api.send(webhooks.job_end(institution, job, "Publishing Platform Job RS"))

            # Each process takes up one of the two messages.
            held: list[InboxMessage] = []

            async def both_held() -> bool:
                nonlocal held
                held = [m for m in await inbox.messages() if m.status is InboxStatus.PROCESSING]
                return len(held) == 2

            await until(both_held, 30.0, "both JOB_ENDs to be taken up", poll=0.05)
            owners = sorted(str(message.lock_owner) for message in held)
            assert owners == sorted([service.owner, worker.owner]), (owners, worker.log_text())
            (workers_message,) = [m for m in held if m.lock_owner == worker.owner]

            # SIGKILL the standalone worker in the middle of its sync.
            member = json.loads(workers_message.body)["institution"]["value"]

            async def some_mirrors() -> bool:
                return sum(mirrors(side.state, member).values()) >= 5

            await until(some_mirrors, 30.0, f"mirrors of {member}", poll=0.05)
            assert (await _status(inbox, workers_message.id)) is InboxStatus.PROCESSING
            await worker.kill()
            killed_at = time.monotonic()

            # W8: the surviving serve takes its message up again within 30 s.
            taken_up = await wait_taken_up(inbox, service, killed_at)
            assert taken_up < W8_SECONDS

            processed = await api.wait_processed(2, DEADLINE)
            failed = await api.events(outcome="failed")
        finally:
            await inbox.close()
            await worker.stop()
            await service.stop()

    assert failed == []
    assert sorted(event["outcome"] for event in processed) == ["ok", "ok"]
    attempts = sorted(event["details"]["attempt"] for event in processed)
    assert attempts == [1, 2]  # serve's own at once, the killed worker's once more
    for institution in MEMBERS:
        once = Counter(f"{barcode}X" for barcode in barcodes(institution))
        assert mirrors(side.state, institution) == once, institution
        assert loans(side.state, institution) == once, institution


async def _status(inbox: LedgerInbox, message_id: int) -> InboxStatus:
    (message,) = [m for m in await inbox.messages() if m.id == message_id]
    return message.status
