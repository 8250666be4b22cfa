"""SFTP host keys: known_hosts or a SHA256 pin; anything else refused before the password is sent
(the Java app accepted every key)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from adapters.transfer import SftpFileTransfer
from application.shared.connections import Secret
from application.shared.files import HostKeyRefused
from tests.integration.files.conftest import FAST_RETRY, ITEMS
from tests.integration.files.servers import PASSWORD, USER, Faults, SftpServer, sftp_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    (tmp_path / "root" / ITEMS.lstrip("/")).mkdir(parents=True)
    (tmp_path / "root" / ITEMS.lstrip("/") / "a.xml").write_bytes(b"a")
    async with sftp_server(tmp_path / "root", Faults()) as running:
        yield running


def _adapter(server: SftpServer, **trust: object) -> SftpFileTransfer:
    return SftpFileTransfer(
        "127.0.0.1",
        port=server.port,
        user=USER,
        password=Secret(PASSWORD),
        retry=FAST_RETRY,
        **trust,  # type: ignore[arg-type]
    )


async def _refusal(adapter: SftpFileTransfer) -> HostKeyRefused:
    try:
        with pytest.raises(HostKeyRefused) as caught:
            await adapter.list_files(ITEMS)
    finally:
        await adapter.aclose()
    assert PASSWORD not in str(caught.value)
    return caught.value


async def test_a_known_host_key_is_accepted(server: SftpServer, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line())
    adapter = _adapter(server, known_hosts=known)
    assert [file.name for file in await adapter.list_files(ITEMS)] == ["a.xml"]
    await adapter.aclose()


async def test_an_unknown_host_key_is_refused_naming_host_and_fingerprint(
    server: SftpServer, tmp_path: Path
) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line(impostor))

    refused = await _refusal(_adapter(server, known_hosts=known))

    offered = server.host_key.get_fingerprint("sha256")
    assert refused.where == f"sftp://alma@127.0.0.1:{server.port}"
    assert refused.reason == (
        f"host key is not trusted: 127.0.0.1:{server.port} offered ssh-ed25519 {offered}, "
        f"which is not in {known}; refusing to connect (unknown host keys are never accepted)"
    )


async def test_a_host_missing_from_known_hosts_is_refused(
    server: SftpServer, tmp_path: Path
) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(server.known_hosts_line().replace("127.0.0.1", "elsewhere.example.org"))
    refused = await _refusal(_adapter(server, known_hosts=known))
    assert "is not in" in refused.reason


async def test_a_fingerprint_pin_is_accepted(server: SftpServer) -> None:
    pin = server.host_key.get_fingerprint("sha256")
    adapter = _adapter(server, host_key_fingerprint=pin)
    assert [file.name for file in await adapter.list_files(ITEMS)] == ["a.xml"]
    await adapter.aclose()


async def test_a_pin_with_base64_padding_is_the_same_pin(server: SftpServer) -> None:
    adapter = _adapter(server, host_key_fingerprint=server.host_key.get_fingerprint("sha256") + "=")
    assert len(await adapter.list_files(ITEMS)) == 1
    await adapter.aclose()


async def test_a_wrong_pin_is_refused(server: SftpServer) -> None:
    wrong = asyncssh.generate_private_key("ssh-ed25519").get_fingerprint("sha256")
    refused = await _refusal(_adapter(server, host_key_fingerprint=wrong))
    assert f"does not match host_key_fingerprint {wrong}" in refused.reason
    assert server.host_key.get_fingerprint("sha256") in refused.reason


async def test_without_known_hosts_or_pin_every_key_is_refused(server: SftpServer) -> None:
    refused = await _refusal(_adapter(server))
    assert server.host_key.get_fingerprint("sha256") in refused.reason  # what to pin
    assert "set known_hosts or host_key_fingerprint" in refused.reason


async def test_an_unreadable_known_hosts_file_is_refused(
    server: SftpServer, tmp_path: Path
) -> None:
    refused = await _refusal(_adapter(server, known_hosts=tmp_path / "absent"))
    assert refused.reason.startswith(f"cannot read the known_hosts file {tmp_path / 'absent'}")


async def test_a_refused_key_is_not_retried_and_no_password_is_sent(tmp_path: Path) -> None:
    faults = Faults()
    (tmp_path / "root").mkdir()
    async with sftp_server(tmp_path / "root", faults) as server:
        await _refusal(_adapter(server, host_key_fingerprint="SHA256:wrong"))
        assert (faults.connections, faults.logins) == (1, 0)

        pinned = _adapter(server, host_key_fingerprint=server.host_key.get_fingerprint("sha256"))
        await pinned.make_folders("/x")
        await pinned.aclose()
        assert (faults.connections, faults.logins) == (2, 1)
