"""Connections every workflow uses: secrets that never show themselves, and the file server.

Built by a configuration source adapter (rules K1–K3); the application only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


class Secret:
    """A secret value that never shows itself in repr, str, logs or error text."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The real value, for the one place that must send it (a header, a login)."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


TransferProtocol = Literal["sftp", "ftp", "local"]


@dataclass(frozen=True)
class FileServer:
    """Where Alma drops publishing archives and request files (conf.json ``ftp_server``)."""

    host: str
    user: str
    password: Secret
    main_folder: str
    port: int
    protocol: TransferProtocol
    known_hosts: str | None = None
    host_key_fingerprint: str | None = None
