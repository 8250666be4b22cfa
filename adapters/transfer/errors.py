"""Transfer errors that callers tell apart, beyond the port's own :class:`TransferError`.

Both are ``TransferError`` subclasses, so code written against the port needs nothing more; the
configuration sources word each one for the operator (rule K1).
"""

from __future__ import annotations

from dataclasses import dataclass

from application.shared.files import TransferError

__all__ = ["LoginRefused", "RemoteNotFound"]


@dataclass
class RemoteNotFound(TransferError):
    """No such file or folder on the server; ``answer`` is the server's own words, when it sent
    some (an FTP reply such as ``550 path does not exists``)."""

    answer: str = ""


class LoginRefused(TransferError):
    """The server refused the user or the password (never retried: it would only lock the
    account sooner)."""
