"""Issue 15 part 2: each bad input is recorded with its reason while the rest of the run goes on,
or ends the run with one clear sentence (rules H1, H2, B2, B3, B4), on every ledger backend."""

from __future__ import annotations

import httpx
import pytest

from adapters.marc.iso2709 import iso2709_bytes
from application.shared.run_records import RecordOutcome, RunCounts, RunStatus
from application.shared.runs import RunCrashed
from domain.shared.marc import ControlField, DataField, MarcRecord, Subfield
from tests.integration.west.support import (
    Rig,
    by_kind,
    outputs,
    report_lines,
    seed_catalog,
)

BIB_LEADER = "00000nam a2200000 a 4500"
HEADER = ["mms_id", "holding_id", "outcome", "reason"]


def _bib(mms_id: str | None) -> MarcRecord:
    title = DataField("245", "0", "0", (Subfield("a", "A title"),))
    fields = (ControlField("001", mms_id), title) if mms_id is not None else (title,)
    return MarcRecord(BIB_LEADER, fields)


def _report(rig: Rig) -> list[list[str]]:
    return report_lines(outputs(rig.root / "out", "wau", rig.local_day())[2])


async def test_H1_B2_a_truncated_mrc_keeps_the_records_before_the_break_and_names_it(
    rig: Rig,
) -> None:
    catalog = seed_catalog(rig.alma.state)
    whole = iso2709_bytes([_bib(catalog.ids[0]), _bib(catalog.ids[1]), _bib(catalog.ids[3])])
    offset = len(iso2709_bytes([_bib(catalog.ids[0]), _bib(catalog.ids[1])]))
    source = rig.root / "bibs.mrc"
    source.write_bytes(whole[: offset + 30])  # the third record is cut short

    result = await rig.run(rig.job("--mrc", source), rig.root / "out")

    assert result.run.status is RunStatus.PARTIAL  # B2: exit 1, the rest done
    [failure] = result.failures
    assert (failure.kind, failure.key) == ("input_record", "3")
    assert failure.reason.startswith(f"record 3 at byte offset {offset} is cut short")
    rows = _report(rig)
    assert rows[1] == ["", "", "failed", failure.reason]  # H5: the input's failure first
    assert {row[0] for row in rows[2:]} == {catalog.ids[0], catalog.ids[1]}


async def test_H1_B2_a_record_without_001_is_failed_and_the_rest_go_on(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state)
    source = rig.root / "bibs.mrc"
    source.write_bytes(iso2709_bytes([_bib(catalog.ids[0]), _bib(None), _bib(catalog.ids[3])]))

    result = await rig.run(rig.job("--mrc", source), rig.root / "out")

    assert result.run.status is RunStatus.PARTIAL
    [failure] = result.failures
    offset = len(iso2709_bytes([_bib(catalog.ids[0])]))
    assert (failure.kind, failure.key) == ("input_record", "2")
    assert failure.reason == f"record 2 at byte offset {offset} has no 001"
    assert [row[0] for row in _report(rig)[1:]] == [
        "",
        catalog.ids[0],
        catalog.ids[0],
        catalog.ids[3],
    ]


async def test_H1_B2_a_MARCXML_record_without_001_is_failed_too(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state, bibs=1)
    source = rig.root / "bibs.xml"
    source.write_text(
        '<collection xmlns="http://www.loc.gov/MARC21/slim">'
        f'<record><leader>{BIB_LEADER}</leader><controlfield tag="001"> {catalog.ids[0]} '
        "</controlfield></record>"
        f"<record><leader>{BIB_LEADER}</leader></record></collection>"
    )

    result = await rig.run(rig.job("--marcxml", source), rig.root / "out")

    assert result.run.status is RunStatus.PARTIAL
    assert [(f.kind, f.key, f.reason) for f in result.failures] == [
        ("input_record", "2", "record 2 has no 001")
    ]
    assert result.run.counts.ok == 3  # the MMS id (stripped, H1) and its two holdings


async def test_H2_an_MMS_id_Alma_does_not_know_is_failed_not_in_Alma(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state, bibs=1)
    unknown = "990000000000004101"

    result = await rig.run(
        rig.job("--ids", rig.ids_file([unknown, *catalog.ids])), rig.root / "out"
    )

    assert result.run.status is RunStatus.PARTIAL
    assert [(f.kind, f.key, f.reason) for f in result.failures] == [
        ("mms_id", unknown, f"MMS id {unknown}: not in Alma")
    ]
    assert _report(rig)[1] == [unknown, "", "failed", "not in Alma"]
    assert len(_report(rig)) == 4  # the two holdings of the known bib follow


async def test_H2_B2_a_bib_without_holdings_is_skipped_and_the_run_stays_ok(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state, bibs=3)
    lonely = catalog.ids[2]

    result = await rig.run(rig.job("--ids", rig.ids_file([lonely])), rig.root / "out")

    assert result.run.status is RunStatus.OK  # B2: a skip alone, exit 0
    assert result.run.counts == RunCounts(ok=0, skipped=1, failed=0)
    assert _report(rig) == [HEADER, [lonely, "", "skipped", "no holdings"]]
    xml, mrc, _ = outputs(rig.root / "out", "wau", rig.local_day())
    assert b"<record>" not in xml.read_bytes()  # H5: written even when nothing is kept
    assert mrc.read_bytes() == b""


async def test_H2_a_holding_answered_without_its_record_is_failed(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state, bibs=1)
    mms_id = catalog.ids[0]
    first, second = catalog.holdings[mms_id]
    rig.alma.state.withhold_holding_record("01AAA_AB", first)

    result = await rig.run(rig.job("--ids", rig.ids_file(catalog.ids)), rig.root / "out")

    assert result.run.status is RunStatus.PARTIAL
    assert [(f.kind, f.key, f.reason) for f in result.failures] == [
        ("holding", first, f"holding {first} of MMS id {mms_id}: no MARC record in Alma's answer")
    ]
    assert _report(rig)[1:] == [
        [mms_id, first, "failed", "no MARC record in Alma's answer"],
        [mms_id, second, "ok", ""],
    ]


async def test_H2_B2_malformed_JSON_from_the_holdings_list_fails_that_MMS_id(http_rig: Rig) -> None:
    catalog = seed_catalog(http_rig.alma.state)
    spoiled = catalog.ids[1]

    class Spoil(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await self.inner.handle_async_request(request)
            if request.url.path.endswith(f"/bibs/{spoiled}/holdings"):
                await response.aread()
                headers = {"content-type": "application/json"}
                return httpx.Response(
                    200, content=b'{"holding": [{"holding_id": "22', headers=headers
                )
            return response

    http_rig.alma.wrap = Spoil

    result = await http_rig.run(
        http_rig.job("--ids", http_rig.ids_file(catalog.ids)), http_rig.root / "out"
    )

    assert result.run.status is RunStatus.PARTIAL
    reason = "Alma could not list holdings - Alma's answer is not readable JSON (JSONDecodeError)"
    assert [(f.kind, f.key, f.reason) for f in result.failures] == [
        ("mms_id", spoiled, f"MMS id {spoiled}: {reason}")
    ]
    assert [spoiled, "", "failed", reason] in _report(http_rig)
    # The others went on: 3 MMS ids with holdings and their 3 kept holdings.
    assert result.run.counts == RunCounts(ok=6, skipped=2, failed=1)


async def test_H1_B2_a_set_that_does_not_exist_ends_the_run_failed_in_one_sentence(
    rig: Rig,
) -> None:
    result = await rig.run(rig.job("--set", "9999999"), rig.root / "out")

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == "Alma set 9999999 does not exist in institution 01AAA_AB"
    assert list((rig.root / "out").iterdir()) == []  # B3: no half output


async def test_B2_an_empty_input_ends_the_run_failed_in_one_sentence(rig: Rig) -> None:
    source = rig.ids_file([], "empty.txt")

    result = await rig.run(rig.job("--ids", source), rig.root / "out")

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == f"--ids {source} holds no MMS id: nothing to export"
    assert list((rig.root / "out").iterdir()) == []


async def test_B2_an_empty_set_ends_the_run_failed_too(rig: Rig) -> None:
    rig.alma.state.add_set("01AAA_AB", [], set_id="4400002")

    result = await rig.run(rig.job("--set", "4400002"), rig.root / "out")

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == "--set 4400002 holds no MMS id: nothing to export"


async def test_B2_an_input_file_gone_by_the_time_the_run_starts_fails_it(rig: Rig) -> None:
    source = rig.root / "gone.mrc"

    result = await rig.run(rig.job("--mrc", source), rig.root / "out")

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason == f"--mrc {source}: the file does not exist"


async def test_B4_a_429_storm_and_20_percent_5xx_give_the_outputs_of_a_calm_run(
    http_rig: Rig,
) -> None:
    catalog = seed_catalog(http_rig.alma.state, bibs=10)
    http_rig.west = {"stamp_005": True, "org_code": "WaU"}
    ids = http_rig.ids_file(catalog.ids)
    calm = await http_rig.run(http_rig.job("--ids", ids), http_rig.root / "calm")
    assert calm.run.status is RunStatus.OK
    calm_calls = len(http_rig.alma.calls())

    faults = http_rig.alma.faults
    faults.fail_next(20, kind="per_second")
    faults.configure(error_rate=0.2)
    stormy = await http_rig.run(http_rig.job("--ids", ids), http_rig.root / "stormy")

    assert stormy.run.status is RunStatus.OK, stormy.failures
    served = http_rig.alma.calls()[calm_calls:]
    assert sum(1 for call in served if call.status == 429) == 20
    assert sum(1 for call in served if call.status >= 500) > 0
    day = http_rig.local_day()
    for quiet, loud in zip(
        outputs(http_rig.root / "calm", "wau", day),
        outputs(http_rig.root / "stormy", "wau", day),
        strict=True,
    ):
        assert quiet.read_bytes() == loud.read_bytes()  # B3: the same outputs, 005 included
    assert [d.sha256 for d in calm.run.outputs] == [d.sha256 for d in stormy.run.outputs]


async def test_B2_B5_the_daily_quota_stops_the_run_with_one_sentence(http_rig: Rig) -> None:
    catalog = seed_catalog(http_rig.alma.state)
    http_rig.alma.faults.fail_next(1, kind="daily", path_contains=f"/bibs/{catalog.ids[0]}/")

    result = await http_rig.run(
        http_rig.job("--ids", http_rig.ids_file(catalog.ids)), http_rig.root / "out"
    )

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason is not None
    assert result.run.reason.startswith(f"Alma stopped the run at MMS id {catalog.ids[0]}: ")
    assert result.run.reason.endswith(f"resume it later with --resume {result.run.id}")
    recorded = by_kind(await http_rig.records(result.run.id))
    assert catalog.ids[0] not in recorded.get("mms_id", {})
    assert all(r.outcome is not RecordOutcome.FAILED for r in recorded.get("mms_id", {}).values())


async def test_B2_B5_an_unforeseen_error_ends_the_run_failed_in_one_line_and_a_resume_finishes(
    http_rig: Rig,
) -> None:
    catalog = seed_catalog(http_rig.alma.state)
    odd = catalog.ids[3]
    surprises = [1]

    class Surprise(httpx.AsyncBaseTransport):
        def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
            self.inner = inner

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith(f"/bibs/{odd}/holdings") and surprises:
                surprises.pop()
                raise RuntimeError("nobody saw this coming")
            return await self.inner.handle_async_request(request)

    http_rig.alma.wrap = Surprise

    job = http_rig.job("--ids", http_rig.ids_file(catalog.ids))
    with pytest.raises(RunCrashed) as crashed:
        await http_rig.run(job, http_rig.root / "out")

    failed = crashed.value.run
    assert failed.status is RunStatus.FAILED
    assert failed.reason == "RuntimeError: nobody saw this coming"
    resumed = await http_rig.runner().resume(failed.id, job)
    assert resumed.run.status is RunStatus.OK
