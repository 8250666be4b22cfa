"""The SFTP server drops connections mid-download during an items sync (rules I1, I2, I13).

A real asyncssh server (`tests/integration/files/servers.py`) aborts the whole SSH connection
once a doomed download has served a few kilobytes, and drops one directory listing. Some files are
doomed once or twice (the adapter's own retries, on a new connection, get them), one more often
than the adapter tries (its claim is put back on the server, rule I1, and the next publishing
`JOB_END` claims it again: in production the next day's job, here a second webhook). Each file
must be processed exactly once: one `transfer_files` row, done; one mirror per barcode; one item
creation per barcode in the fake's call log.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path

from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from adapters.transfer import RetryPolicy, SftpFileTransfer
from application.shared.connections import Secret
from entrypoints.demo import webhooks
from tests.integration.files.servers import PASSWORD, USER, Faults, sftp_server
from tests.reliability import tally
from tests.reliability.support import duplicates, open_rig, table_rows
from tests.scenarios.world import AB, SCF, collection, marc_record, tar_gz

FILE_RETRY = RetryPolicy(attempts=RetryPolicy().attempts, first_delay=0.01, max_delay=0.05)
"""The production number of tries (4) with quick waits."""
DROP_AT = 2 * 1024
BLOCK = 512
PUBLISHING_JOB = "S987654321"
DRAIN_SECONDS = 60.0
ITEM_CREATE = re.compile(r"^/almaws/v1/bibs/[^/]+/holdings/[^/]+/items$")


def _publishing_files(state: FakeAlmaState) -> dict[str, bytes]:
    """Six files (four archives, two bare XML) of five bibs with three remote-storage items each.

    Titles carry random text so that even the archives are several times `DROP_AT` long.
    """
    files: dict[str, bytes] = {}
    for f in range(6):
        records = []
        for b in range(5):
            mms = f"99{6000 + f * 10 + b}0000121"
            title = f"Dropped {f}-{b} " + os.urandom(1500).hex()
            copies = [f"SD{f}{b}{k}" for k in range(3)]
            for barcode in copies:
                state.seed_item(
                    AB,
                    barcode=barcode,
                    library="ABRS",
                    location="rs_shared_in_ab",
                    mms_id=mms,
                    title=title,
                )
            items = [{"b": c, "c": "ABRS", "l": "rs_shared_in_ab"} for c in copies]
            records.append(marc_record(mms, items, title=title))
        stem = f"AB_20260102_{f}_new"
        if f % 3 == 2:
            files[f"{stem}.xml"] = collection(records)
        else:
            files[f"{stem}.tar.gz"] = tar_gz({f"{stem}.xml": collection(records)})
    return files


async def test_I1_downloads_cut_mid_file_are_retried_and_each_file_is_processed_once(
    tmp_path: Path,
) -> None:
    """Rule I1: a claimed file is recorded only once downloaded; a failed download goes back;
    nothing is lost and nothing is done twice (I13: one mirror per barcode)."""
    state = state_from_file()
    files = _publishing_files(state)
    root = tmp_path / "sftp"
    items = root / "alma" / AB / "items"
    items.mkdir(parents=True)
    for name, data in files.items():
        assert len(data) > 2 * DROP_AT, name  # so each doomed download is cut midway
        (items / name).write_bytes(data)
    names = sorted(files)
    doomed = {names[0]: 1, names[1]: 2, names[3]: 1, names[4]: FILE_RETRY.attempts + 1}
    faults = Faults(
        failing_downloads=dict(doomed), fail_at=DROP_AT, drop_connection=True, dropped_listings=1
    )
    known_hosts = tmp_path / "known_hosts"
    injector = FaultInjector(FaultConfig(enforce_thresholds=False), clock=state.clock)

    async with sftp_server(root, faults) as server:
        known_hosts.write_text(server.known_hosts_line())

        def sftp(_memory: object) -> SftpFileTransfer:
            return SftpFileTransfer(
                "127.0.0.1",
                port=server.port,
                user=USER,
                password=Secret(PASSWORD),
                known_hosts=known_hosts,
                block_size=BLOCK,
                timeout=10,
                retry=FILE_RETRY,
            )

        async with open_rig(tmp_path / "bridge", state, injector, files=sftp) as rig:
            worker = rig.worker()
            first = json.dumps(webhooks.job_end(AB, PUBLISHING_JOB, "Publishing")).encode()
            await rig.store_webhook(first)
            await rig.drain(worker, DRAIN_SECONDS)
            # The file doomed more often than the adapter tries went back where it was (I1).
            assert [p.name for p in items.iterdir() if p.is_file()] == [names[4]]
            put_back = [e for e in await rig.events(action="file.claim") if e.outcome == "failed"]
            assert len(put_back) == 1
            assert "put back" in (put_back[0].message or "")
            assert names[4] in (put_back[0].message or "")

            # The next publishing JOB_END (tomorrow's, in production) claims it again.
            second = json.dumps(webhooks.job_end(AB, PUBLISHING_JOB, "Publishing")).encode()
            await rig.store_webhook(second)
            await rig.drain(worker, DRAIN_SECONDS)
            rows = await table_rows(rig.database_url)
            events = await rig.events()

    # Every doomed download really failed as planned, on a connection the server dropped.
    assert faults.failing_downloads == dict.fromkeys(doomed, 0)
    assert faults.listings_dropped == 1
    injected = sum(doomed.values()) + faults.listings_dropped
    assert faults.connections > injected  # each drop cost a new connection

    # None lost, none twice: one transfer row per file, done, with the file's own hash.
    transfers = rows["transfer_files"]
    assert sorted(Path(t["remote_name"]).name for t in transfers) == names
    for row in transfers:
        name = Path(row["remote_name"]).name
        assert row["status"] == "done", row
        assert row["sha256"] == hashlib.sha256(files[name]).hexdigest()
        assert (row["records_total"], row["records_failed"]) == (15, 0)
    assert sorted(p.name for p in (items / "OLD").iterdir()) == names  # claimed once each
    assert [p for p in items.iterdir() if p.is_file()] == []

    # One mirror per barcode in the SCF and in the ledger, one creation call per barcode.
    barcodes = [f"SD{f}{b}{k}" for f in range(6) for b in range(5) for k in range(3)]
    scf_barcodes = [item.barcode for item in state.institution(SCF).items.values()]
    assert sorted(scf_barcodes) == sorted(f"{b}X" for b in barcodes)
    creates = [
        r
        for r in state.call_log.records(institution=SCF, method="POST")
        if ITEM_CREATE.match(r.path)
    ]
    assert len(creates) == len(barcodes)
    assert sorted(r["barcode"] for r in rows["mirrored_items"]) == sorted(barcodes)
    created = Counter(e.barcode for e in events if e.action == "item.create")
    assert created == Counter(barcodes)
    finished = [e for e in events if e.action == "file.finish"]
    assert len(finished) == len(names)
    assert all(e.outcome == "ok" for e in finished)

    tally.record(
        "SFTP connections dropped mid-download",
        faults_injected=injected,
        messages_processed=len(rows["inbox_messages"]),
        records_processed=sum(t["records_total"] for t in transfers),
        effects_lost=len(set(barcodes) - {b.removesuffix("X") for b in scf_barcodes}),
        duplicates=len(duplicates(scf_barcodes))
        + len(duplicates(Path(t["remote_name"]).name for t in transfers)),
        transient_cancellations=0,
    )
