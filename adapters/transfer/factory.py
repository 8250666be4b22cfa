"""The adapter for the configured file server (conf.json ``ftp_server``).

The protocol was settled when the settings were loaded (``adapters.scf.config.mapping``): an
explicit ``protocol`` wins, otherwise port 22 means SFTP and any other port FTP, as in the Java app.
"""

from __future__ import annotations

from pathlib import Path

from adapters.transfer.base import BaseFileTransfer
from adapters.transfer.ftp import FtpFileTransfer
from adapters.transfer.local import LocalFileTransfer
from adapters.transfer.retry import RetryPolicy
from adapters.transfer.sftp import SftpFileTransfer
from application.shared.connections import FileServer

__all__ = ["file_transfer_for"]


def file_transfer_for(
    server: FileServer, *, timeout: float = 30.0, retry: RetryPolicy | None = None
) -> BaseFileTransfer:
    """A new adapter (with its own connection) for ``server``; close it with ``aclose()``."""
    match server.protocol:
        case "sftp":
            return SftpFileTransfer(
                server.host,
                port=server.port,
                user=server.user,
                password=server.password,
                known_hosts=server.known_hosts,
                host_key_fingerprint=server.host_key_fingerprint,
                timeout=timeout,
                retry=retry,
            )
        case "ftp":
            return FtpFileTransfer(
                server.host,
                port=server.port,
                user=server.user,
                password=server.password,
                timeout=timeout,
                retry=retry,
            )
        case "local":
            # main_folder is a local path then; callers build {main_folder}/{INST}/items from
            # it, so an absolute one is used as it is and a relative one from here.
            root = Path("/") if Path(server.main_folder).is_absolute() else Path.cwd()
            return LocalFileTransfer(root)
