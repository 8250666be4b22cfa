"""ArchivesSpace to Alma end to end through the wiring's workflow (rules AS1, AS2, AS6, B1, B3,
B8): yesterday's file rotated away before ArchivesSpace is asked anything, every resource
recorded by its URI, ``MARC_out.xml`` written under ``--out`` in repository then resource id
order and uploaded through a temporary name; the Saturday run removing ``MARC_out.xml`` only."""

from __future__ import annotations

import pytest

from application.aspace.remove_stale import ASPACE2ALMA_REMOVE_STALE
from application.shared.run_records import RecordOutcome, RunCounts, RunStatus
from tests.integration.aspace.support import (
    MARC_OUT,
    MARC_OUT_OLD,
    TWO_DAYS_AGO,
    YESTERDAY,
    Gate,
    Rig,
    add_resource,
    call_numbers,
    collection,
    files,
    uri,
)

REFERENCE = ["MC001.01", "MC001.02.01"]
"""The 001s of resources 1511 and 1512 (AS4's golden pair)."""


@pytest.mark.parametrize(
    ("present", "done"),
    [
        pytest.param((MARC_OUT, MARC_OUT_OLD), ["delete", "rename"], id="both"),
        pytest.param((MARC_OUT,), ["rename"], id="current-only"),
        pytest.param((MARC_OUT_OLD,), ["delete"], id="old-only"),
        pytest.param((), [], id="neither"),
    ],
)
async def test_AS1_the_drop_folder_is_rotated_before_any_ArchivesSpace_call(
    rig: Rig, present: tuple[str, ...], done: list[str]
) -> None:
    contents = {MARC_OUT: YESTERDAY, MARC_OUT_OLD: TWO_DAYS_AGO}
    for name in present:
        (rig.drop / name).write_bytes(contents[name])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    # rule AS1: remove MARC_out_old.xml, then rename MARC_out.xml onto it, each only if
    # present, while the fake ArchivesSpace has answered nothing yet.
    rotation = [op for op in rig.ops if op.name in ("delete", "rename")]
    assert [op.name for op in rotation] == done
    assert all(op.aspace_calls == 0 for op in rotation)
    assert [op.name for op in rig.ops[len(rotation) :]] == ["upload", "replace"]
    assert rig.ops[-1].aspace_calls > 0
    if MARC_OUT in present:
        assert (rig.drop / MARC_OUT_OLD).read_bytes() == YESTERDAY
        assert rig.ops[len(rotation) - 1].path.endswith(f"/{MARC_OUT} -> {rig.drop}/{MARC_OUT_OLD}")
    else:
        assert MARC_OUT_OLD not in files(rig.drop)
    if MARC_OUT_OLD in present:
        assert rig.ops[0].path == f"{rig.drop}/{MARC_OUT_OLD}"
    # rule B1: the rotation is a record saying what was done.
    rotated = (await rig.kinds(result.run.id))["rotation"]["drop"]
    assert rotated.outcome is RecordOutcome.OK
    assert ("removed MARC_out_old.xml" in rotated.reason) is (MARC_OUT_OLD in present)
    assert ("renamed MARC_out.xml to MARC_out_old.xml" in rotated.reason) is (MARC_OUT in present)


@pytest.mark.parametrize("how", ["no-upload", "dry-run"])
async def test_AS1_B8_no_upload_and_dry_run_touch_no_remote_at_all(rig: Rig, how: str) -> None:
    rig.yesterday()

    job = rig.job(upload=how != "no-upload")
    result = await rig.run(job, dry_run=how == "dry-run")

    assert result.run.status is RunStatus.OK, result.run.reason
    # rule AS1: no connection to the remote at all, rotation included.
    assert rig.connections == 0
    assert rig.ops == []
    assert (rig.drop / MARC_OUT).read_bytes() == YESTERDAY
    assert (rig.drop / MARC_OUT_OLD).read_bytes() == TWO_DAYS_AGO
    assert files(rig.drop) == [MARC_OUT, MARC_OUT_OLD]
    assert "rotation" not in await rig.kinds(result.run.id)
    # rule B8: the output is still written locally.
    assert call_numbers(collection(rig.out / MARC_OUT)) == REFERENCE


async def test_AS6_B3_MARC_out_is_written_under_out_and_uploaded_through_a_temporary_name(
    rig: Rig,
) -> None:
    rig.yesterday()
    out = rig.root / "not" / "yet" / "there"

    result = await rig.run(rig.job(), out=out)

    assert result.run.status is RunStatus.OK, result.run.reason
    # rule B8: --out is created; rule B3: nothing but the final file (and the kept barcodes of
    # AS3/B5) under it, no partial file.
    assert files(out) == [MARC_OUT, "known_barcodes.txt"]
    written = (out / MARC_OUT).read_bytes()
    # rule AS6: uploaded as MARC_out.xml, through a hidden temporary name renamed at the end:
    # until then the folder holds no MARC_out.xml for Alma's import to see.
    upload, replace = rig.ops[-2:]
    assert upload.name == "upload"
    assert upload.path == f"{rig.drop}/{MARC_OUT}"
    assert replace.name == "replace"
    assert replace.path == f".{MARC_OUT}.uploading -> {MARC_OUT}"
    assert MARC_OUT not in replace.listing
    assert f".{MARC_OUT}.uploading" in replace.listing
    assert files(rig.drop) == [MARC_OUT, MARC_OUT_OLD]  # no temporary name left over
    assert (rig.drop / MARC_OUT).read_bytes() == written
    # rule B1: the output is named with its sha256.
    assert [d.name for d in result.run.outputs] == [MARC_OUT]


async def test_B1_each_resource_is_a_record_keyed_by_its_URI(rig: Rig) -> None:
    add_resource(rig.aspace.state, 77, repo_id=2, barcodes=["32101000000077"])

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    resources = (await rig.kinds(result.run.id))["resource"]
    assert sorted(resources) == sorted([uri(77, repo_id=2), uri(1511), uri(1512)])
    assert all(r.outcome is RecordOutcome.OK for r in resources.values())
    assert resources[uri(1511)].reason == "written as MC001.01, items 32101106176132"
    assert resources[uri(77, repo_id=2)].detail == {"call_number": "C02.77", "items": 1}
    # rotation, the set read and the three resources.
    assert result.run.counts == RunCounts(ok=5, skipped=0, failed=0)


@pytest.mark.parametrize("concurrency", [2, 8])
async def test_AS2_records_come_in_repository_then_resource_id_order_whatever_answers_first(
    rig: Rig, concurrency: int
) -> None:
    rig.concurrency = concurrency
    state = rig.aspace.state
    # The fake lists ids in the order they were added: not ascending here.
    for resource_id in (30, 10, 20):
        add_resource(state, resource_id, repo_id=2)
    add_resource(state, 900)  # repository 3, before the reference 1511 and 1512
    for resource_id in (2, 1):
        add_resource(state, resource_id, repo_id=5)
    # The first resource answers only once the last one has.
    rig.aspace.wrap = lambda inner: Gate(inner, held="10", released_by="2")

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    answered = rig.aspace.marc_order()
    assert answered.index(2) < answered.index(10)  # the gate did hold it
    assert call_numbers(collection(rig.out / MARC_OUT)) == [
        "C02.10",
        "C02.20",
        "C02.30",
        "C03.900",
        *REFERENCE,
        "C05.1",
        "C05.2",
    ]


async def test_AS1_remove_stale_removes_MARC_out_only_and_is_skipped_when_there_is_none(
    rig: Rig,
) -> None:
    rig.yesterday()

    first = await rig.run(rig.job(ASPACE2ALMA_REMOVE_STALE))

    assert first.run.status is RunStatus.OK, first.run.reason
    assert files(rig.drop) == [MARC_OUT_OLD]
    assert (rig.drop / MARC_OUT_OLD).read_bytes() == TWO_DAYS_AGO
    record = (await rig.kinds(first.run.id))["file"][MARC_OUT]
    assert (record.outcome, record.reason) == (RecordOutcome.OK, "removed from drop")
    # Neither ArchivesSpace nor Alma is asked anything.
    assert rig.aspace.calls() == 0
    assert rig.alma.set_reads() == []

    rig.advance(60)
    second = await rig.run(rig.job(ASPACE2ALMA_REMOVE_STALE))

    assert second.run.status is RunStatus.OK, second.run.reason
    assert files(rig.drop) == [MARC_OUT_OLD]
    record = (await rig.kinds(second.run.id))["file"][MARC_OUT]
    assert (record.outcome, record.reason) == (RecordOutcome.SKIPPED, "not in drop")
    assert [op.name for op in rig.ops] == ["delete"]


async def test_AS1_a_drop_folder_not_there_yet_has_nothing_to_rotate_and_is_made_by_the_upload(
    rig: Rig,
) -> None:
    rig.drop.rmdir()

    result = await rig.run(rig.job())

    assert result.run.status is RunStatus.OK, result.run.reason
    assert files(rig.drop) == [MARC_OUT]
    assert (rig.drop / MARC_OUT).read_bytes() == (rig.out / MARC_OUT).read_bytes()
