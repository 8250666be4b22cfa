"""The FileTransfer contract, one suite over every adapter: memory, local, SFTP, FTP (I1, R1)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterable

import pytest

from adapters.transfer import BaseFileTransfer, RemoteNotFound
from application.ports.transfer import FileTransfer
from application.shared.files import ClaimedFile, RemoteFile, TransferError
from tests.integration.files.conftest import ITEMS, Rig

OLD = f"{ITEMS}/OLD"
BIG = os.urandom(1024 * 1024 + 123)  # many chunks and requests on every adapter


def test_every_adapter_satisfies_the_port(transfer: BaseFileTransfer) -> None:
    port: FileTransfer = transfer  # checked by mypy; here it only has to exist
    assert port is transfer


# -- list_files ---------------------------------------------------------------------------------


async def test_list_files_shows_plain_files_by_name(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/b_new.tar.gz", b"bb")
    rig.put(f"{ITEMS}/a_delete.xml", b"a")
    rig.put(f"{ITEMS}/.c.xml.uploading", b"half")
    rig.put(f"{ITEMS}/OLD/claimed.xml", b"old")
    rig.mkdir(f"{ITEMS}/sub")

    files = await transfer.list_files(ITEMS)

    assert [file.name for file in files] == ["a_delete.xml", "b_new.tar.gz"]
    assert all(file.folder == ITEMS for file in files)
    assert files[0].path == f"{ITEMS}/a_delete.xml"
    assert [file.size for file in files] == [1, 2]


async def test_list_files_skips_links(rig: Rig, transfer: BaseFileTransfer) -> None:
    if rig.kind in ("memory", "ftp"):
        pytest.skip("memory has no links; aioftp's server reports a link as its target")
    rig.put(f"{ITEMS}/real.xml", b"x")
    (rig.root / ITEMS.lstrip("/") / "link.xml").symlink_to(
        rig.root / ITEMS.lstrip("/") / "real.xml"
    )
    assert [file.name for file in await transfer.list_files(ITEMS)] == ["real.xml"]


async def test_list_files_of_a_missing_folder_is_not_found(transfer: BaseFileTransfer) -> None:
    with pytest.raises(RemoteNotFound) as caught:
        await transfer.list_files("/alma/nobody/items")
    assert caught.value.where == transfer.where("/alma/nobody/items")


async def test_an_empty_folder_lists_nothing(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.mkdir(ITEMS)
    assert await transfer.list_files(ITEMS) == []


# -- claim --------------------------------------------------------------------------------------


async def test_claim_moves_the_file_into_OLD_creating_it(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    rig.put(f"{ITEMS}/a.tar.gz", b"archive")
    [file] = await transfer.list_files(ITEMS)

    claimed = await transfer.claim(file)

    assert claimed == ClaimedFile(folder=ITEMS, name="a.tar.gz", claimed_path=f"{OLD}/a.tar.gz")
    assert claimed.original_path == file.path
    assert rig.read(f"{OLD}/a.tar.gz") == b"archive"
    assert rig.read(file.path) is None
    assert await transfer.list_files(ITEMS) == []


async def test_claim_of_a_file_gone_meanwhile_is_none(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.mkdir(ITEMS)
    assert await transfer.claim(RemoteFile(folder=ITEMS, name="gone.xml")) is None
    assert rig.names(OLD) == []


async def test_claim_never_overwrites_an_earlier_claim(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    rig.put(f"{OLD}/a.xml", b"first")
    rig.put(f"{OLD}/a.xml.1", b"second")
    rig.put(f"{ITEMS}/a.xml", b"third")

    claimed = await transfer.claim(RemoteFile(folder=ITEMS, name="a.xml"))

    assert claimed is not None
    assert claimed.claimed_path == f"{OLD}/a.xml.2"
    assert [rig.read(f"{OLD}/{name}") for name in ("a.xml", "a.xml.1", "a.xml.2")] == [
        b"first",
        b"second",
        b"third",
    ]


# -- download -----------------------------------------------------------------------------------


async def test_download_streams_the_whole_file(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/big.tar.gz", BIG)
    target = rig.local / "inst" / "big.tar.gz"  # folders are created

    written = await transfer.download(f"{ITEMS}/big.tar.gz", target)

    assert written == len(BIG)
    assert target.read_bytes() == BIG
    assert sorted(path.name for path in target.parent.iterdir()) == ["big.tar.gz"]


async def test_download_of_an_empty_file(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/empty.xml", b"")
    assert await transfer.download(f"{ITEMS}/empty.xml", rig.local / "empty.xml") == 0
    assert (rig.local / "empty.xml").read_bytes() == b""


async def test_download_of_a_missing_file_leaves_nothing(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    rig.mkdir(ITEMS)
    rig.local.mkdir()
    with pytest.raises(RemoteNotFound) as caught:
        await transfer.download(f"{ITEMS}/absent.xml", rig.local / "absent.xml")
    assert caught.value.where == transfer.where(f"{ITEMS}/absent.xml")
    assert list(rig.local.iterdir()) == []


async def test_download_replaces_an_older_local_copy(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/a.xml", b"new")
    rig.local.mkdir()
    (rig.local / "a.xml").write_bytes(b"older and longer")
    await transfer.download(f"{ITEMS}/a.xml", rig.local / "a.xml")
    assert (rig.local / "a.xml").read_bytes() == b"new"


# -- put_back -----------------------------------------------------------------------------------


async def test_put_back_returns_a_claimed_file(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/a.xml", b"a")
    claimed = await transfer.claim(RemoteFile(folder=ITEMS, name="a.xml"))
    assert claimed is not None

    await transfer.put_back(claimed)

    assert rig.read(f"{ITEMS}/a.xml") == b"a"
    assert rig.names(OLD) == []
    assert [file.name for file in await transfer.list_files(ITEMS)] == ["a.xml"]


async def test_put_back_keeps_the_claim_when_a_new_file_took_the_name(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    rig.put(f"{ITEMS}/a.xml", b"claimed")
    claimed = await transfer.claim(RemoteFile(folder=ITEMS, name="a.xml"))
    assert claimed is not None
    rig.put(f"{ITEMS}/a.xml", b"newer")

    with pytest.raises(TransferError, match="stays at"):
        await transfer.put_back(claimed)

    assert rig.read(f"{ITEMS}/a.xml") == b"newer"
    assert rig.read(claimed.claimed_path) == b"claimed"


async def test_put_back_of_a_vanished_claim_is_not_found(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    rig.mkdir(OLD)
    claimed = ClaimedFile(folder=ITEMS, name="a.xml", claimed_path=f"{OLD}/a.xml")
    with pytest.raises(RemoteNotFound):
        await transfer.put_back(claimed)


# -- upload -------------------------------------------------------------------------------------


async def test_upload_goes_through_a_hidden_temporary_name(
    rig: Rig, transfer: BaseFileTransfer, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig.mkdir("/reports")
    rig.local.mkdir()
    source = rig.local / "report.csv"
    source.write_bytes(BIG)
    written_to: list[str] = []
    write = transfer._write

    async def spy(path: str, chunks: AsyncIterable[bytes]) -> None:
        written_to.append(path)
        await write(path, chunks)

    monkeypatch.setattr(transfer, "_write", spy)

    await transfer.upload(source, "/reports/report.csv")

    assert written_to == ["/reports/.report.csv.uploading"]
    assert rig.read("/reports/report.csv") == BIG
    assert rig.names("/reports") == ["report.csv"]


async def test_upload_replaces_an_existing_file(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put("/reports/report.csv", b"old")
    rig.local.mkdir()
    (rig.local / "report.csv").write_bytes(b"new")
    await transfer.upload(rig.local / "report.csv", "/reports/report.csv")
    assert rig.read("/reports/report.csv") == b"new"
    assert rig.names("/reports") == ["report.csv"]


async def test_upload_into_a_missing_folder_fails_cleanly(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    rig.local.mkdir()
    (rig.local / "r.csv").write_bytes(b"r")
    rig.mkdir("/elsewhere")
    with pytest.raises(TransferError):
        await transfer.upload(rig.local / "r.csv", "/no/such/folder/r.csv")
    assert rig.names("/no/such/folder") == []


async def test_upload_of_a_missing_local_file_names_it(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    rig.mkdir("/reports")
    missing = rig.local / "missing.csv"
    with pytest.raises(TransferError) as caught:
        await transfer.upload(missing, "/reports/missing.csv")
    assert caught.value.where == str(missing)
    assert rig.names("/reports") == []


# -- rename, delete, make_folders ---------------------------------------------------------------


async def test_rename_moves_a_file(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/a.xml", b"a")
    rig.mkdir("/archive")
    await transfer.rename(f"{ITEMS}/a.xml", "/archive/a.xml")
    assert rig.read("/archive/a.xml") == b"a"
    assert rig.read(f"{ITEMS}/a.xml") is None


async def test_rename_never_overwrites(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/a.xml", b"a")
    rig.put(f"{ITEMS}/b.xml", b"b")
    with pytest.raises(TransferError, match="exists already") as caught:
        await transfer.rename(f"{ITEMS}/a.xml", f"{ITEMS}/b.xml")
    assert caught.value.where == transfer.where(f"{ITEMS}/b.xml")
    assert (rig.read(f"{ITEMS}/a.xml"), rig.read(f"{ITEMS}/b.xml")) == (b"a", b"b")


async def test_rename_of_a_missing_file_is_not_found(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.mkdir(ITEMS)
    with pytest.raises(RemoteNotFound):
        await transfer.rename(f"{ITEMS}/absent.xml", f"{ITEMS}/b.xml")


async def test_delete_removes_a_file(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/a.xml", b"a")
    await transfer.delete(f"{ITEMS}/a.xml")
    assert rig.names(ITEMS) == []
    with pytest.raises(RemoteNotFound):
        await transfer.delete(f"{ITEMS}/a.xml")


async def test_make_folders_creates_parents_and_tolerates_existing(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    await transfer.make_folders("/alma/01AAA_CD/requests")
    await transfer.make_folders("/alma/01AAA_CD/requests")
    assert rig.names("/alma") == ["01AAA_CD"]
    assert rig.names("/alma/01AAA_CD") == ["requests"]
    assert await transfer.list_files("/alma/01AAA_CD/requests") == []


# -- connections and concurrency ----------------------------------------------------------------


async def test_an_adapter_works_again_after_aclose(rig: Rig, transfer: BaseFileTransfer) -> None:
    rig.put(f"{ITEMS}/a.xml", b"a")
    assert len(await transfer.list_files(ITEMS)) == 1
    await transfer.aclose()
    assert len(await transfer.list_files(ITEMS)) == 1


async def test_one_connection_serves_a_whole_batch(rig: Rig, transfer: BaseFileTransfer) -> None:
    for number in range(5):
        rig.put(f"{ITEMS}/{number}.xml", str(number).encode())
    for file in await transfer.list_files(ITEMS):
        claimed = await transfer.claim(file)
        assert claimed is not None
        await transfer.download(claimed.claimed_path, rig.local / file.name)
    if rig.kind in ("sftp", "ftp"):
        assert rig.faults.connections == 1


async def test_tasks_share_one_adapter_safely(rig: Rig, transfer: BaseFileTransfer) -> None:
    # The Java app shared one FTP client across threads; here 20 tasks share one adapter.
    contents = {f"{number:02}.xml": os.urandom(40_000 + number) for number in range(12)}
    for name, data in contents.items():
        rig.put(f"{ITEMS}/{name}", data)

    async def fetch(name: str) -> bytes:
        await transfer.download(f"{ITEMS}/{name}", rig.local / name)
        return (rig.local / name).read_bytes()

    async with asyncio.timeout(30):
        listings = [transfer.list_files(ITEMS) for _ in range(8)]
        results = await asyncio.gather(*(fetch(name) for name in contents), *listings)

    assert results[: len(contents)] == list(contents.values())
    for listing in results[len(contents) :]:
        assert isinstance(listing, list)
        assert [file.name for file in listing] == sorted(contents)
    if rig.kind in ("sftp", "ftp"):
        assert rig.faults.connections == 1  # one SSH connection; one FTP client, in turn


async def test_a_download_that_cannot_be_stored_leaves_nothing(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    rig.put(f"{ITEMS}/a.xml", b"a")
    (rig.local / "a.xml").mkdir(parents=True)  # the local name is taken by a folder
    with pytest.raises(TransferError) as caught:
        await transfer.download(f"{ITEMS}/a.xml", rig.local / "a.xml")
    assert caught.value.where == str(rig.local / "a.xml")
    assert caught.value.reason.startswith("local disk: ")
    assert sorted(path.name for path in rig.local.iterdir()) == ["a.xml"]
    assert rig.read(f"{ITEMS}/a.xml") == b"a"


async def test_where_names_protocol_user_host_and_path(
    rig: Rig, transfer: BaseFileTransfer
) -> None:
    expected = {
        "memory": f"memory:{ITEMS}/a.xml",
        "local": str(rig.root / ITEMS.lstrip("/") / "a.xml"),
        "sftp": f"sftp://alma@127.0.0.1:{rig.sftp.port if rig.sftp else 0}{ITEMS}/a.xml",
        "ftp": f"ftp://alma@127.0.0.1:{rig.ftp_port}{ITEMS}/a.xml",
    }
    assert transfer.where(f"{ITEMS}/a.xml") == expected[rig.kind]
