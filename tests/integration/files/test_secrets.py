"""The password never shows: not in any error, not in any log record, whatever goes wrong."""

from __future__ import annotations

import logging

import pytest

from adapters.transfer import FtpFileTransfer, LoginRefused, SftpFileTransfer
from application.shared.connections import Secret
from application.shared.files import TransferError
from tests.integration.files.conftest import FAST_RETRY, ITEMS, SERVERS, Rig
from tests.integration.files.servers import PASSWORD

WRONG = "Wr0ng-pa55-MUST-not-leak-91b2"


def _with_password(rig: Rig, password: str) -> SftpFileTransfer | FtpFileTransfer:
    if rig.kind == "sftp":
        assert rig.sftp is not None
        known = rig.root.parent / "known_hosts"
        return SftpFileTransfer(
            "127.0.0.1",
            port=rig.sftp.port,
            user="alma",
            password=Secret(password),
            known_hosts=known,
            retry=FAST_RETRY,
        )
    assert rig.ftp_port is not None
    return FtpFileTransfer(
        "127.0.0.1", port=rig.ftp_port, user="alma", password=Secret(password), retry=FAST_RETRY
    )


@pytest.mark.parametrize("rig", SERVERS, indirect=True)
async def test_no_password_in_errors_or_logs(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rig.put(f"{ITEMS}/a.tar.gz", b"x" * (1024 * 1024))
    errors: list[TransferError] = []

    wrong = _with_password(rig, WRONG)
    with pytest.raises(LoginRefused) as refused:
        await wrong.list_files(ITEMS)
    errors.append(refused.value)
    await wrong.aclose()
    assert "login refused" in refused.value.reason

    transfer = _with_password(rig, PASSWORD)
    rig.faults.dropped_listings = 1
    await transfer.list_files(ITEMS)  # retried after a drop: logged as a warning
    rig.fail_downloads(f"{ITEMS}/a.tar.gz", times=99)
    with pytest.raises(TransferError) as failed:
        await transfer.download(f"{ITEMS}/a.tar.gz", rig.local / "a.tar.gz")
    errors.append(failed.value)
    with pytest.raises(TransferError) as missing:
        await transfer.download(f"{ITEMS}/absent", rig.local / "absent")
    errors.append(missing.value)
    await transfer.aclose()

    texts = [str(error) for error in errors] + [repr(error) for error in errors]
    texts += [record.getMessage() for record in caplog.records]
    texts.append(caplog.text)  # formatted, tracebacks included
    assert any("attempt 2 of 3" in text for text in texts)  # the retries were logged
    for secret in (PASSWORD, WRONG):
        assert [text for text in texts if secret in text] == []


def test_a_server_echoing_the_password_is_scrubbed() -> None:
    transfer = FtpFileTransfer("h", user="u", password=Secret("s3cret-value"))
    failure = transfer._describe(OSError("the server said s3cret-value back"))
    assert failure is not None
    assert failure.reason == "connection failed: the server said *** back"
