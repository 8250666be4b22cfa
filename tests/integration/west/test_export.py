"""The WEST export end to end through `JobRunner`, on every ledger backend, over HTTP (the
wiring's workflow on the fake Alma app) and over the memory twins (rules H1–H5, B1–B4)."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from datetime import UTC

import httpx
import pymarc

from application.shared.run_records import RecordOutcome, RunCounts, RunStatus
from tests.integration.west.support import (
    AB,
    Catalog,
    Rig,
    by_kind,
    outputs,
    report_lines,
    seed_catalog,
)

NS = "{http://www.loc.gov/MARC21/slim}"


def _ids_with_noise(catalog: Catalog) -> list[str]:
    """H1: the ids padded with spaces, with a duplicate and a blank line."""
    first, *rest = catalog.ids
    return [f"  {first}  ", *rest, "", first]


async def test_H1_H2_H3_H4_H5_B1_an_export_writes_the_kept_records_and_records_every_one(
    rig: Rig,
) -> None:
    catalog = seed_catalog(rig.alma.state)
    rig.west = {"prefix": "wau", "org_code": "WaU", "stamp_005": True}
    source = rig.ids_file(_ids_with_noise(catalog))

    result = await rig.run(rig.job("--ids", source), rig.root / "out")

    run = result.run
    assert run.status is RunStatus.OK, run.reason  # B2: skips alone keep a run ok
    # 4 MMS ids with holdings + 4 kept holdings ok; 1 bib without holdings + 2 holdings without
    # a 583 skipped.
    assert run.counts == RunCounts(ok=8, skipped=3, failed=0)
    xml, mrc, report = outputs(rig.root / "out", "wau", rig.local_day())
    assert [d.name for d in run.outputs] == [xml.name, mrc.name, report.name]
    assert [d.name for d in run.inputs] == ["ids.txt"]

    zone = UTC if rig.alma.name == "memory" else None  # the wiring's: this machine's (B3)
    stamp = f"{rig.backend.clock.now().astimezone(zone):%Y%m%d%H%M%S}.0"
    root = ET.fromstring(xml.read_bytes())  # noqa: S314 - our own output
    assert root.tag == f"{NS}collection"
    records = root.findall(f"{NS}record")
    kept = [
        (
            r.find(f"{NS}controlfield[@tag='004']").text,  # type: ignore[union-attr]
            r.find(f"{NS}controlfield[@tag='001']").text,  # type: ignore[union-attr]
        )
        for r in records
    ]
    assert kept == catalog.kept  # H5: MMS id order, then Alma's holding order
    first = records[0]
    tags = [c.get("tag") for c in first if c.tag == f"{NS}controlfield"]
    assert tags == ["001", "003", "004", "005", "008", "009"]  # H3: in tag order, none twice
    assert first.find(f"{NS}controlfield[@tag='003']").text == "WaU"  # type: ignore[union-attr]
    stamps = {r.find(f"{NS}controlfield[@tag='005']").text for r in records}  # type: ignore[union-attr]
    assert stamps == {stamp}  # H3: one 005 per run, the run's local time
    data = [d.get("tag") for d in first if d.tag == f"{NS}datafield"]
    assert data == ["852", "583", "866"]  # H3: data fields untouched, in order

    with mrc.open("rb") as stream:
        read = list(pymarc.MARCReader(stream, to_unicode=True, force_utf8=True))
    assert [(r["004"].data, r["001"].data) for r in read] == catalog.kept
    assert all(r.leader[9] == "a" for r in read)

    mms = catalog.ids
    h = catalog.holdings
    assert report_lines(report) == [
        ["mms_id", "holding_id", "outcome", "reason"],
        [mms[0], h[mms[0]][0], "ok", ""],
        [mms[0], h[mms[0]][1], "ok", ""],
        [mms[1], h[mms[1]][0], "ok", ""],
        [mms[1], h[mms[1]][1], "skipped", "no 583"],
        [mms[2], "", "skipped", "no holdings"],
        [mms[3], h[mms[3]][0], "ok", ""],
        [mms[4], h[mms[4]][0], "skipped", "no 583"],
    ]

    recorded = by_kind(await rig.records(run.id))
    assert set(recorded) == {"mms_id", "holding"}
    assert sorted(recorded["mms_id"]) == sorted(mms)  # B1: each id once, duplicates dropped (H1)
    assert recorded["mms_id"][mms[2]].outcome is RecordOutcome.SKIPPED
    assert recorded["mms_id"][mms[2]].reason == f"MMS id {mms[2]}: no holdings"
    skipped = recorded["holding"][h[mms[4]][0]]
    assert skipped.reason == f"holding {h[mms[4]][0]} of MMS id {mms[4]}: no 583"  # B1, H4
    assert {k for k, r in recorded["holding"].items() if r.outcome is RecordOutcome.OK} == {
        holding for _, holding in catalog.kept
    }


async def test_H3_without_org_code_and_stamp_Alma_s_own_003_and_005_stay(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state, bibs=1)
    rig.west = {"prefix": "asu"}

    result = await rig.run(rig.job("--ids", rig.ids_file(catalog.ids)), rig.root / "out")

    assert result.run.status is RunStatus.OK
    xml, _, _ = outputs(rig.root / "out", "asu", rig.local_day())
    record = ET.fromstring(xml.read_bytes()).find(f"{NS}record")  # noqa: S314 - our output
    assert record is not None
    controls = [(c.get("tag"), c.text) for c in record if c.tag == f"{NS}controlfield"]
    mms_id, holding_id = catalog.kept[0]
    assert controls == [
        ("001", holding_id),
        ("004", mms_id),
        ("005", "20181109134730.0"),
        ("008", "1511020l||||||||4   uu"),
        ("009", "kat"),
    ]


async def test_H1_an_Alma_set_gives_the_ids_in_Alma_s_order(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state)
    members = list(reversed(catalog.ids))
    made = rig.alma.state.add_set(AB, members, set_id="4400001")

    result = await rig.run(rig.job("--set", made.set_id), rig.root / "out")

    assert result.run.status is RunStatus.OK
    assert [d.name for d in result.run.inputs] == ["set 4400001"]
    _, _, report = outputs(rig.root / "out", "wau", rig.local_day())
    seen = list(dict.fromkeys(row[0] for row in report_lines(report)[1:]))
    assert seen == members


async def test_H2_calls_run_concurrently_and_the_client_is_closed(http_rig: Rig) -> None:
    """H2: a second holdings list is asked for while the first is still unanswered; B4: the
    run's one Alma client is closed when the run ends."""
    catalog = seed_catalog(http_rig.alma.state)
    second_started = asyncio.Event()
    lists = 0

    class HoldFirstList(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal lists
            if request.url.path.endswith("/holdings"):
                lists += 1
                if lists == 1:
                    async with asyncio.timeout(10):
                        await second_started.wait()  # deadlocks (times out) when serial
                else:
                    second_started.set()
            return await self.inner.handle_async_request(request)

    http_rig.alma.wrap = HoldFirstList

    result = await http_rig.run(
        http_rig.job("--ids", http_rig.ids_file(catalog.ids)), http_rig.root / "out"
    )

    assert result.run.status is RunStatus.OK, result.run.reason
    assert sorted(http_rig.alma.list_calls()) == sorted(catalog.ids)
    assert sorted(http_rig.alma.holding_record_calls()) == sorted(catalog.all_holdings)
    assert [client.closed for client in http_rig.alma.clients] == [True]


async def test_B1_B4_no_API_key_in_the_options_records_or_report(http_rig: Rig) -> None:
    catalog = seed_catalog(http_rig.alma.state)
    job = http_rig.job("--ids", http_rig.ids_file([*catalog.ids, "990000000000"]))
    result = await http_rig.runner().run(
        job,
        out_dir=http_rig.root / "out",
        options=job.options.stored(),  # type: ignore[attr-defined]
    )

    assert result.run.status is RunStatus.PARTIAL
    everything = [repr(result.run), *(repr(r) for r in await http_rig.records(result.run.id))]
    for path in (http_rig.root / "out").iterdir():
        everything.append(path.read_bytes().decode("utf-8", "replace"))
    assert not [text for text in everything if "ab-example-key" in text]
    assert result.run.options["institution"] == AB
