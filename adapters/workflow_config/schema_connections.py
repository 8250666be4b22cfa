"""What the workflows connect to: ``[alma.CODE]`` and ``[remotes.NAME]`` (rule B9).

A remote's URL is taken apart here, its password (if the URL held one) kept apart from the text
that may be printed. Whether a password or an API key is given at all is the loader's question:
it may come from the environment instead.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import SplitResult, unquote, urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from adapters.workflow_config.schema_values import (
    SecretText,
    Table,
    http_url,
    optional_text,
    problem,
    text,
    whole,
)
from application.shared.workflow_settings import RemoteProtocol

__all__ = ["AlmaConf", "ParsedUrl", "RemoteConf"]

_DEFAULT_PORTS: Final = {"sftp": 22, "ftp": 21}


def _alma_host(value: object) -> str:
    url = http_url(value)
    if url.lower().endswith("/almaws/v1"):
        raise problem("must be the API host only: /almaws/v1 is appended")
    return url


def _fingerprint(value: object) -> str | None:
    fingerprint = optional_text(value)
    if fingerprint is None:
        return None
    if not fingerprint.startswith("SHA256:") or len(fingerprint) <= len("SHA256:"):
        raise problem(
            "must be an OpenSSH SHA256 fingerprint (SHA256:<base64>, as "
            "`ssh-keyscan HOST | ssh-keygen -lf -` prints it)"
        )
    return fingerprint


class ParsedUrl(BaseModel):
    """A remote's URL taken apart; the password (if the URL held one) kept apart from it."""

    model_config = ConfigDict(frozen=True)

    protocol: RemoteProtocol
    host: str
    port: int
    user: str
    folder: str
    # Never in the repr: a model printed in a traceback must not show it.
    password: str | None = Field(repr=False)
    display: str
    """The URL without its password: safe to print."""


def _remote_url(value: object) -> ParsedUrl:
    url = text(value)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("sftp", "ftp", "file"):
        raise problem(
            "must be an sftp://, ftp:// or file:// URL, such as sftp://user@host:22/alma/aspace"
        )
    if parts.query or parts.fragment:
        raise problem("must be a URL without ?query or #fragment")
    try:
        port = parts.port
    except ValueError:
        raise problem("has a port that is not a number from 1 to 65535") from None
    folder = unquote(parts.path)
    if scheme == "file":
        if parts.hostname not in (None, "", "localhost") or parts.username or port:
            raise problem("must be file:///absolute/folder (a file:// URL names no host)")
        if not folder.startswith("/"):
            raise problem("must be file:///absolute/folder (an absolute path)")
        return ParsedUrl(
            protocol="file", host="", port=0, user="", folder=folder, password=None, display=url
        )
    if not parts.hostname:
        raise problem(f"must name a host, such as {scheme}://user@host/folder")
    protocol: RemoteProtocol = "sftp" if scheme == "sftp" else "ftp"
    if protocol == "sftp" and folder.startswith("/~/"):
        # draft-ietf-secsh-scp-sftp-ssh-uri: /~/ starts a path relative to the login directory.
        folder = folder[len("/~/") :]
    return ParsedUrl(
        protocol=protocol,
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[scheme],
        user=unquote(parts.username) if parts.username else "",
        folder=folder or "/",
        password=unquote(parts.password) if parts.password else None,
        display=_without_password(parts),
    )


def _without_password(parts: SplitResult) -> str:
    if parts.password is None:
        return parts.geturl()
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}@{host}" if user else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()


class AlmaConf(Table):
    """``[alma.CODE]``."""

    url: Annotated[str, BeforeValidator(_alma_host)]
    # Required, unless ALMABRIDGE_APIKEY_<CODE> gives it (checked in the loader).
    apikey: SecretText = Field(default=None, repr=False)
    rate_limit_per_second: Annotated[
        int, BeforeValidator(whole(1, 25, " (Alma's limit per institution)"))
    ] = 25


class RemoteConf(Table):
    """``[remotes.NAME]``."""

    url: Annotated[ParsedUrl, BeforeValidator(_remote_url)]
    password: SecretText = Field(default=None, repr=False)
    host_key: Annotated[str | None, BeforeValidator(_fingerprint)] = None
