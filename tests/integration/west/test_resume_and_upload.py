"""Resume after a kill (B5), dry run (B8) and the upload of the outputs (H5, B3) of the WEST
export, on every ledger backend."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from application.shared.run_records import RecordOutcome, RunStatus
from tests.integration.files.servers import PASSWORD, USER, Faults, sftp_server
from tests.integration.west.support import (
    Catalog,
    Rig,
    outputs,
    seed_catalog,
    without_005,
)


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, and the runner does not end the run."""


class KillAfter(httpx.AsyncBaseTransport):
    """Lets ``allowed`` holdings-record calls through; the next one waits until ``ready()``
    (those calls recorded), then kills the process (or, with ``hang``, holds every later call
    until the test cancels the run)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        allowed: int,
        ready: Callable[[], Awaitable[None]],
        *,
        hang: bool,
    ) -> None:
        self.inner = inner
        self.allowed = allowed
        self.ready = ready
        self.hang = hang
        self.reached = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if "/holdings/" in request.url.path:
            if self.allowed == 0:
                await self.ready()
                self.reached.set()
                if not self.hang:
                    raise Killed
                await asyncio.Event().wait()  # until the run is cancelled
            self.allowed -= 1
        return await self.inner.handle_async_request(request)


async def _done_keys(rig: Rig, run_id: int, kind: str) -> set[str]:
    done = (RecordOutcome.OK, RecordOutcome.SKIPPED)
    return {r.key for r in await rig.records(run_id) if r.kind == kind and r.outcome in done}


async def _holdings_recorded(rig: Rig, count: int) -> None:
    """Until the open run has recorded ``count`` holdings (each poll is a ledger read)."""
    async with asyncio.timeout(10):
        while True:
            async with rig.ledger.unit_of_work() as uow:
                runs = await uow.runs.list_runs()
                records = await uow.runs.records_of(runs[0].id) if runs else []
            if sum(1 for r in records if r.kind == "holding") >= count:
                return
            await asyncio.sleep(0)


async def _kill_and_resume(rig: Rig, catalog: Catalog, *, hang: bool) -> None:
    """Kill a run after 5 holdings records, resume it, compare with an uninterrupted run."""
    rig.west = {"stamp_005": True, "org_code": "WaU"}
    ids = rig.ids_file(catalog.ids)
    killer: list[KillAfter] = []
    made = asyncio.Event()

    def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        killer.append(KillAfter(inner, 5, lambda: _holdings_recorded(rig, 5), hang=hang))
        made.set()
        return killer[-1]

    rig.alma.wrap = wrap
    out = rig.root / "out"
    if hang:
        task = asyncio.create_task(rig.run(rig.job("--ids", ids), out))
        await made.wait()  # the run's client is made when the run starts
        await killer[0].reached.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        with pytest.raises(Killed):
            await rig.run(rig.job("--ids", ids), out)

    async with rig.ledger.unit_of_work() as uow:
        [killed] = await uow.runs.list_runs()
    assert killed.status is RunStatus.RUNNING  # B1: a killed run stays running
    assert list(out.iterdir()) == []  # B3: no output under its final name, no part left over
    done_holdings = await _done_keys(rig, killed.id, "holding")
    done_ids = await _done_keys(rig, killed.id, "mms_id")
    assert len(done_holdings) == 5
    assert all(client.closed for client in rig.alma.clients)  # B4: the client closed anyway

    rig.alma.wrap = lambda inner: inner
    before = len(rig.alma.calls())
    rig.backend.clock.advance(seconds=30)  # the resumed run's 005 differs
    resumed = await rig.runner().resume(killed.id, rig.job("--ids", ids))

    assert resumed.run.status is RunStatus.OK, resumed.failures
    assert resumed.run.resumed_from == killed.id
    served = rig.alma.calls()[before:]
    fetched = [r.path.rsplit("/", 1)[-1] for r in served if "/holdings/" in r.path]
    assert sorted(fetched) == sorted(set(catalog.all_holdings) - done_holdings)  # B5
    listed = [r.path.split("/")[-2] for r in served if r.path.endswith("/holdings")]
    assert sorted(listed) == sorted(set(catalog.ids) - done_ids)

    rig.backend.clock.advance(seconds=30)
    whole = await rig.run(rig.job("--ids", ids), rig.root / "whole")
    assert whole.run.status is RunStatus.OK
    day = rig.local_day()
    for mine, theirs in zip(
        outputs(out, "wau", day), outputs(rig.root / "whole", "wau", day), strict=True
    ):
        assert without_005(mine.read_bytes()) == without_005(theirs.read_bytes())  # B5
    xml = outputs(out, "wau", day)[0].read_bytes()
    assert xml != outputs(rig.root / "whole", "wau", day)[0].read_bytes()  # only 005 differs


async def test_B5_a_run_killed_half_way_resumes_fetching_only_what_it_had_not_recorded(
    http_rig: Rig,
) -> None:
    catalog = seed_catalog(http_rig.alma.state, bibs=10)
    await _kill_and_resume(http_rig, catalog, hang=False)


async def test_B5_a_run_cancelled_half_way_resumes_fetching_only_what_it_had_not_recorded(
    http_rig: Rig,
) -> None:
    catalog = seed_catalog(http_rig.alma.state, bibs=10)
    await _kill_and_resume(http_rig, catalog, hang=True)


async def test_B5_a_resume_refuses_an_input_that_changed(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state)
    ids = rig.ids_file(catalog.ids)
    first = await rig.run(
        rig.job("--ids", rig.ids_file(["990000000000004101"], "ids.txt")), rig.root / "o"
    )
    assert first.run.status is RunStatus.PARTIAL
    ids.write_text("".join(f"{mms_id}\n" for mms_id in catalog.ids))

    again = await rig.runner().resume(first.run.id, rig.job("--ids", ids))

    assert again.run.status is RunStatus.FAILED
    assert again.run.reason is not None
    assert again.run.reason.startswith(f"input ids.txt changed since run {first.run.id}")


def _drop(rig: Rig) -> Path:
    drop = rig.root / "drop"
    rig.remotes = {"drop": {"url": f"file://{drop}"}}
    rig.west = {"upload_to": "drop:west/holdings"}
    return drop / "west" / "holdings"


async def test_B3_H5_the_outputs_are_uploaded_to_a_file_remote(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state)
    folder = _drop(rig)

    result = await rig.run(rig.job("--ids", rig.ids_file(catalog.ids)), rig.root / "out")

    assert result.run.status is RunStatus.OK, result.run.reason
    local = outputs(rig.root / "out", "wau", rig.local_day())
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in local)  # no temp
    for path in local:
        assert (folder / path.name).read_bytes() == path.read_bytes()


async def test_B3_an_upload_replaces_files_of_the_same_name(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state)
    folder = _drop(rig)
    folder.mkdir(parents=True)
    xml, _, _ = outputs(folder, "wau", rig.local_day())
    xml.write_text("yesterday's file")

    result = await rig.run(rig.job("--ids", rig.ids_file(catalog.ids)), rig.root / "out")

    assert result.run.status is RunStatus.OK
    assert xml.read_bytes() == outputs(rig.root / "out", "wau", rig.local_day())[0].read_bytes()


async def test_B8_a_dry_run_writes_the_outputs_locally_and_uploads_nothing(rig: Rig) -> None:
    catalog = seed_catalog(rig.alma.state)
    folder = _drop(rig)

    result = await rig.run(
        rig.job("--ids", rig.ids_file(catalog.ids)), rig.root / "out", dry_run=True
    )

    assert result.run.status is RunStatus.OK
    assert result.run.dry_run
    assert all(p.is_file() for p in outputs(rig.root / "out", "wau", rig.local_day()))
    assert not folder.exists()


async def test_B2_B3_an_upload_that_fails_ends_the_run_failed_with_the_files_kept(
    http_rig: Rig,
) -> None:
    catalog = seed_catalog(http_rig.alma.state)
    folder = _drop(http_rig)
    folder.parent.mkdir(parents=True)
    folder.write_text("a file where the folder should be")

    result = await http_rig.run(
        http_rig.job("--ids", http_rig.ids_file(catalog.ids)), http_rig.root / "out"
    )

    assert result.run.status is RunStatus.FAILED
    assert result.run.reason is not None
    assert result.run.reason.startswith(
        f"the outputs were written to {http_rig.root / 'out'} but not uploaded to "
        "drop:west/holdings: "
    )
    assert all(p.is_file() for p in outputs(http_rig.root / "out", "wau", http_rig.local_day()))


async def test_B3_H5_the_outputs_are_uploaded_over_SFTP(http_rig: Rig) -> None:
    catalog = seed_catalog(http_rig.alma.state)
    server_root = http_rig.root / "sftp"
    server_root.mkdir()
    async with sftp_server(server_root, Faults()) as server:
        http_rig.remotes = {
            "west": {
                "url": f"sftp://{USER}@127.0.0.1:{server.port}/incoming",
                "password": PASSWORD,
                "host_key": server.host_key.get_fingerprint("sha256"),
            }
        }
        http_rig.west = {"upload_to": "west"}

        result = await http_rig.run(
            http_rig.job("--ids", http_rig.ids_file(catalog.ids)), http_rig.root / "out"
        )

    assert result.run.status is RunStatus.OK, result.run.reason
    assert PASSWORD not in repr(result.run)
    for path in outputs(http_rig.root / "out", "wau", http_rig.local_day()):
        assert (server_root / "incoming" / path.name).read_bytes() == path.read_bytes()
    assert sorted(p.name for p in (server_root / "incoming").iterdir()) == sorted(
        p.name for p in (http_rig.root / "out").iterdir()
    )
