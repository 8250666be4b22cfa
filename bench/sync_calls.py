"""Alma calls per item of the items sync (issue 5, item 6), counted from the fake's call log.

Runs `ItemSync` against the fake Alma through the real HTTP adapter (in process, over
`httpx.ASGITransport`), so every HTTP request is logged, the 302 of item-by-barcode included.
One member (CD) publishes 100 items of 10 bibs (5 linked to the Network Zone, 5 local), spread
over the three remote-storage locations, and four situations are measured, each a fresh sync
(cold caches):

1. new: nothing is in the SCF yet (bib, holdings, items and loans are created);
2. unchanged: the same file again;
3. changed: every member item's description changed;
4. delete: a `_delete` file of all 100, after the SCF returned the transit loans.

Prints SCF-side and member-side calls per item against the targets; exits 1 if one is missed.
Run from the repository root: ``/work/venv/bin/python bench/sync_calls.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from entrypoints.bridge_wiring import item_sync

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from adapters.alma_http.client import AlmaHttpClient, RetryPolicy  # noqa: E402
from adapters.fake_alma.app import create_fake_alma_app  # noqa: E402
from adapters.fake_alma.faults import FaultConfig, FaultInjector  # noqa: E402
from adapters.fake_alma.seed import state_from_file  # noqa: E402
from adapters.fake_alma.state import FakeAlmaState  # noqa: E402
from adapters.ledger.memory import MemoryLedger  # noqa: E402
from adapters.scf.alma_directory import HttpAlmaDirectory  # noqa: E402
from adapters.scf.config.loader import settings_from_bytes  # noqa: E402
from adapters.scf.formats.publishing import MarcPublishingFiles  # noqa: E402
from adapters.scf.formats.request_xml import XmlRequestFiles  # noqa: E402
from adapters.scf.reports.csv_reports import MemoryFailureReports  # noqa: E402
from adapters.transfer.memory import InMemoryFileTransfer, MemoryFiles  # noqa: E402
from application.scf.items.item_sync import ItemSyncSummary  # noqa: E402
from entrypoints.bridge_wiring import BridgePorts  # noqa: E402

MEMBER, SCF = "01AAA_CD", "01AAA_RS"
BIBS, ITEMS_PER_BIB = 10, 10
LOCATIONS = ("rs_shared_1", "rs_shared_2", "rs_shared_3")


@dataclass(frozen=True)
class Target:
    scf: float
    member: float | None


TARGETS = {
    "new": Target(3.5, 1.0),
    "unchanged": Target(0.0, 1.0),
    "changed": Target(2.0, 1.0),
    "delete": Target(2.0, None),
}


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _record(mms_id: str, barcodes: Sequence[tuple[str, str]], nz_id: str | None) -> str:
    nz = (
        f'<datafield tag="035" ind1=" " ind2=" "><subfield code="a">(EXLNZ-01AAA_NETWORK){nz_id}'
        "</subfield></datafield>"
        if nz_id
        else ""
    )
    items = "".join(
        f'<datafield tag="ITM" ind1=" " ind2=" "><subfield code="b">{b}</subfield>'
        f'<subfield code="c">CDRS</subfield><subfield code="l">{loc}</subfield></datafield>'
        for b, loc in barcodes
    )
    return (
        "<record><leader>00000cam a2200000 i 4500</leader>"
        f'<controlfield tag="001">{mms_id}</controlfield>{nz}'
        f'<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Bench title {mms_id}'
        f"</subfield></datafield>{items}</record>"
    )


def seed(state: FakeAlmaState) -> tuple[bytes, list[str]]:
    """10 member bibs of 10 items in remote storage; the publishing file and the barcodes."""
    records, barcodes = [], []
    for b in range(BIBS):
        mms_id = f"99BENCH{b:02d}4201"
        nz_id = state.add_nz_bib(title=f"Bench NZ title {b}").mms_id if b % 2 == 0 else None
        copies = []
        for n in range(ITEMS_PER_BIB):
            barcode, location = f"CDB{b:02d}{n:02d}", LOCATIONS[n % len(LOCATIONS)]
            state.seed_item(
                MEMBER,
                barcode=barcode,
                library="CDRS",
                location=location,
                mms_id=mms_id,
                nz_mms_id=nz_id,
                title=f"Bench title {mms_id}",
                item_data={"description": "v.1"},
            )
            copies.append((barcode, location))
            barcodes.append(barcode)
        records.append(_record(mms_id, copies, nz_id))
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n<collection>' + "".join(records)
    return (xml + "</collection>\n").encode(), barcodes


async def measure() -> list[tuple[str, int, int, int]]:
    conf = json.loads((REPOSITORY / "examples" / "conf.json").read_text())
    settings = settings_from_bytes(json.dumps(conf).encode(), {}, source="examples/conf.json")
    state = state_from_file()
    faults = FaultInjector(FaultConfig(enforce_thresholds=False), clock=state.clock)
    client = AlmaHttpClient(
        settings.gateway,
        rate_per_second=1000,
        retry=RetryPolicy(wait_initial=0.001, wait_max=0.01),
        transport=httpx.ASGITransport(app=create_fake_alma_app(state, faults)),
    )
    remote = MemoryFiles()
    folder = f"{settings.file_server.main_folder}/{MEMBER}/items"
    xml, barcodes = seed(state)
    rows: list[tuple[str, int, int, int]] = []
    with tempfile.TemporaryDirectory() as work:
        bridge = BridgePorts(
            settings=settings,
            alma=HttpAlmaDirectory(settings, client),
            ledger=MemoryLedger(FixedClock()),
            files=InMemoryFileTransfer(remote),
            publishing=MarcPublishingFiles(),
            request_files=XmlRequestFiles(),
            reports=MemoryFailureReports(),
            clock=FixedClock(),
            work_dir=Path(work),
        )

        async def run(situation: str, name: str, expect: str) -> None:
            remote.put(f"{folder}/{name}", xml)
            state.call_log.clear()
            summary: ItemSyncSummary = await item_sync(bridge).run(MEMBER)
            if getattr(summary, expect) != len(barcodes):
                raise SystemExit(f"{situation}: expected {expect} for all items, got {summary}")
            scf = len(state.call_log.records(institution=SCF))
            member = len(state.call_log.records(institution=MEMBER))
            rows.append((situation, len(barcodes), scf, member))

        await run("new", "CD_1_new.xml", "created")
        await run("unchanged", "CD_2_new.xml", "unchanged")
        for barcode in barcodes:
            item = state.find_item(MEMBER, barcode)
            assert item is not None
            item.data["description"] = "v.2"
        await run("changed", "CD_3_new.xml", "updated")
        for barcode in barcodes:  # SCF staff return the transit loans on arrival
            scf_item = state.find_item(SCF, barcode + "X")
            assert scf_item is not None
            state.scan_in(
                SCF,
                scf_item.mms_id,
                scf_item.holding_id,
                scf_item.pid,
                library="RS",
                circ_desk="DEFAULT_CIRC_DESK",
                done=True,
            )
        await run("delete", "CD_4_delete.xml", "deleted")
    await client.aclose()
    return rows


def main() -> int:
    rows = asyncio.run(measure())
    header = (
        f"{'situation':<10} {'items':>5} {'SCF calls':>9} {'SCF/item':>8} {'target':>7} "
        f"{'member calls':>12} {'member/item':>11} {'target':>7}  ok"
    )
    print(header)
    print("-" * len(header))
    all_ok = True
    for situation, items, scf, member in rows:
        target = TARGETS[situation]
        scf_each, member_each = scf / items, member / items
        ok = scf_each <= target.scf and (target.member is None or member_each <= target.member)
        all_ok &= ok
        member_target = "-" if target.member is None else f"<={target.member:g}"
        scf_target = f"<={target.scf:g}"
        print(
            f"{situation:<10} {items:>5} {scf:>9} {scf_each:>8.2f} {scf_target:>7} "
            f"{member:>12} {member_each:>11.2f} {member_target:>7}  {'yes' if ok else 'NO'}"
        )
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
