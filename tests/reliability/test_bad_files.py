"""Malformed files in one batch with good ones (rules I1, I2, I3, R1, R2).

One items batch holds good publishing files and every kind of bad one (tar-slip, absolute
paths, links, a device, a truncated gzip, a bomb, non-MARC XML, a DOCTYPE, a wrong encoding,
records without 001 or ITM, …); one requests batch holds a good request file and bad ones
(no namespace, wrong encoding, requests without ids, not XML, …). Both run through the service's
inbox worker on `JOB_END` webhooks. Each bad file must end as a failed `transfer_files` row whose
reason names the problem (or, where the rules say the file is fine or only some records are
unusable, a done row with the event that says so), the batch must go on, and the good files'
items and requests must all be carried out.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from adapters.scf.formats.archives import ArchiveLimits
from adapters.scf.formats.publishing import MarcPublishingFiles
from entrypoints.demo import webhooks
from tests.reliability import tally
from tests.reliability.support import open_rig, table_rows
from tests.scenarios.world import AB, SCF, collection, marc_record, request_export, tar_gz

RS = {"c": "ABRS", "l": "rs_shared_in_ab"}
BOMB_CAP = 4 * 1024 * 1024
"""The test's archive cap (production: 2 GiB); the bomb decompresses to five times as much."""
JOBS = ("S987654321", "S123456789")  # AB's publishing and requests jobs (examples/conf.json)
HOLD = {"request_type": "HOLD", "pickup_location_type": "USER_HOME_ADDRESS"}


@dataclass(frozen=True)
class File:
    """One file of the batch and what must come of it."""

    name: str
    data: bytes
    kind: str = "items"
    status: str = "failed"
    reason: str = ""
    """Words the failure reason (or, for a done file, one of its events) must contain."""


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _member(name: str, data: bytes = b"", **attributes: Any) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attributes.items():
        setattr(info, key, value)
    return info, data


def _special(name: str, kind: bytes, **attributes: Any) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in attributes.items():
        setattr(info, key, value)
    return info, None


def _bomb() -> bytes:
    """A tar.gz of a few tens of kilobytes holding five times the cap of zeros."""
    size = 5 * BOMB_CAP
    info = tarfile.TarInfo("AB_bomb.xml")
    info.size = size
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.addfile(info, io.BytesIO(bytes(size)))
    return buffer.getvalue()


def _seed(state: FakeAlmaState, barcodes: list[str], mms: str) -> str:
    for barcode in barcodes:
        state.seed_item(
            AB,
            barcode=barcode,
            library="ABRS",
            location="rs_shared_in_ab",
            mms_id=mms,
            title=f"Good {mms}",
        )
    return marc_record(mms, [{"b": b, **RS} for b in barcodes], title=f"Good {mms}")


def _files(state: FakeAlmaState) -> tuple[list[File], list[str]]:
    """The batch, in the order the sync takes it (by name), and the barcodes it must mirror."""
    good = [[f"GF{f}{k}" for k in range(4)] for f in range(3)]
    records = [_seed(state, barcodes, f"99{5000 + f}0000121") for f, barcodes in enumerate(good)]
    xml = collection([records[0]])
    no_001 = marc_record("99", [{"b": "NO001", **RS}]).replace(
        '<controlfield tag="001">99</controlfield>', ""
    )
    latin1 = collection([marc_record("991", [{"b": "BÉ1", **RS}])]).decode().encode("latin-1")
    doctype = (
        b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<collection>&b;</collection>"
    )
    files = [
        File("AB_00_good_new.tar.gz", tar_gz({"AB_00_good_new.xml": xml}), status="done"),
        File(
            "AB_01_tarslip_new.tar.gz",
            _tar([_member("../../evil.xml", xml)]),
            reason="'..' in path refused",
        ),
        File(
            "AB_02_absolute_new.tar.gz",
            _tar([_member("/tmp/evil.xml", xml)]),
            reason="absolute path refused",
        ),
        File(
            "AB_03_symlink_new.tar.gz",
            _tar([_special("AB.xml", tarfile.SYMTYPE, linkname="/etc/passwd")]),
            reason="symbolic link to '/etc/passwd' refused",
        ),
        File(
            "AB_04_hardlink_new.tar.gz",
            _tar([_member("a.xml", xml), _special("b.xml", tarfile.LNKTYPE, linkname="a.xml")]),
            reason="hard link to 'a.xml' refused",
        ),
        File(
            "AB_05_device_new.tar.gz",
            _tar([_special("dev", tarfile.CHRTYPE)]),
            reason="device refused",
        ),
        File(
            "AB_06_fifo_new.tar.gz",
            _tar([_special("fifo", tarfile.FIFOTYPE)]),
            reason="FIFO refused",
        ),
        File(
            "AB_07_truncated_new.tar.gz",
            tar_gz({"AB.xml": xml * 40})[:300],
            reason="truncated gzip stream",
        ),
        File(
            "AB_08_not_gzip_new.tar.gz",
            b"this is not a gzip file",
            reason="not a valid gzip stream",
        ),
        File("AB_09_bomb_new.tar.gz", _bomb(), reason="past 4194304 bytes (cap)"),
        File("AB_10_good_new.xml", collection([records[1]]), status="done"),  # a good file midway
        File("AB_11_html_new.xml", b"<html><body>hi</body></html>", reason="not MARCXML"),
        File("AB_12_broken_new.xml", b"<collection><record><broken", reason="unclosed token"),
        File("AB_13_doctype_new.xml", doctype, reason="DOCTYPE is not allowed"),
        File("AB_14_no001_new.xml", collection([no_001]), reason="record has no 001"),
        File("AB_15_latin1_new.xml", latin1, reason="not well-formed (invalid token)"),
        File("AB_16_empty_new.xml", b"", reason="no element found"),
        File("AB_17_json_new.xml", b'{"records": []}', reason="not well-formed"),
        File("AB_18_zip_new.zip", b"PK\x03\x04 not ours", reason="not a publishing archive"),
        File(
            "AB_19_duplicate_members_new.tar.gz",
            _tar([_member("AB.xml", xml), _member("AB.xml", xml)]),
            reason="duplicate name refused",
        ),
        File(
            "AB_20_no_itm_new.xml",
            collection([marc_record("992", [])]),
            status="done",
            reason="0 records, 0 failed",
        ),
        File(
            "AB_21_no_barcode_new.xml",
            collection([marc_record("993", [RS])]),
            status="done",
            reason="no barcode",
        ),
        File(
            "AB_22_good_new.tar.gz", tar_gz({"AB_22.xml": collection([records[2]])}), status="done"
        ),
    ]
    return files, [b for barcodes in good for b in barcodes]


def _request_files(state: FakeAlmaState) -> tuple[list[File], list[str]]:
    """Request files: a good one, one in ISO-8859-1 (declared, so fine: R2), one without
    namespace (R2: tolerated) and bad ones. Returns the request ids that must be forwarded."""

    def hold(barcode: str) -> str:
        item = state.item_by_barcode(AB, barcode)
        return state.create_item_request(
            AB, item.mms_id, item.holding_id, item.pid, "ab_patron1", HOLD
        ).request_id

    good, latin, bare = hold("GF00"), hold("GF10"), hold("GF20")
    declared = request_export([{"requestId": latin, "barcode": "GF10", "requestNote": "Été"}])
    declared = (
        declared.decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    )
    wrong = request_export([{"requestId": "1", "barcode": "GF01", "requestNote": "Été"}])
    wrong = wrong.decode().encode("latin-1")  # says UTF-8, is not
    no_namespace = (
        f"<rsExportList><rsExport><requestId>{bare}</requestId><barcode>GF20</barcode>"
        "</rsExport></rsExportList>"
    ).encode()
    truncated = request_export([{"requestId": "2", "barcode": "GF02"}])[:-40]
    files = [
        File(
            "r_00_good.xml",
            request_export([{"requestId": good, "barcode": "GF00"}]),
            "requests",
            "done",
        ),
        File("r_01_latin1_declared.xml", declared, "requests", "done"),
        File("r_02_no_namespace.xml", no_namespace, "requests", "done"),
        File("r_03_wrong_encoding.xml", wrong, "requests", reason="not well-formed"),
        File(
            "r_04_without_ids.xml",
            request_export([{"barcode": "GF03"}, {"barcode": "GF12", "requestType": "HOLD"}]),
            "requests",
            "done",
            reason="no requestId",
        ),
        File("r_05_truncated.xml", truncated, "requests", reason="line"),
        File("r_06_not_xml.xml", b"requestId,barcode\n1,GF00\n", "requests", reason="syntax error"),
        File("r_07_html.xml", b"<html/>", "requests", reason="not a remote-storage request"),
        File(
            "r_08_doctype.xml",
            b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>',
            "requests",
            reason="DOCTYPE",
        ),
        File("r_09_empty.xml", b"", "requests", reason="no element found"),
    ]
    return files, [good, latin, bare]


async def test_I2_R2_each_malformed_file_fails_with_its_reason_and_the_good_work_is_done(
    tmp_path: Path,
) -> None:
    """Rules I1/R1 (claimed, recorded, finished), I2 (refused archives, batch goes on), I3 (no
    barcode: skipped with the reason), R2 (tolerant but strict reading): one batch each."""
    state = state_from_file()
    item_files, barcodes = _files(state)
    request_files, forwarded = _request_files(state)
    every = [*item_files, *request_files]
    bad = [f for f in every if f.status == "failed"]
    assert len(bad) >= 15
    malformed = [f for f in every if "_good" not in f.name]  # odd but valid ones included
    limits = MarcPublishingFiles(ArchiveLimits(max_total_bytes=BOMB_CAP))
    injector = FaultInjector(FaultConfig(enforce_thresholds=False), clock=state.clock)
    async with open_rig(tmp_path, state, injector, publishing=limits) as rig:
        worker = rig.worker()
        for file in [*item_files, *request_files]:
            rig.put(AB, file.kind, file.name, file.data)
        for job in JOBS:
            await rig.store_webhook(json.dumps(webhooks.job_end(AB, job, "Job")).encode())
            await rig.drain(worker, 60)
        rows = await table_rows(rig.database_url)
        events = await rig.events()
        left = [
            f.name
            for kind in ("items", "requests")
            for f in await rig.bridge.files.list_files(rig.folder(AB, kind))
        ]

    assert left == []  # every file was claimed, none put back
    transfers = {Path(t["remote_name"]).name: t for t in rows["transfer_files"]}
    assert sorted(transfers) == sorted(f.name for f in [*item_files, *request_files])
    problems = []
    for file in [*item_files, *request_files]:
        row = transfers[file.name]
        if row["status"] != file.status:
            problems.append(f"{file.name}: {row['status']} ({row['failure_reason']})")
            continue
        if file.status == "failed":
            if file.reason.lower() not in (row["failure_reason"] or "").lower():
                problems.append(f"{file.name}: reason {row['failure_reason']!r}")
            finish = [e for e in events if e.action == "file.finish" and e.file_id == row["id"]]
            if [e.outcome for e in finish] != ["failed"]:
                problems.append(f"{file.name}: finish events {finish}")
        elif file.reason:
            said = [e.message or "" for e in events if e.file_id == row["id"]]
            if not any(file.reason in message for message in said):
                problems.append(f"{file.name}: no event says {file.reason!r}: {said}")
    assert problems == [], "\n".join(problems)

    # The good work of both batches was done, once.
    scf = sorted(item.barcode for item in state.institution(SCF).items.values())
    assert scf == sorted(f"{b}X" for b in barcodes)
    placed = state.requests_of(SCF, active=True)
    assert len(placed) == len(forwarded)
    assert all(state.request(AB, rid).active for rid in forwarded)  # holds: nothing switched
    assert state.requests_of(AB, active=False) == []  # a bad file cancels nothing (R2, R7)
    inbox = rows["inbox_messages"]
    assert [m["status"] for m in inbox] == ["done", "done"]
    assert all(m["attempts"] == 1 for m in inbox)

    tally.record(
        f"malformed files ({len(malformed)} odd or bad, {len(every) - len(malformed)} good)",
        faults_injected=len(malformed),
        messages_processed=len(inbox),
        records_processed=sum(t["records_total"] for t in rows["transfer_files"]),
        effects_lost=len(barcodes) - len(scf) + len(forwarded) - len(placed),
        duplicates=len(scf) - len(set(scf)),
        transient_cancellations=len(state.requests_of(AB, active=False)),
    )
