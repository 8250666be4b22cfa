"""Items-sync throughput against the SCF's 25 calls/s and against a model of the Java app, issue 8.

The fake Alma runs under real uvicorn on 127.0.0.1 with 150 ms latency on every call and Alma's
per-second threshold of 25 calls per institution (a 26th call in a sliding second gets a 429).
The bridge reaches it over TCP through the real HTTP adapter, built as the service builds it
(`AlmaHttpClient` with its per-institution throttle and default retry policy,
`HttpAlmaDirectory`), with a migrated SQLite file ledger (``--ledger memory`` to rule SQLite out).

Two members publish, one archive each (`.tar.gz`, as Alma's publishing writes them):

* **new**: 01AAA_AB publishes ``--items`` new items (default 2,000) over ``--bibs`` bibs
  (default 200, half linked to the Network Zone, half local), none of them in the SCF yet:
  bib, holding, item and transit loan are created;
* **changed**: 01AAA_CD publishes as many items whose SCF mirrors exist (made by a bridge sync in
  an untimed setup, with no latency nor thresholds, so they are in the SCF and in the ledger) and
  whose description then changed at the member: each mirror is read and PUT.

The two syncs run one after the other, not at once. The SCF is one institution with one 25/s
ceiling shared by every member's sync, and it is the bottleneck, so running them together would
take the same total time; apart, each phase's items/s and call rate are its own, and the new
items can be compared with the Java model. Each phase is timed from `SyncJobs.items_job` to its
return: the JobRunner's run and its record per item and file, fetching, unpacking and parsing the
archive included. Calls are counted from the fake's call
log, split by institution: "SCF calls" are the calls the SCF admitted (429s are counted apart),
and the achieved SCF call rate is those calls divided by the phase's wall time, printed as a
fraction of 25/s. The throttle itself allows 25 starts per 1.02 s (ADR 0004), i.e. 0.980 of the
ceiling at most; the rate between the first and the last SCF call is printed too ("busy").

``max_number_of_threads`` is 4 by default (``--threads``), the Java sample conf.json's value that
sites keep when they move. It is only the floor of items in flight: the first item of each bib
makes three SCF calls in a row (find the bib, create it, create its holding) while the bib's
other items wait, so 4 items in flight used 0.56 of 25/s (issue 13). The items sync adds items
while the SCF's limiter has calls to spare (ADR 0004); the report prints the most it had.

The fake shares this process, so its seeded state would make every full garbage collection
longer (pauses of 0.15-0.4 s were seen), and a pause that delays calls already admitted by the
throttle by more than its 0.05 s margin squeezes them into one of the fake's seconds: a 429,
which pauses every SCF call for 1 s. The seeded state is frozen out of the collector
(`gc.freeze`) before the timed phases; the bridge's own objects are still swept, and event-loop
stalls of 50-75 ms still cost about one 429 per 2,000 SCF calls.

The Java model runs against a fresh copy of the same fake (same latency and threshold), on the
first ``--java-sample`` items (default a fifth of ``--items``, at most 120: the Java model's time
does not shrink with the archive) of the same new-items archive, rounded up to whole records and
to a multiple of 4 records so that no worker idles while others work. It is 4 worker
threads with synchronous httpx calls, each taking whole records (its items in order, as the Java
app handles a file's records), with per item the calls of `research/scf-java-app.md` §6.3-6.4:
GET `{b}X` by barcode at the SCF, the bib by NZ id or other-system id (POST it when absent), the
bib's holdings when the bib existed (POST a holding when none matches rule (a), which for a
member location the SCF lacks is every time: the Java duplicate-holdings bug), the SCF library's
locations once per process, the member item by barcode (302 + GET), POST the item, sleep 3 s,
POST the loan. API key as a query parameter, no throttle, no retry of a 429 (the item fails,
§8). The real app gives one file to one thread, so a single archive runs on one thread: the
4-worker model is up to 4x kinder to Java than the real thing.

Targets: both phases at >= 0.95 of 25/s, and >= 12x the Java model's items/s on new items.
Prints a table and PASS/FAIL; exits 1 on a miss. Run from the repository root:
``.venv/bin/python bench/sync_throughput.py`` (about 10 minutes: an untimed setup of about
a minute, 2 x ~3 minutes of syncs bound by the SCF's ceiling, 2 minutes of Java model);
``--items 200 --bibs 20`` for a smoke run of about 1.5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from entrypoints.bridge_wiring import sync_jobs

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

import entrypoints  # noqa: E402, F401  (its warning filters go in before asyncssh is imported)
from adapters.alma_http.client import AlmaHttpClient, RetryPolicy  # noqa: E402
from adapters.fake_alma.app import create_fake_alma_app  # noqa: E402
from adapters.fake_alma.call_log import CallRecord  # noqa: E402
from adapters.fake_alma.faults import FaultConfig, FaultInjector  # noqa: E402
from adapters.fake_alma.seed import state_from_file  # noqa: E402
from adapters.fake_alma.state import FakeAlmaState  # noqa: E402
from adapters.ledger.clock import SystemClock  # noqa: E402
from adapters.ledger.memory import MemoryLedger  # noqa: E402
from adapters.ledger.migrate import upgrade  # noqa: E402
from adapters.ledger.sql import SqlLedger  # noqa: E402
from adapters.scf.alma_directory import HttpAlmaDirectory  # noqa: E402
from adapters.scf.config.loader import settings_from_bytes  # noqa: E402
from adapters.scf.formats.publishing import MarcPublishingFiles  # noqa: E402
from adapters.scf.formats.request_xml import XmlRequestFiles  # noqa: E402
from adapters.scf.reports.csv_reports import MemoryFailureReports  # noqa: E402
from adapters.transfer.memory import InMemoryFileTransfer, MemoryFiles  # noqa: E402
from application.ports.ledger import Ledger  # noqa: E402
from application.scf.items.item_sync import ItemSyncSummary  # noqa: E402
from application.scf.settings import Settings  # noqa: E402
from entrypoints.bridge_wiring import BridgePorts  # noqa: E402
from entrypoints.demo.alma_files import (  # noqa: E402
    PublishedItem,
    PublishedRecord,
    marc_record,
    publishing_archive,
)
from entrypoints.demo.servers import http_server  # noqa: E402

NEW_MEMBER, CHANGED_MEMBER, SCF = "01AAA_AB", "01AAA_CD", "01AAA_RS"
KEYS = {NEW_MEMBER: "ab-example-key", CHANGED_MEMBER: "cd-example-key", SCF: "scf-example-key"}
PLACES = {
    NEW_MEMBER: ("ABRS", ("rs_shared_in_ab",)),
    CHANGED_MEMBER: ("CDRS", ("rs_shared_1", "rs_shared_2", "rs_shared_3")),
}
SCF_LIBRARY, SCF_DEFAULT_LOCATION, SCF_DESK = "RS", "rs_shared", "DEFAULT_CIRC_DESK"
CEILING = 25
LATENCY = 0.15
TARGET_FRACTION = 0.95
TARGET_RATIO = 12.0
JAVA_WORKERS = 4
JAVA_LOAN_SLEEP = 3.0
JAVA_DEFAULT_SAMPLE = 120


# ---- the consortium ----------------------------------------------------------------------------


def seed_member(
    state: FakeAlmaState, institution: str, items: int, bibs: int, tag: str
) -> list[PublishedRecord]:
    """`items` remote-storage items of `institution` over `bibs` bibs (even ones linked to the
    NZ), seeded at the member; the published records, in file order."""
    library, locations = PLACES[institution]
    records = []
    for b in range(bibs):
        count = items // bibs + (1 if b < items % bibs else 0)
        title = f"Throughput {tag} record {b} /"
        nz_id = state.add_nz_bib(title=title).mms_id if b % 2 == 0 else None
        mms_id: str | None = None
        published = []
        for n in range(count):
            barcode, location = f"{tag}{b:04d}{n:03d}", locations[n % len(locations)]
            seeded = state.seed_item(
                institution,
                barcode=barcode,
                library=library,
                location=location,
                mms_id=mms_id,
                nz_mms_id=nz_id,
                title=title,
                item_data={"description": "v.1"},
            )
            mms_id = seeded.mms_id
            published.append(PublishedItem(barcode, library, location))
        if mms_id is not None:
            records.append(PublishedRecord(mms_id, title, tuple(published), nz_id))
    return records


def archive_name(institution: str, stamp: str) -> str:
    return f"{institution}_publishing_{stamp}[001]_new"


def settings_for(gateway: str, work: Path, threads: int) -> Settings:
    conf = json.loads((REPOSITORY / "examples" / "conf.json").read_text())
    conf.update(
        gateway=gateway,
        main_local_folder=str(work),
        max_number_of_threads=threads,
        alma_rate_limit_per_second=CEILING,
    )
    return settings_from_bytes(json.dumps(conf).encode(), {}, source="bench/sync_throughput.py")


# ---- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One timed run: items, wall time and the calls the fake saw meanwhile."""

    phase: str
    items: int
    seconds: float
    scf_calls: int
    member_calls: int
    rate_limited: int
    busy_seconds: float
    failed: int = 0
    in_flight: int = 0
    """The most items (or Java threads) at work at once."""

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def scf_rate(self) -> float:
        return self.scf_calls / self.seconds if self.seconds else 0.0

    @property
    def busy_rate(self) -> float:
        return (self.scf_calls - 1) / self.busy_seconds if self.busy_seconds else 0.0

    @property
    def fraction(self) -> float:
        return self.scf_rate / CEILING


def measured(
    phase: str,
    items: int,
    seconds: float,
    calls: Sequence[CallRecord],
    member: str,
    failed: int,
    in_flight: int,
) -> Measured:
    scf = [c for c in calls if c.institution == SCF and c.status != 429]
    times = sorted(c.time.timestamp() for c in scf)
    return Measured(
        phase=phase,
        items=items,
        seconds=seconds,
        scf_calls=len(scf),
        member_calls=len([c for c in calls if c.institution == member and c.status != 429]),
        rate_limited=len([c for c in calls if c.status == 429]),
        busy_seconds=times[-1] - times[0] if len(times) > 1 else 0.0,
        failed=failed,
        in_flight=in_flight,
    )


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- the bridge ----------------------------------------------------------------------------------


@dataclass
class BridgeRig:
    """The bridge's ports over one settings, one ledger and one in-memory file server."""

    settings: Settings
    ledger: Ledger
    remote: MemoryFiles
    work: Path
    clients: list[AlmaHttpClient] = field(default_factory=list)

    def bridge(self, client: AlmaHttpClient) -> BridgePorts:
        self.clients.append(client)
        return BridgePorts(
            settings=self.settings,
            alma=HttpAlmaDirectory(self.settings, client),
            ledger=self.ledger,
            files=InMemoryFileTransfer(self.remote),
            publishing=MarcPublishingFiles(),
            request_files=XmlRequestFiles(),
            reports=MemoryFailureReports(),
            clock=SystemClock(),
            work_dir=self.work / "files",
        )

    def publish(self, institution: str, name: str, records: Sequence[PublishedRecord]) -> None:
        folder = f"{self.settings.file_server.main_folder}/{institution}/items"
        self.remote.put(f"{folder}/{name}.tar.gz", publishing_archive(name, records))


async def sync(bridge: BridgePorts, institution: str, expect: str, items: int) -> ItemSyncSummary:
    # Through the JobRunner, as the worker runs it: the run and its records are measured too.
    summary = (await sync_jobs(bridge).items_job(institution)).items
    if getattr(summary, expect) != items:
        counts = {result.value: n for result, n in summary.counts.items()}
        raise SystemExit(f"{institution}: expected {items} {expect}, got {counts}")
    return summary


async def open_ledger(kind: str, folder: Path) -> Ledger:
    if kind == "memory":
        return MemoryLedger(SystemClock())
    url = f"sqlite:///{folder / 'ledger.db'}"
    await upgrade(url)
    return SqlLedger.from_url(url, SystemClock())


async def mirror_beforehand(
    rig: BridgeRig, state: FakeAlmaState, faults: FaultInjector, records: Sequence[PublishedRecord]
) -> None:
    """Untimed: the changed member's mirrors made by the bridge (no latency, no thresholds, an
    unthrottled client), so they are in the SCF and the ledger; then the member changes them."""
    items = sum(len(r.items) for r in records)
    progress(f"setup: mirroring {items} items of {CHANGED_MEMBER} (untimed)")
    faults.configure(latency=0.0, enforce_thresholds=False)
    fast = AlmaHttpClient(
        rig.settings.gateway, rate_per_second=1000, retry=RetryPolicy(wait_initial=0.01)
    )
    rig.publish(CHANGED_MEMBER, archive_name(CHANGED_MEMBER, "20261121_020000"), records)
    await sync(rig.bridge(fast), CHANGED_MEMBER, "created", items)
    for record in records:
        for item in record.items:
            found = state.find_item(CHANGED_MEMBER, item.barcode)
            assert found is not None
            found.data["description"] = "v.2"
    faults.configure(latency=LATENCY, enforce_thresholds=True)
    faults.reset_usage()


async def run_bridge(args: argparse.Namespace) -> list[Measured]:
    state = state_from_file()
    faults = FaultInjector(
        FaultConfig(latency=LATENCY, per_second_threshold=CEILING), clock=state.clock
    )
    new_records = seed_member(state, NEW_MEMBER, args.items, args.bibs, "NEW")
    changed_records = seed_member(state, CHANGED_MEMBER, args.items, args.bibs, "CHG")
    phases = (
        ("new", NEW_MEMBER, new_records, "created"),
        ("changed", CHANGED_MEMBER, changed_records, "updated"),
    )
    rows: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="almabridge-bench-") as folder:
        work = Path(folder)
        async with http_server(create_fake_alma_app(state, faults)) as gateway:
            settings = settings_for(gateway, work, args.threads)
            ledger = await open_ledger(args.ledger, work)
            rig = BridgeRig(settings, ledger, MemoryFiles(), work)
            # As the service builds it (entrypoints/container.py): one client, default retries.
            client = AlmaHttpClient(
                settings.gateway, rate_per_second=settings.alma_rate_limit_per_second
            )
            bridge = rig.bridge(client)
            try:
                await mirror_beforehand(rig, state, faults, changed_records)
                # The fake's seeded state shares this process only because this is a bench:
                # keep the collector from rescanning it (the bridge's own heap is still swept).
                gc.collect()
                gc.freeze()
                await asyncio.sleep(1.5)  # nothing of the setup left in any sliding window
                for phase, member, records, expect in phases:
                    rig.publish(member, archive_name(member, "20261122_020000"), records)
                    progress(f"{phase}: syncing {args.items} items of {member}")
                    state.call_log.clear()
                    started = time.perf_counter()
                    summary = await sync(bridge, member, expect, args.items)
                    seconds = time.perf_counter() - started
                    calls = list(state.call_log)
                    rows.append(
                        measured(
                            phase,
                            args.items,
                            seconds,
                            calls,
                            member,
                            summary.failed,
                            summary.most_in_flight,
                        )
                    )
                    progress(f"{phase}: {seconds:.1f} s")
            finally:
                gc.unfreeze()
                for each in rig.clients:
                    await each.aclose()
                close = getattr(ledger, "close", None)
                if close is not None:
                    await close()
    return rows


# ---- the Java model ------------------------------------------------------------------------------


class JavaModel:
    """The Java app's items handler (§6.3–6.4), one synchronous httpx client per worker."""

    def __init__(self, gateway: str, institution: str) -> None:
        self._gateway = gateway
        self._inst = institution
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        self._clients_lock = threading.Lock()
        self._locations: set[str] = set()  # static, per process, not thread-safe (§6.4)
        self.failures: Counter[str] = Counter()
        self.loans_failed = 0

    def _client(self) -> httpx.Client:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            # Java: connect timeout 20 s, read timeout 500 s, redirects followed (§8).
            client = httpx.Client(
                base_url=self._gateway,
                follow_redirects=True,
                timeout=httpx.Timeout(500.0, connect=20.0),
                headers={"Accept": "application/json"},
            )
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _send(
        self, method: str, path: str, key: str, params: dict[str, str], body: Any = None
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        content: bytes | None = None
        if body is not None:
            if isinstance(body, dict):
                headers["Content-Type"] = "application/json"
                content = json.dumps(body).encode()
            else:
                headers["Content-Type"] = "application/xml"
                content = str(body).encode()
        query = {**params, "apikey": KEYS[key]}
        return self._client().request(
            method, f"/almaws/v1{path}", params=query, content=content, headers=headers
        )

    def handle_record(self, record: PublishedRecord) -> int:
        """Every ITM of one record, in order; the number of items mirrored."""
        done = 0
        for item in record.items:
            try:
                self._item_updated(record, item)
                done += 1
            except JavaItemFailed as failure:
                self.failures[str(failure)] += 1
        return done

    def _item_updated(self, record: PublishedRecord, item: PublishedItem) -> None:
        scf = self._send("GET", "/items", SCF, {"item_barcode": f"{item.barcode}X"})
        _check(scf, "GET SCF item", absent_ok=True)
        if scf.status_code != 400:
            raise JavaItemFailed("the SCF item exists already (the model creates only)")
        mms_id, created = self._bib(record)
        holding_id = None if created else self._matching_holding(mms_id, item.location)
        if holding_id is None:
            holding_id = self._create_holding(mms_id, item.location)
        member = self._send("GET", "/items", self._inst, {"item_barcode": item.barcode})
        _check(member, "GET member item")
        body = member.json()
        body["item_data"]["barcode"] = f"{item.barcode}X"
        body["item_data"]["provenance"] = {"value": self._inst}
        for key in (
            "po_line",
            "library",
            "location",
            "policy",
            "internal_note_1",
            "internal_note_3",
            "call_number",
        ):
            body["item_data"].pop(key, None)
        for key in ("temp_library", "in_temp_location", "temp_location", "temp_policy"):
            body["holding_data"].pop(key, None)
        made = self._send("POST", f"/bibs/{mms_id}/holdings/{holding_id}/items", SCF, {}, body)
        _check(made, "POST SCF item")
        pid = made.json()["item_data"]["pid"]
        time.sleep(JAVA_LOAN_SLEEP)  # SCFUtil.createSCFLoan: unconditional
        loan = self._send(
            "POST",
            f"/users/{self._inst}-{item.library}/loans",
            SCF,
            {"item_pid": pid},
            {"circ_desk": {"value": SCF_DESK}, "library": {"value": SCF_LIBRARY}},
        )
        if not loan.is_success:
            self.loans_failed += 1  # only logged by the Java app

    def _bib(self, record: PublishedRecord) -> tuple[str, bool]:
        """The SCF bib's MMS id and whether it was created now."""
        view = {"view": "full", "expand": "p_avail"}
        if record.nz_mms_id:
            found = self._send("GET", "/bibs", SCF, {"nz_mms_id": record.nz_mms_id, **view})
        else:
            other = f"({self._inst}){record.mms_id}"
            found = self._send("GET", "/bibs", SCF, {"other_system_id": other, **view})
        _check(found, "GET bib", absent_ok=True)
        if found.status_code == 200 and str(found.json().get("total_record_count")) != "0":
            return str(found.json()["bib"][0]["mms_id"]), False
        flags = {"validate": "false", "override_warning": "true"}
        if record.nz_mms_id:
            query = {"from_nz_mms_id": record.nz_mms_id, "normalization": "null", **flags}
            made = self._send("POST", "/bibs", SCF, {**query, "format": "json"}, "<bib></bib>")
        else:
            made = self._send(
                "POST", "/bibs", SCF, {**flags, "format": "xml"}, self._local_bib(record)
            )
        _check(made, "POST bib")
        return str(made.json()["mms_id"]), True

    def _local_bib(self, record: PublishedRecord) -> str:
        """The published record plus 035 `({INST}){mms}`, AVA removed, ITM kept (§6.4)."""
        xml = marc_record(record)
        ava = '<datafield tag="AVA" ind1=" " ind2=" "><subfield code="b">X</subfield></datafield>'
        own = (
            '<datafield tag="035" ind1=" " ind2=" "><subfield code="a">'
            f"({self._inst}){record.mms_id}</subfield></datafield>"
        )
        return "<bib>" + xml.replace(ava, "").replace("</record>", own + "</record>") + "</bib>"

    def _matching_holding(self, mms_id: str, location: str) -> str | None:
        """Rule (a) only: the SCF institution is not in `institutions[]` (examples/conf.json)."""
        listed = self._send("GET", f"/bibs/{mms_id}/holdings", SCF, {})
        _check(listed, "GET holdings")
        for holding in listed.json().get("holding") or []:
            library = (holding.get("library") or {}).get("value")
            if library == SCF_LIBRARY and (holding.get("location") or {}).get("value") == location:
                return str(holding["holding_id"])
        return None

    def _create_holding(self, mms_id: str, location: str) -> str:
        if not self._locations:
            codes = self._send("GET", f"/conf/libraries/{SCF_LIBRARY}/locations", SCF, {})
            _check(codes, "GET locations")
            self._locations.update(loc["code"] for loc in codes.json().get("location") or [])
        where = location if location in self._locations else SCF_DEFAULT_LOCATION
        xml = (
            '<holding><record><datafield ind1="0" ind2=" " tag="852">'
            f'<subfield code="b">{SCF_LIBRARY}</subfield><subfield code="c">{where}</subfield>'
            "</datafield></record><suppress_from_publishing>false</suppress_from_publishing>"
            "</holding>"
        )
        made = self._send("POST", f"/bibs/{mms_id}/holdings", SCF, {}, xml)
        _check(made, "POST holding")
        return str(made.json()["holding_id"])

    def close(self) -> None:
        with self._clients_lock:
            for client in self._clients:
                client.close()
            self._clients.clear()


class JavaItemFailed(Exception):
    """The item failed as the Java app's would: a report row, no retry."""


def _check(response: httpx.Response, what: str, *, absent_ok: bool = False) -> None:
    if response.status_code == 429:
        raise JavaItemFailed(f"{what}: 429 (never retried by the Java app)")
    if response.is_success or (absent_ok and response.status_code == 400):
        return
    raise JavaItemFailed(f"{what}: HTTP {response.status_code}")


def java_sample(records: Sequence[PublishedRecord], size: int) -> list[PublishedRecord]:
    """Whole records from the start of the archive: at least `size` items, and a multiple of
    the worker count of records, so that no worker idles at the end while others still work."""
    sample: list[PublishedRecord] = []
    for record in records:
        enough = sum(len(r.items) for r in sample) >= size
        if enough and len(sample) % JAVA_WORKERS == 0:
            break
        sample.append(record)
    return sample


def run_java_workers(model: JavaModel, records: Sequence[PublishedRecord]) -> int:
    """The 4 workers over the records; the number of items mirrored."""
    try:
        with ThreadPoolExecutor(max_workers=JAVA_WORKERS, thread_name_prefix="java") as pool:
            return sum(pool.map(model.handle_record, records))
    finally:
        model.close()


async def run_java(args: argparse.Namespace) -> Measured:
    state = state_from_file()
    faults = FaultInjector(
        FaultConfig(latency=LATENCY, per_second_threshold=CEILING), clock=state.clock
    )
    records = seed_member(state, NEW_MEMBER, args.items, args.bibs, "NEW")
    sample = java_sample(records, args.java_sample)
    size = sum(len(r.items) for r in sample)
    async with http_server(create_fake_alma_app(state, faults)) as gateway:
        model = JavaModel(gateway, NEW_MEMBER)
        progress(f"java model: {size} new items, {JAVA_WORKERS} workers")
        state.call_log.clear()
        started = time.perf_counter()
        done = await asyncio.to_thread(run_java_workers, model, sample)
        seconds = time.perf_counter() - started
        calls = list(state.call_log)
    if model.failures:
        progress(f"java model failures: {dict(model.failures)}")
    progress(f"java model: {seconds:.1f} s, {done} mirrored, {model.loans_failed} loans failed")
    return measured("java model", size, seconds, calls, NEW_MEMBER, size - done, JAVA_WORKERS)


# ---- the report ----------------------------------------------------------------------------------


def combined(rows: Sequence[Measured]) -> Measured:
    return Measured(
        phase="both",
        items=sum(r.items for r in rows),
        seconds=sum(r.seconds for r in rows),
        scf_calls=sum(r.scf_calls for r in rows),
        member_calls=sum(r.member_calls for r in rows),
        rate_limited=sum(r.rate_limited for r in rows),
        busy_seconds=sum(r.busy_seconds for r in rows),
        failed=sum(r.failed for r in rows),
        in_flight=max(r.in_flight for r in rows),
    )


def line(row: Measured) -> str:
    return (
        f"{row.phase:<10} {row.items:>6} {row.seconds:>8.1f} {row.items_per_second:>8.2f} "
        f"{row.scf_calls / row.items:>9.2f} {row.member_calls / row.items:>9.2f} "
        f"{row.scf_rate:>8.2f} {row.fraction:>7.3f} {row.busy_rate:>7.2f} {row.rate_limited:>5} "
        f"{row.in_flight:>9}"
    )


def report(
    args: argparse.Namespace, rows: Sequence[Measured], java: Measured | None, machine: str
) -> bool:
    ledger = "SQLite file (migrated)" if args.ledger == "sqlite" else "in memory"
    print(machine)
    print(
        f"fake Alma under uvicorn: {LATENCY * 1000:.0f} ms per call, {CEILING} calls/s per "
        f"institution; bridge: max_number_of_threads={args.threads}, "
        f"alma_rate_limit_per_second={CEILING}, ledger {ledger}"
    )
    print(
        f"new: {NEW_MEMBER}, {args.items} new items over {args.bibs} bibs; changed: "
        f"{CHANGED_MEMBER}, {args.items} items with their mirrors in the SCF and the ledger, "
        "description changed; run one after the other"
    )
    header = (
        f"{'phase':<10} {'items':>6} {'seconds':>8} {'items/s':>8} {'SCF/item':>9} "
        f"{'memb/item':>9} {'SCF/s':>8} {'of 25/s':>7} {'busy/s':>7} {'429s':>5} "
        f"{'in flight':>9}"
    )
    print()
    print(header)
    print("-" * len(header))
    for row in [*rows, combined(rows)]:
        print(line(row))
    if java is not None:
        print(line(java))
    print("-" * len(header))
    print(
        "SCF/s = SCF calls admitted / wall time of SyncJobs.items_job; of 25/s = SCF/s / 25; "
        "busy/s = SCF calls / (last SCF call - first); 429s = both institutions; in flight = "
        f"most items at once (threads for Java); the bridge's floor is {args.threads}"
    )
    ok = True
    for row in rows:
        hit = row.fraction >= TARGET_FRACTION and row.failed == 0
        ok &= hit
        print(
            f"{'PASS' if hit else 'FAIL'}  {row.phase}: SCF call rate {row.fraction:.3f} of "
            f"{CEILING}/s (target >= {TARGET_FRACTION}), {row.failed} failed items"
        )
    if java is not None:
        new = next(r for r in rows if r.phase == "new")
        ratio = new.items_per_second / java.items_per_second if java.items_per_second else 0.0
        print(
            f"java model: {JAVA_WORKERS} workers, first {java.items} new items (whole records), "
            f"3 s sleep before each loan: {java.items_per_second:.3f} items/s, "
            f"{java.failed} failed"
        )
        hit = ratio >= TARGET_RATIO
        ok &= hit
        print(
            f"{'PASS' if hit else 'FAIL'}  new items: bridge {new.items_per_second:.2f} items/s "
            f"= {ratio:.1f}x the Java model (target >= {TARGET_RATIO:g}x)"
        )
    return ok


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=2000, help="items per archive")
    parser.add_argument("--bibs", type=int, default=200, help="bibs per archive")
    parser.add_argument(
        "--java-sample",
        type=int,
        default=None,
        help="new items the Java model handles, rounded up to whole records (0: skip; "
        "default: a fifth of --items, at most 120)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="max_number_of_threads (default 4, the Java sample conf.json's): the floor of items "
        "in flight; the bridge adds more while the SCF's limiter wants calls",
    )
    parser.add_argument("--ledger", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args(argv)
    if args.items < 1 or not 1 <= args.bibs <= args.items:
        parser.error("need 1 <= --bibs <= --items")
    if args.java_sample is None:
        args.java_sample = min(JAVA_DEFAULT_SAMPLE, max(JAVA_WORKERS, args.items // 5))
    return args


async def measure(args: argparse.Namespace) -> tuple[list[Measured], Measured | None]:
    rows = await run_bridge(args)
    java = await run_java(args) if args.java_sample > 0 else None
    return rows, java


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    before, started = os.getloadavg()[0], time.perf_counter()
    rows, java = asyncio.run(measure(args))
    machine = (
        f"{os.cpu_count()} CPUs, load average {before:.2f} at the start and "
        f"{os.getloadavg()[0]:.2f} at the end; whole script {time.perf_counter() - started:.0f} s"
    )
    return 0 if report(args, rows, java, machine) else 1


if __name__ == "__main__":
    raise SystemExit(main())
