"""Faults on real servers: downloads cut midway, dropped connections, concurrent claimers (I1).

The SFTP server fails reads past an offset; the FTP server answers 451 and closes the data
connection there; both can drop the whole connection during a listing (see ``servers.py``).
The in-memory twin drops its simulated connection after the first chunk.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from application.shared.files import ClaimedFile, RemoteFile, TransferError
from tests.integration.files.conftest import ITEMS, KINDS, SERVERS, Rig

OLD = f"{ITEMS}/OLD"
ARCHIVE = os.urandom(1024 * 1024)  # the servers fail at 600 KiB, well past the first chunks
FAULTY = pytest.mark.parametrize("rig", ["memory", *SERVERS], indirect=True)


@FAULTY
async def test_a_download_failing_midway_is_put_back(rig: Rig) -> None:
    # The sequence of rule I1: claim, download fails after the adapter's retries, put back.
    rig.put(f"{ITEMS}/a_new.tar.gz", ARCHIVE)
    rig.fail_downloads(f"{ITEMS}/a_new.tar.gz", times=99)
    transfer = rig.open()
    local = rig.local / "a_new.tar.gz"

    [file] = await transfer.list_files(ITEMS)
    claimed = await transfer.claim(file)
    assert claimed is not None
    with pytest.raises(TransferError) as caught:
        await transfer.download(claimed.claimed_path, local)
    await transfer.put_back(claimed)

    assert "download failed" in caught.value.reason
    assert "after 3 attempts" in caught.value.reason
    assert caught.value.where == transfer.where(f"{OLD}/a_new.tar.gz")
    assert rig.read(f"{ITEMS}/a_new.tar.gz") == ARCHIVE
    assert rig.names(OLD) == []
    assert not rig.local.exists() or list(rig.local.iterdir()) == []  # no file, no .part
    if rig.kind != "memory":
        assert rig.faults.bytes_served_before_failure >= 3 * 512 * 1024  # midway, 3 times


@FAULTY
async def test_a_download_failing_once_is_retried(rig: Rig) -> None:
    rig.put(f"{ITEMS}/a.tar.gz", ARCHIVE)
    rig.fail_downloads(f"{ITEMS}/a.tar.gz", times=1)
    transfer = rig.open()

    written = await transfer.download(f"{ITEMS}/a.tar.gz", rig.local / "a.tar.gz")

    assert written == len(ARCHIVE)
    assert (rig.local / "a.tar.gz").read_bytes() == ARCHIVE
    assert sorted(path.name for path in rig.local.iterdir()) == ["a.tar.gz"]
    if rig.kind != "memory":
        # An error reply (an SFTP failure status, FTP 451) leaves the connection usable.
        assert rig.faults.connections == 1


async def test_a_dropped_listing_is_retried_on_a_new_connection(server_rig: Rig) -> None:
    server_rig.put(f"{ITEMS}/a.xml", b"a")
    transfer = server_rig.open()
    assert await transfer.list_files("/") == []  # connected once
    server_rig.faults.dropped_listings = 1

    [file] = await transfer.list_files(ITEMS)

    assert file.name == "a.xml"
    assert server_rig.faults.listings_dropped == 1
    assert server_rig.faults.connections == 2


async def test_a_listing_dropped_every_time_fails_after_bounded_attempts(server_rig: Rig) -> None:
    server_rig.mkdir(ITEMS)
    server_rig.faults.dropped_listings = 99
    transfer = server_rig.open()

    with pytest.raises(TransferError) as caught:
        await transfer.list_files(ITEMS)

    assert "list failed" in caught.value.reason
    assert "after 3 attempts" in caught.value.reason
    assert server_rig.faults.listings_dropped == 3


async def test_a_download_cut_off_with_its_connection_reconnects(server_rig: Rig) -> None:
    server_rig.put(f"{ITEMS}/a.tar.gz", ARCHIVE)
    server_rig.fail_downloads(f"{ITEMS}/a.tar.gz", times=1)
    server_rig.faults.drop_connection = True
    transfer = server_rig.open()

    written = await transfer.download(f"{ITEMS}/a.tar.gz", server_rig.local / "a.tar.gz")

    assert written == len(ARCHIVE)
    assert (server_rig.local / "a.tar.gz").read_bytes() == ARCHIVE
    assert server_rig.faults.bytes_served_before_failure >= 512 * 1024
    assert server_rig.faults.connections == 2


@pytest.mark.parametrize("rig", KINDS, indirect=True)
async def test_concurrent_claimers_claim_each_file_exactly_once(rig: Rig) -> None:
    # Five claimers (five adapters, five connections) race for ten files, each in its own order.
    names = [f"{number:02}_new.tar.gz" for number in range(10)]
    for name in names:
        rig.put(f"{ITEMS}/{name}", name.encode())
    claimers = [rig.open() for _ in range(5)]
    files = [RemoteFile(folder=ITEMS, name=name) for name in names]

    async def claim_all(index: int) -> list[ClaimedFile]:
        order = files[index * 2 :] + files[: index * 2]
        won = [await claimers[index].claim(file) for file in order]
        return [claimed for claimed in won if claimed is not None]

    async with asyncio.timeout(30):
        wins = await asyncio.gather(*(claim_all(index) for index in range(5)))

    claimed = sorted((c for won in wins for c in won), key=lambda c: c.name)
    assert [c.name for c in claimed] == names  # every file exactly once
    assert all(c.claimed_path == f"{OLD}/{c.name}" for c in claimed)
    assert rig.names(OLD) == names
    assert all(rig.read(f"{OLD}/{name}") == name.encode() for name in names)
    assert rig.names(ITEMS) == ["OLD"]
