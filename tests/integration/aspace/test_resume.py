"""Resuming a killed aspace2alma run (rules B5, AS1, AS3): the Alma set is not read again, the
drop folder is not rotated again (today's file is not up yet), and the output equals an
uninterrupted run's."""

from __future__ import annotations

import pytest

from adapters.fake_archivesspace import seed_many
from application.shared.run_records import RecordOutcome, RunStatus
from tests.integration.aspace.support import (
    MARC_OUT,
    MARC_OUT_OLD,
    REPO,
    YESTERDAY,
    Hook,
    Rig,
    call_numbers,
    collection,
    files,
    items,
    uri,
)


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, and the runner does not end the run."""


async def test_B5_a_killed_run_resumes_without_reading_the_set_again_and_writes_the_same_file(
    rig: Rig,
) -> None:
    generated = seed_many(rig.aspace.state, resources=6, containers_per_resource=2)
    known = [
        doc["barcode_u_icusort"] for doc in rig.aspace.state.container_docs(REPO)[2::3]
    ]  # every third container is in Alma already
    rig.known(known)
    rig.yesterday()
    killed_at = generated[3][1]  # the fourth generated resource

    async def kill(path: str) -> None:
        if path.endswith(f"/resources/marc21/{killed_at}.xml"):
            raise Killed

    rig.aspace.wrap = lambda inner: Hook(inner, kill)

    with pytest.raises((Killed, BaseExceptionGroup)):
        await rig.run(rig.job())

    [killed] = await rig.runs()
    assert killed.status is RunStatus.RUNNING  # rule B1: a killed run stays running
    done = await rig.kinds(killed.id)
    before_kill = [1511, 1512, *(r for _, r in generated[:3])]  # resource id order
    assert sorted(done["resource"]) == sorted(uri(r) for r in before_kill)
    assert set(done) == {"rotation", "known_barcodes", "resource"}
    assert rig.alma.set_reads() == [0]
    # rule B3: nothing under the final name; rule AS1: rotated, nothing uploaded.
    assert MARC_OUT not in files(rig.out)
    assert files(rig.drop) == [MARC_OUT_OLD]

    rig.aspace.wrap = lambda inner: inner
    ops_before = len(rig.ops)
    rig.advance(60)
    resumed = await rig.runner().resume(killed.id, rig.job())

    assert resumed.run.status is RunStatus.OK, (resumed.run.reason, resumed.failures)
    assert resumed.run.resumed_from == killed.id
    # rule B5: the Alma read already recorded (the set) is not repeated.
    assert rig.alma.set_reads() == [0]
    # Nor the rotation: it would take yesterday's file away, today's not being up yet.
    assert [op.name for op in rig.ops[ops_before:]] == ["upload", "replace"]
    assert (rig.drop / MARC_OUT_OLD).read_bytes() == YESTERDAY
    resumed_file = (rig.out / MARC_OUT).read_bytes()
    assert (rig.drop / MARC_OUT).read_bytes() == resumed_file
    kinds = await rig.kinds(resumed.run.id)
    assert all(r.outcome is RecordOutcome.OK for r in kinds["resource"].values())
    assert uri(killed_at) in kinds["resource"]

    # rule B5: the output equals an uninterrupted run's.
    rig.advance(60)
    whole = await rig.run(rig.job(), dry_run=True, out=rig.root / "whole")
    assert whole.run.status is RunStatus.OK
    assert (rig.root / "whole" / MARC_OUT).read_bytes() == resumed_file
    records = collection(rig.out / MARC_OUT)
    assert len(call_numbers(records)) == 2 + 6
    assert all(barcode not in known for record in records for barcode in items(record))
    assert sum(len(items(record)) for record in records) == 2 + 12 - len(known)
