"""The adapter for the configured ftp_server: the protocol chosen at load time decides."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.scf.config.mapping import resolve_transfer
from adapters.transfer import (
    FtpFileTransfer,
    LocalFileTransfer,
    SftpFileTransfer,
    file_transfer_for,
)
from application.shared.connections import FileServer, Secret, TransferProtocol
from tests.integration.files.conftest import ITEMS, Rig
from tests.integration.files.servers import PASSWORD


def _server(protocol: TransferProtocol, port: int, **extra: str) -> FileServer:
    return FileServer(
        host="127.0.0.1",
        user="alma",
        password=Secret("pw"),
        main_folder=extra.pop("main_folder", "/alma"),
        port=port,
        protocol=protocol,
        **extra,
    )


@pytest.mark.parametrize(
    ("protocol", "port", "adapter"),
    [
        (None, 22, SftpFileTransfer),  # parity: port 22 is SFTP
        (None, 21, FtpFileTransfer),
        (None, 2121, FtpFileTransfer),
        ("sftp", 2222, SftpFileTransfer),  # an explicit protocol wins
        ("ftp", 22, FtpFileTransfer),
        ("local", None, LocalFileTransfer),
    ],
)
def test_the_protocol_picks_the_adapter(
    protocol: str | None, port: int | None, adapter: type[object]
) -> None:
    chosen, resolved_port = resolve_transfer(protocol, port)
    assert isinstance(file_transfer_for(_server(chosen, resolved_port)), adapter)


@pytest.mark.parametrize("rig", ["sftp", "ftp"], indirect=True)
async def test_the_configured_server_is_reached(rig: Rig) -> None:
    rig.put(f"{ITEMS}/a.xml", b"a")
    if rig.sftp is not None:
        pin = rig.sftp.host_key.get_fingerprint("sha256")
        server = _server("sftp", rig.sftp.port, host_key_fingerprint=pin)
    else:
        assert rig.ftp_port is not None
        server = _server("ftp", rig.ftp_port)
    server = replace(server, password=Secret(PASSWORD))
    transfer = file_transfer_for(server)
    try:
        assert [file.name for file in await transfer.list_files(ITEMS)] == ["a.xml"]
    finally:
        await transfer.aclose()


async def test_a_local_server_uses_main_folder_as_a_local_path(tmp_path: Path) -> None:
    (tmp_path / "alma" / "01AAA_AB" / "items").mkdir(parents=True)
    (tmp_path / "alma" / "01AAA_AB" / "items" / "a.xml").write_bytes(b"a")
    main_folder = str(tmp_path / "alma")
    transfer = file_transfer_for(_server("local", 0, main_folder=main_folder))
    files = await transfer.list_files(f"{main_folder}/01AAA_AB/items")
    assert [file.name for file in files] == ["a.xml"]


@pytest.mark.parametrize("rig", ["ftp"], indirect=True)
async def test_an_ftp_pool_opens_no_more_connections_than_allowed(rig: Rig) -> None:
    for number in range(12):
        rig.put(f"{ITEMS}/{number}.xml", b"x" * 50_000)
    assert rig.ftp_port is not None
    transfer = FtpFileTransfer(
        "127.0.0.1", port=rig.ftp_port, user="alma", password=Secret(PASSWORD), connections=3
    )
    try:
        sizes = await asyncio.gather(
            *(
                transfer.download(f"{ITEMS}/{number}.xml", rig.local / f"{number}.xml")
                for number in range(12)
            )
        )
    finally:
        await transfer.aclose()
    assert sizes == [50_000] * 12
    assert 1 <= rig.faults.connections <= 3
