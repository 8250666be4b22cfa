"""File exchange with the server where Alma drops its files (rules I1, R1): the ``FileTransfer``
port over SFTP, FTP, a local directory and memory.

``base`` holds the semantics every adapter shares (claims into ``OLD/``, put-backs, ``.part``
downloads, uploads under a temporary name, retries); ``sftp``, ``ftp``, ``local`` and ``memory``
supply the primitives; ``factory`` picks one from the settings.
"""

from adapters.transfer.base import BaseFileTransfer
from adapters.transfer.errors import LoginRefused, RemoteNotFound
from adapters.transfer.factory import file_transfer_for
from adapters.transfer.ftp import FtpFileTransfer
from adapters.transfer.local import LocalFileTransfer
from adapters.transfer.memory import InMemoryFileTransfer, MemoryFiles
from adapters.transfer.retry import RetryPolicy
from adapters.transfer.sftp import SftpFileTransfer

__all__ = [
    "BaseFileTransfer",
    "FtpFileTransfer",
    "InMemoryFileTransfer",
    "LocalFileTransfer",
    "LoginRefused",
    "MemoryFiles",
    "RemoteNotFound",
    "RetryPolicy",
    "SftpFileTransfer",
    "file_transfer_for",
]
