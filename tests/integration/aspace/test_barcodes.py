"""The known barcodes (rule AS3): the descriptions of the configured Alma set's members, read
page by page, plus every barcode an earlier record of the run carries; an empty barcode never
makes an item; a set Alma does not know fails the run before anything is uploaded."""

from __future__ import annotations

from application.shared.run_records import RecordOutcome, RunStatus
from tests.integration.aspace.support import (
    BARCODE_1511,
    MARC_OUT,
    MARC_OUT_OLD,
    YESTERDAY,
    Gate,
    Rig,
    add_resource,
    by_call_number,
    call_numbers,
    collection,
    files,
    items,
)


async def test_AS3_the_known_barcodes_are_the_set_s_descriptions_read_page_by_page(
    rig: Rig,
) -> None:
    add_resource(rig.aspace.state, 30, barcodes=["32101000000030", "32101000000031"])
    filler = [f"3210199{n:07d}" for n in range(245)]
    # 249 members: 1511's barcode and one of 30's on the third page, a blank description too.
    rig.known([*filler[:200], "   ", *filler[200:], f" {BARCODE_1511} ", "32101000000031", ""])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    # rule AS3: pages of 100 (B4: through the institution's client), every one read.
    assert rig.alma.set_reads() == [0, 100, 200]
    limits = {r.param("limit") for r in rig.alma.state.call_log if "/conf/sets/" in r.path}
    assert limits == {"100"}
    written = by_call_number(collection(rig.out / MARC_OUT))
    assert items(written["MC001.01"]) == []  # already in Alma
    assert items(written["C03.30"]) == ["32101000000030"]
    assert items(written["MC001.02.01"]) == ["32101091234567"]
    record = (await rig.kinds(result.run.id))["known_barcodes"][rig.barcode_set]
    assert (record.outcome, record.reason) == (RecordOutcome.OK, "247 barcodes")


async def test_AS3_two_containers_with_one_barcode_make_one_949(rig: Rig) -> None:
    add_resource(rig.aspace.state, 40, barcodes=["32101000000040", "32101000000040"])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    written = by_call_number(collection(rig.out / MARC_OUT))
    assert items(written["C03.40"]) == ["32101000000040"]


async def test_AS3_a_barcode_of_two_resources_is_an_item_of_the_first_in_output_order_only(
    rig: Rig,
) -> None:
    state = rig.aspace.state
    add_resource(state, 60, barcodes=["32101000000099", "32101000000060"])  # listed first
    add_resource(state, 50, barcodes=["32101000000099"])
    rig.aspace.wrap = lambda inner: Gate(inner, held="50", released_by="60")  # 60 answers first

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    records = collection(rig.out / MARC_OUT)
    assert call_numbers(records)[:2] == ["C03.50", "C03.60"]
    # fix: upstream emitted the barcode in both records.
    assert items(records[0]) == ["32101000000099"]
    assert items(records[1]) == ["32101000000060"]
    resources = (await rig.kinds(result.run.id))["resource"]
    assert resources["/repositories/3/resources/60"].reason == (
        "written as C03.60, items 32101000000060"
    )


async def test_AS3_a_container_with_an_empty_barcode_makes_no_949(rig: Rig) -> None:
    state = rig.aspace.state
    add_resource(state, 70, barcodes=["", "   ", "32101000000070"])
    add_resource(state, 71, barcodes=[""])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    written = by_call_number(collection(rig.out / MARC_OUT))
    assert items(written["C03.70"]) == ["32101000000070"]
    assert items(written["C03.71"]) == []
    resources = (await rig.kinds(result.run.id))["resource"]
    assert resources["/repositories/3/resources/71"].reason == "written as C03.71, no new item"


async def test_AS3_AS1_a_set_Alma_does_not_know_fails_the_run_after_the_rotation_uploading_nothing(
    rig: Rig,
) -> None:
    rig.yesterday()
    rig.barcode_set = "404404"

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.FAILED
    reason = result.run.reason or ""
    assert "404404" in reason
    assert "barcode_set" in reason
    assert "\n" not in reason
    # rule AS1: the rotation came first, so Alma finds no stale MARC_out.xml; nothing uploaded.
    assert files(rig.drop) == [MARC_OUT_OLD]
    assert (rig.drop / MARC_OUT_OLD).read_bytes() == YESTERDAY
    assert "upload" not in [op.name for op in rig.ops]
    # rule B3: nothing under the final name locally either.
    assert MARC_OUT not in files(rig.out)
    assert f".{MARC_OUT}.part" not in files(rig.out)
