"""Fault storms in the fake Alma during an items sync and a requests sync (rules A3, R7, I1–I13).

The same consortium is run twice, each time from a fresh fake Alma over a real HTTP port:
once fault-free, once in a storm (≈20 % 5xx, random bursts of 429 `PER_SECOND_THRESHOLD`,
2-second stalls, connection resets). Resets come in both kinds a network has: before Alma serves
the call (the fake's `drop`), and after Alma carried a write out, its answer lost (`LateResets`,
on bib and holding creations, item creations, loans, request placements and cancellations), so
the bridge meets what its first attempt did. The final Alma state of both runs is compared,
normalised (Alma ids depend on the order calls arrive in, so mirrors are compared by barcode, bibs
by their NZ id or 035, requests by the member request they stand for).

How the bridge is driven is how the service drives it: `JOB_END` webhooks are stored in the
inbox and the service's `InboxWorker` with its `BridgeHandlers` runs them. A sync that leaves work
over (a request file held open because a request failed transiently, rule R7) raises
`SyncIncomplete`, so the worker retries the message after its backoff, exactly as in production
(where Alma would not even need to send anything again). Items are retried by the HTTP adapter
within the production number of attempts (A3); the storm is sized so that an item that still
failed would be a lost effect, and the test would say so.

Storm sizes: 80 mirrors over 14 bibs in two institutions, 20 member requests (holds, patron and
staff digitizations, title-level requests, and requests that must be cancelled for a business
reason in both runs). Bounded: every drain has a deadline; 2-second stalls are ridden over by the
client's 30 s read timeout (the production default).

Bibs and holdings (I7, I8): Alma has no natural key that refuses a second one, so a blind
retry of a POST whose answer was lost would duplicate them. The HTTP adapter does not repeat those
POSTs once they may have reached Alma (a reset or timeout after sending, a 502/504 from the
gateway: `AlmaOutcomeUnknown`); the catalog looks the record up and creates again only when it is
absent. The storm resets them too, and its 502/504s and drops hit them as well; `extra` below
counts any duplicate bib or holding.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp

from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import state_from_file
from adapters.fake_alma.state import FakeAlmaState
from entrypoints.demo import webhooks
from tests.reliability import tally
from tests.reliability.support import (
    LateResets,
    Rig,
    StormInjector,
    faults_seen,
    open_rig,
    table_rows,
)
from tests.scenarios.requests.support import PATRON_DIGITIZATION
from tests.scenarios.world import AB, CD, SCF, collection, marc_record, request_export, tar_gz

HOLD = {"request_type": "HOLD", "pickup_location_type": "USER_HOME_ADDRESS"}
JOBS = {  # examples/conf.json: (publishing job, requests job)
    AB: ("S987654321", "S123456789"),
    CD: ("S123456789", "S987654321"),
}
STORM = FaultConfig(
    error_rate=0.2,
    stall_rate=0.015,
    stall_seconds=2.0,
    drop_rate=0.04,
    enforce_thresholds=False,  # the bursts below stand for Alma's window filling up
)
BURST_RATE = 0.02
BURST_SECONDS = 0.1
"""A full per-second window for a tenth of a second: Alma's 1 s, scaled as the retry waits are."""
STORM_SEED = 20260101
LATE_RESET_RATE = 0.08
LATE_RESET_PATHS = (
    ("POST", r"/holdings/[^/]+/items$"),  # item creation (I9): Alma refuses a second barcode
    ("POST", r"/loans$"),  # transit loans (I10): Alma says "already loaned"
    ("POST", r"/requests$"),  # request placements (R5): the bridge finds its earlier attempt
    ("DELETE", r"/requests/[^/]+$"),  # cancellations (R5, R7, R8)
    ("POST", r"/bibs/[^/]+/holdings$"),  # holding creation (I8): the catalog looks, then creates
    ("POST", r"/almaws/v1/bibs$"),  # local and NZ bib creation (I7, N4): likewise
)
"""Writes whose answer the storm loses after Alma made them. The first one is what
`test_I10_a_mirror_whose_creation_answer_was_lost_is_still_lent` resets. Holdings and bibs are
never repeated blindly (see the module docstring), all the others Alma refuses or the bridge
recognises when repeated."""
DRAIN_SECONDS = 90.0
"""Per drain; a storm run takes about 15 s on a laptop."""


@dataclass
class Consortium:
    """What the scenario seeded: the member requests by label, the expected mirrors."""

    requests: dict[str, tuple[str, str]] = field(default_factory=dict)
    """label → (institution, member request id)."""
    mirrored: set[str] = field(default_factory=set)
    exports: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)


def _seed(state: FakeAlmaState) -> Consortium:
    """AB: 10 bibs × (6 remote-storage items + 1 on open shelves); CD: 4 bibs × 5 items plus one
    on its stacks. Even bibs are NZ-linked. Then the member requests the export will carry."""
    seeded = Consortium()
    ab_records: list[str] = []
    for n in range(10):
        mms, nz = f"99{7000 + n}0000121", (f"99{8000 + n}0000021" if n % 2 == 0 else None)
        copies = [(f"RB{n:02d}A{k}", "ABRS", "rs_shared_in_ab") for k in range(6)]
        if n == 3:
            copies[5] = ("RB03A5+&#", "ABRS", "rs_shared_in_ab")  # rule A5 under fire
        copies.append((f"RB{n:02d}AM", "ABMAIN", "main"))
        ab_records.append(_bib(state, AB, mms, nz, copies, seeded))
    cd_records: list[str] = []
    for n in range(4):
        mms, nz = f"99{7100 + n}0000131", (f"99{8100 + n}0000021" if n % 2 == 0 else None)
        copies = [(f"RC{n}C{k}", "CDRS", f"rs_shared_{1 + k % 2}") for k in range(5)]
        if n == 0:
            copies.append(("RC0CS", "CDRS", "cd_stacks"))
        cd_records.append(_bib(state, CD, mms, nz, copies, seeded))
    seeded.files = {
        AB: {
            "AB_20260101_1_new.tar.gz": _archive("AB_20260101_1_new", ab_records[:5]),
            "AB_20260101_2_new.xml": collection(ab_records[5:]),
        },
        CD: {"CD_20260101_new.tar.gz": _archive("CD_20260101_new", cd_records)},
    }
    _requests(state, seeded)
    return seeded


def _bib(
    state: FakeAlmaState,
    institution: str,
    mms: str,
    nz: str | None,
    copies: list[tuple[str, str, str]],
    seeded: Consortium,
) -> str:
    for barcode, library, location in copies:
        state.seed_item(
            institution,
            barcode=barcode,
            library=library,
            location=location,
            mms_id=mms,
            nz_mms_id=nz,
            title=f"Storm title {mms}",
        )
        if location.startswith("rs_shared"):
            seeded.mirrored.add(barcode)
    items = [{"b": b, "c": c, "l": loc} for b, c, loc in copies]
    return marc_record(mms, items, nz_id=nz, title=f"Storm title {mms}")


def _archive(stem: str, records: list[str]) -> bytes:
    return tar_gz({f"{stem}.xml": collection(records)})


def _requests(state: FakeAlmaState, seeded: Consortium) -> None:
    ab: list[dict[str, object]] = []
    cd: list[dict[str, object]] = []

    def item(label: str, inst: str, barcode: str, user: str, body: dict[str, Any]) -> str:
        member = state.item_by_barcode(inst, barcode)
        made = state.create_item_request(
            inst, member.mms_id, member.holding_id, member.pid, user, body
        )
        seeded.requests[label] = (inst, made.request_id)
        return made.request_id

    def title(label: str, inst: str, mms: str, user: str, body: dict[str, Any]) -> str:
        made = state.create_title_request(inst, mms, user, body)
        seeded.requests[label] = (inst, made.request_id)
        return made.request_id

    def mms_of(inst: str, barcode: str) -> str:
        return state.item_by_barcode(inst, barcode).mms_id

    for n in range(6):  # item holds on mirrors
        barcode = f"RB{n:02d}A0"
        rid = item(f"ab hold {n}", AB, barcode, "ab_patron1", HOLD)
        ab.append({"requestId": rid, "barcode": barcode})
    for n in (6, 7, 8):  # patron item digitizations (each switched off once placed: R5)
        barcode = f"RB{n:02d}A1"
        rid = item(f"ab scan {n}", AB, barcode, "ab_patron2", PATRON_DIGITIZATION)
        ab.append(
            {
                "requestId": rid,
                "requestType": "PHYSICAL_TO_DIGITIZATION",
                "barcode": barcode,
                "mmsId": mms_of(AB, barcode),
            }
        )
    for n in (0, 1):  # staff digitizations for the system user
        barcode = f"RB{n:02d}A2"
        rid = item(f"ab staff {n}", AB, barcode, "ab_patron2", HOLD)
        ab.append(
            {
                "requestId": rid,
                "requestType": "STAFF_PHYSICAL_DIGITIZATION",
                "barcode": barcode,
                "mmsId": mms_of(AB, barcode),
                "libraryCode": "ABRS",
            }
        )
    for n in (6, 7):  # title-level holds (local and NZ-linked bibs)
        mms = mms_of(AB, f"RB{n:02d}A3")
        rid = title(f"ab title {n}", AB, mms, "ab_patron1", HOLD)
        ab.append({"requestId": rid, "mmsId": mms})
    mms = mms_of(AB, "RB09A3")  # a patron title digitization
    rid = title("ab title scan 9", AB, mms, "ab_patron1", PATRON_DIGITIZATION)
    ab.append(
        {
            "requestId": rid,
            "requestType": "PHYSICAL_TO_DIGITIZATION",
            "barcode": "Part 2: scans",
            "mmsId": mms,
            "patron": {"patronIdentifier": "ab_patron1"},
        }
    )
    for n in (0, 1):  # on open shelves, never in the SCF: a business cancellation (R7)
        barcode = f"RB{n:02d}AM"
        rid = item(f"ab off-site {n}", AB, barcode, "ab_patron2", HOLD)
        ab.append({"requestId": rid, "barcode": barcode, "mmsId": mms_of(AB, barcode)})
    for n in range(3):
        barcode = f"RC{n}C0"
        rid = item(f"cd hold {n}", CD, barcode, "cd_patron1", HOLD)
        cd.append({"requestId": rid, "barcode": barcode})
    rid = item("cd stacks", CD, "RC0CS", "cd_patron1", HOLD)
    cd.append({"requestId": rid, "barcode": "RC0CS", "mmsId": mms_of(CD, "RC0CS")})
    seeded.exports = {AB: ab, CD: cd}


# ---- one run --------------------------------------------------------------------------------


@dataclass
class Phase:
    """One sync under test: faults the fake injected, webhook attempts, records read."""

    faults: Counter[str]
    messages: int
    records: int
    calls: int
    cancelled: int = 0
    """Member requests inactive at the end of the phase."""


@dataclass
class Run:
    """What one run left behind, normalised, and what it took."""

    alma: dict[str, Any]
    ledger: dict[str, Any]
    items: Phase
    requests: Phase
    failed_events: list[str]
    late_resets: Counter[str] = field(default_factory=Counter)
    """Writes whose answer was cut off after Alma made them, by `LATE_RESET_PATHS` pattern."""


async def _run(tmp_path: Path, *, storm: bool) -> Run:
    state = state_from_file()
    seeded = _seed(state)
    injector: FaultInjector
    late: list[LateResets] = []

    def late_resets(app: ASGIApp) -> ASGIApp:
        late.append(
            LateResets(
                app,
                rate=LATE_RESET_RATE,
                seed=STORM_SEED,
                paths=LATE_RESET_PATHS,
                first_of_each=True,  # every kind of write meets a lost answer at least once
            )
        )
        return late[0]

    if storm:
        injector = StormInjector(
            STORM,
            seed=STORM_SEED,
            clock=state.clock,
            burst_rate=BURST_RATE,
            burst_seconds=BURST_SECONDS,
        )
    else:
        injector = FaultInjector(FaultConfig(enforce_thresholds=False), clock=state.clock)
    async with open_rig(tmp_path, state, injector, wrap=late_resets if storm else None) as rig:
        worker = rig.worker()
        for inst, files in seeded.files.items():
            for name, data in files.items():
                rig.put(inst, "items", name, data)
        item_jobs = [
            await rig.store_webhook(_job_end(inst, JOBS[inst][0], "Publishing"))
            for inst in (AB, CD)
        ]
        await rig.drain(worker, DRAIN_SECONDS)
        item_faults, item_calls = faults_seen(state.call_log), len(state.call_log)
        cancelled_by_items = sum(
            1 for inst, rid in seeded.requests.values() if not state.request(inst, rid).active
        )
        if late:
            item_faults["late reset"] = len(late[0].resets)

        for inst, export in seeded.exports.items():
            rig.put(inst, "requests", f"{inst}_requests_1.xml", request_export(export))
        request_jobs = [
            await rig.store_webhook(_job_end(inst, JOBS[inst][1], "Requests export"))
            for inst in (AB, CD)
        ]
        await rig.drain(worker, DRAIN_SECONDS)
        request_faults = faults_seen(state.call_log)
        if late:
            request_faults["late reset"] = len(late[0].resets)
        request_faults.subtract(item_faults)
        request_faults = +request_faults

        await _no_file_left(rig)
        rows = await table_rows(rig.database_url)
        failed = [
            f"{e.action} {e.barcode or e.request_id}: {e.message}"
            for e in await rig.events()
            if e.outcome == "failed" and e.action != "webhook.process"
        ]
    inbox = {m["id"]: m for m in rows["inbox_messages"]}
    assert [m["status"] for m in inbox.values()] == ["done"] * 4, inbox
    files = rows["transfer_files"]
    return Run(
        alma=_alma_state(state, seeded),
        ledger=_ledger_state(rows, seeded),
        items=Phase(
            item_faults,
            sum(inbox[i]["attempts"] for i in item_jobs),
            sum(f["records_total"] for f in files if f["kind"] == "items"),
            item_calls,
            cancelled_by_items,
        ),
        requests=Phase(
            request_faults,
            sum(inbox[i]["attempts"] for i in request_jobs),
            sum(f["records_total"] for f in files if f["kind"] == "requests"),
            len(state.call_log) - item_calls,
        ),
        failed_events=failed,
        late_resets=late[0].per_pattern if late else Counter(),
    )


def _job_end(institution: str, job_id: str, name: str) -> bytes:
    return json.dumps(webhooks.job_end(institution, job_id, name)).encode()


async def _no_file_left(rig: Rig) -> None:
    """Every file dropped was claimed: nothing is left in the member folders (I1, R1)."""
    for inst in (AB, CD):
        for kind in ("items", "requests"):
            left = await rig.bridge.files.list_files(rig.folder(inst, kind))
            assert left == [], f"{inst} {kind}: {[f.name for f in left]} never claimed"


def _bib_key(state: FakeAlmaState, mms_id: str) -> str:
    bib = state.institution(SCF).bibs[mms_id]
    return bib.nz_mms_id or "|".join(sorted(bib.other_system_ids()))


def _alma_state(state: FakeAlmaState, seeded: Consortium) -> dict[str, Any]:
    """The SCF and the members' requests, without ids that depend on call order."""
    scf = state.institution(SCF)
    label_of = {rid: label for label, (_inst, rid) in seeded.requests.items()}
    barcode_of = {item.pid: item.barcode for item in scf.items.values()}

    def unlabel(text: str) -> str:
        for rid, label in label_of.items():
            text = text.replace(rid, f"<{label}>")
        return text

    mirrors = []
    for item in scf.items.values():
        holding = scf.holdings[item.holding_id]
        loans = sorted(
            (loan.user_id, loan.library, loan.circ_desk, loan.active)
            for loan in scf.loans.values()
            if loan.item_pid == item.pid
        )
        data = {
            k: v
            for k, v in item.data.items()
            if k not in ("pid", "creation_date", "modification_date", "arrival_date")
        }
        mirrors.append(
            (
                item.barcode,
                _bib_key(state, item.mms_id),
                holding.library,
                holding.location,
                repr(sorted(data.items())),
                tuple(loans),
            )
        )
    scf_requests = [
        (
            _bib_key(state, r.mms_id),
            barcode_of.get(r.item_pid or "", ""),
            r.request_type,
            r.user_primary_id,
            repr(sorted(r.sub_type.items())),
            unlabel(str(r.fields.get("comment", ""))),
            r.active,
            r.cancel_reason or "",
        )
        for r in state.requests_of(SCF)
    ]
    members = [
        (
            label,
            state.request(inst, rid).active,
            state.request(inst, rid).cancel_reason or "",
            state.request(inst, rid).cancel_note or "",
        )
        for label, (inst, rid) in seeded.requests.items()
    ]
    return {
        "mirrors": sorted(mirrors),
        "bibs": sorted(_bib_key(state, mms) for mms in scf.bibs),
        "holdings": sorted(
            (_bib_key(state, h.mms_id), h.library or "", h.location or "")
            for h in scf.holdings.values()
        ),
        "scf requests": sorted(scf_requests),
        "member requests": sorted(members),
    }


def _ledger_state(rows: dict[str, list[dict[str, Any]]], seeded: Consortium) -> dict[str, Any]:
    label_of = {(inst, rid): label for label, (inst, rid) in seeded.requests.items()}
    return {
        "mirrored_items": sorted(
            (r["institution"], r["barcode"], r["state"], r["loaned_at"] is not None)
            for r in rows["mirrored_items"]
        ),
        "forwarded_requests": sorted(
            (label_of[(r["source_institution"], r["source_request_id"])], r["route"], r["status"])
            for r in rows["forwarded_requests"]
        ),
        "files": sorted(
            (f["institution"], f["kind"], f["remote_name"], f["status"], f["records_failed"])
            for f in rows["transfer_files"]
        ),
    }


def _missing(reference: list[Any], other: list[Any]) -> int:
    """How many entries of `reference` (a multiset) `other` lacks."""
    return sum((Counter(reference) - Counter(other)).values())


# ---- the test --------------------------------------------------------------------------------


async def test_A3_R7_a_fault_storm_ends_in_the_fault_free_state_and_cancels_nothing_transient(
    tmp_path: Path,
) -> None:
    """Rules A3 (retries), R7 (never cancel for a transient reason), I1–I13, R1–R8: a storm
    changes how many calls it takes, never what Alma ends up holding."""
    calm = await _run(tmp_path / "calm", storm=False)
    stormy = await _run(tmp_path / "storm", storm=True)

    # The fault-free run is the reference: every remote-storage item mirrored once, nothing failed.
    assert calm.failed_events == [], calm.failed_events
    assert not calm.items.faults
    assert not calm.requests.faults
    assert len(calm.alma["mirrors"]) == 80
    assert calm.items.records == 80 + 10 + 1  # every ITM published, remote storage or not
    assert calm.requests.records == 20
    calm_cancelled = {label for label, active, *_ in calm.alma["member requests"] if not active}
    # Business cancellations (R7) and RequestSwitched (R5) happen in both runs: teeth for below.
    assert {"ab off-site 0", "ab off-site 1", "cd stacks"} <= calm_cancelled

    # The storm really happened, every kind of fault, in both syncs.
    both = stormy.items.faults + stormy.requests.faults
    assert set(both) == {"error", "drop", "stall", "per_second", "late reset"}, both
    # Every kind of write lost an answer after Alma made it, holdings and bibs included (I7, I8).
    assert set(stormy.late_resets) == {pattern for _method, pattern in LATE_RESET_PATHS}
    for phase in (stormy.items, stormy.requests):
        assert sum(phase.faults.values()) >= 0.1 * phase.calls, (phase.faults, phase.calls)

    # Measured: effects the storm lost, duplicated, or cancelled that the calm run did not.
    lost = {part: _missing(calm.alma[part], stormy.alma[part]) for part in calm.alma}
    extra = {part: _missing(stormy.alma[part], calm.alma[part]) for part in calm.alma}
    transient = sorted(
        label
        for label, active, *_ in stormy.alma["member requests"]
        if not active and label not in calm_cancelled
    )
    assert lost == dict.fromkeys(calm.alma, 0), (lost, stormy.failed_events)
    assert extra == dict.fromkeys(calm.alma, 0), extra
    assert transient == [], transient  # rule R7
    assert stormy.items.cancelled == calm.items.cancelled == 0  # nothing waits on items yet
    # Equal final state, part by part: Alma, then the ledger.
    for part in calm.alma:
        assert stormy.alma[part] == calm.alma[part], part
    for part in calm.ledger:
        assert stormy.ledger[part] == calm.ledger[part], part
    # What failed in the storm failed transiently and was retried: a request parked for its
    # file's retry (R7) shows up here, then forwarded on the webhook's next attempt.
    transient_only = "transient failure, retried later"
    assert [e for e in stormy.failed_events if transient_only not in e] == []

    item_parts = ("mirrors", "bibs", "holdings")
    tally.record(
        "fault storm: items sync (5xx, 429 bursts, stalls, resets)",
        faults_injected=sum(stormy.items.faults.values()),
        messages_processed=stormy.items.messages,
        records_processed=stormy.items.records,
        effects_lost=sum(lost[p] for p in item_parts),
        duplicates=sum(extra[p] for p in item_parts),
        transient_cancellations=stormy.items.cancelled,
    )
    tally.record(
        "fault storm: requests sync (5xx, 429 bursts, stalls, resets)",
        faults_injected=sum(stormy.requests.faults.values()),
        messages_processed=stormy.requests.messages,
        records_processed=stormy.requests.records,
        effects_lost=lost["scf requests"] + lost["member requests"],
        duplicates=extra["scf requests"],
        transient_cancellations=len(transient),
    )


async def test_I10_a_mirror_whose_creation_answer_was_lost_is_still_lent(tmp_path: Path) -> None:
    """Rule I10 (and A3's retry): Alma creates the item, the connection resets before its answer
    arrives, the adapter's retry meets "barcode already exists" under the very bib and holding
    this creation chose. That item is the creation's own: it is recorded and lent, not adopted
    as someone else's mirror (which would never be lent)."""
    state = state_from_file()
    state.seed_item(AB, barcode="LR1", library="ABRS", location="rs_shared_in_ab", mms_id="99L1")
    late: list[LateResets] = []

    def wrap(app: ASGIApp) -> ASGIApp:
        late.append(LateResets(app, rate=1.0, seed=1, paths=LATE_RESET_PATHS[:1], limit=1))
        return late[0]

    injector = FaultInjector(FaultConfig(enforce_thresholds=False), clock=state.clock)
    async with open_rig(tmp_path, state, injector, wrap=wrap) as rig:
        items = [{"b": "LR1", "c": "ABRS", "l": "rs_shared_in_ab"}]
        rig.put(AB, "items", "AB_1_new.xml", collection([marc_record("99L1", items)]))
        await rig.store_webhook(_job_end(AB, JOBS[AB][0], "Publishing"))
        await rig.drain(rig.worker(), DRAIN_SECONDS)
        rows = await table_rows(rig.database_url)
    assert [(m, p.rsplit("/", 1)[-1], s) for m, p, s in late[0].resets] == [("POST", "items", 200)]
    (mirror,) = state.institution(SCF).items.values()
    loans = [loan for loan in state.institution(SCF).loans.values() if loan.active]
    assert [(loan.item_pid, loan.user_id) for loan in loans] == [(mirror.pid, f"{AB}-ABRS")]
    (row,) = rows["mirrored_items"]
    assert (row["state"], row["scf_item_pid"]) == ("mirrored", mirror.pid)
    assert row["loaned_at"] is not None
