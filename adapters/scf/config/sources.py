"""Where conf.json comes from: a path, or an http(s), ftp or sftp URL (rule K1, ``CONFIG_FILE``).

Each source satisfies :class:`application.ports.ConfigSource`. ``describe()`` is what logs and
errors show, so it never contains a password: URLs are shown with their password (or a bare
userinfo, which is often a token) and query values replaced by ``***``.

Behaviours that differ from the Java app on purpose:

* ftp: the URL path is relative to the login directory, as RFC 1738 and Java's ``URL`` have it;
  ``%2F`` at its start makes it absolute (``ftp://h/%2Fetc/conf.json``). Passive mode.
* sftp (Java had no sftp URLs): the host key must be in a known_hosts file named by
  ``ALMABRIDGE_CONFIG_KNOWN_HOSTS``; an unknown key is refused, never accepted. The path is
  absolute; ``/~/`` at its start makes it relative to the login directory.
* every source has a timeout and a size cap, so a wrong URL cannot hang or flood startup.
* ftp and sftp are fetched through the file-exchange adapters (:mod:`adapters.transfer`), so the
  configuration gets the same host-key checks, password scrubbing and retries as Alma's files.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

import aioftp
import httpx

from adapters.scf.config.errors import ConfigSourceError
from adapters.transfer import (
    BaseFileTransfer,
    FtpFileTransfer,
    LoginRefused,
    RemoteNotFound,
    RetryPolicy,
    SftpFileTransfer,
)
from application.scf.ports import ConfigSource
from application.shared.connections import Secret
from application.shared.files import HostKeyRefused, TransferError

__all__ = [
    "DEFAULT_TIMEOUT",
    "KNOWN_HOSTS_ENV",
    "MAX_CONFIG_BYTES",
    "FileConfigSource",
    "FtpConfigSource",
    "HttpConfigSource",
    "SftpConfigSource",
    "config_source_from",
    "mask_url",
]

KNOWN_HOSTS_ENV = "ALMABRIDGE_CONFIG_KNOWN_HOSTS"
# A real conf.json is a few kilobytes; anything near this is the wrong file.
MAX_CONFIG_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
# Startup should not wait long on a server that is down: two tries, a short pause between.
FETCH_RETRY = RetryPolicy(attempts=2, first_delay=0.5, max_delay=1.0)


def mask_url(url: str) -> str:
    """``url`` safe to show: password (or bare userinfo) and query values become ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, has_password, _ = userinfo.partition(":")
        # A userinfo without a password is often a token (https://TOKEN@host/...): hide it all.
        netloc = f"{user}:***@{host}" if has_password else f"***@{host}"
    query = "&".join(
        f"{pair.partition('=')[0]}=***" if "=" in pair else "***"
        for pair in parts.query.split("&")
        if pair
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def config_source_from(
    value: str, *, known_hosts: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> ConfigSource:
    """The source for a ``CONFIG_FILE`` value: a plain path, or a file, http(s), ftp, sftp URL.

    ``known_hosts`` is required for sftp (its path, usually from ``ALMABRIDGE_CONFIG_KNOWN_HOSTS``).
    Raises :class:`ConfigSourceError` for an unsupported scheme or an sftp URL without it.
    """
    text = value.strip()
    if not text:
        raise ConfigSourceError("CONFIG_FILE", "empty: give a path or a URL")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    # No scheme is a path; so is a one-letter "scheme", which is a Windows drive (C:\conf.json).
    if len(scheme) <= 1:
        return FileConfigSource(text)
    if scheme == "file":
        return FileConfigSource(unquote(parts.path))
    if scheme in ("http", "https"):
        return HttpConfigSource(text, timeout=timeout)
    if scheme == "ftp":
        return FtpConfigSource(text, timeout=timeout)
    if scheme == "sftp":
        if not known_hosts:
            raise ConfigSourceError(
                mask_url(text),
                f"an sftp URL needs the server's host key: set {KNOWN_HOSTS_ENV} to a known_hosts "
                "file that lists it (unknown host keys are never accepted)",
            )
        return SftpConfigSource(text, known_hosts=known_hosts, timeout=timeout)
    raise ConfigSourceError(
        mask_url(text),
        f"unsupported URL scheme '{scheme}': use a path or an http(s)://, ftp:// or sftp:// URL",
    )


class FileConfigSource:
    """conf.json on the local file system (read in a worker thread, off the event loop)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)

    def describe(self) -> str:
        return str(self._path)

    async def read(self) -> bytes:
        return await asyncio.to_thread(self._read)

    def _read(self) -> bytes:
        try:
            with self._path.open("rb") as file:
                data = file.read(MAX_CONFIG_BYTES + 1)
        except FileNotFoundError:
            raise ConfigSourceError(self.describe(), "no such file") from None
        except IsADirectoryError:
            raise ConfigSourceError(self.describe(), "is a directory, not a file") from None
        except PermissionError:
            raise ConfigSourceError(self.describe(), "permission denied") from None
        except OSError as exc:
            raise ConfigSourceError(self.describe(), exc.strerror or str(exc)) from None
        return _capped(data, self.describe())


class HttpConfigSource:
    """conf.json from an http(s) URL; userinfo in the URL is sent as basic auth."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._password = unquote(urlsplit(url).password or "")
        self._timeout = timeout
        # Tests pass an ASGI transport; production uses the network.
        self._transport = transport

    def describe(self) -> str:
        return mask_url(self._url)

    async def read(self) -> bytes:
        where = self.describe()
        try:
            async with (
                httpx.AsyncClient(
                    timeout=httpx.Timeout(self._timeout),
                    transport=self._transport,
                    follow_redirects=True,
                    max_redirects=5,
                ) as client,
                client.stream("GET", self._url) as response,
            ):
                if not response.is_success:
                    raise ConfigSourceError(
                        where, f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
                    )
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data.extend(chunk)
                    if len(data) > MAX_CONFIG_BYTES:
                        break
        except httpx.TimeoutException:
            raise ConfigSourceError(where, f"timed out after {self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            # httpx messages name the host or the OS error, not the URL's password; the masking
            # below is for the day one does.
            reason = _without(self._password, f"{type(exc).__name__}: {exc}")
            raise ConfigSourceError(where, reason) from None
        return _capped(bytes(data), where)


class FtpConfigSource:
    """conf.json from an ftp URL (``ftp://user:password@host[:port]/path``), passive mode.

    Fetched through :class:`adapters.transfer.FtpFileTransfer`, as the bridge's own files are.
    """

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._url = url
        self._timeout = timeout
        parts = urlsplit(url)
        self._host, self._port = _host_port(parts, url, default_port=aioftp.DEFAULT_PORT)
        self._user = unquote(parts.username) if parts.username else "anonymous"
        self._password = unquote(parts.password) if parts.password else ""
        # RFC 1738: the path is relative to the login directory; a leading %2F makes it absolute.
        path = unquote(parts.path.removeprefix("/").split(";type=", 1)[0])
        if not path or path.endswith("/"):
            raise ConfigSourceError(self.describe(), "the URL names no file")
        self._path = path

    def describe(self) -> str:
        return mask_url(self._url)

    async def read(self) -> bytes:
        transfer = FtpFileTransfer(
            self._host,
            port=self._port,
            user=self._user,
            password=Secret(self._password),
            timeout=self._timeout,
            retry=FETCH_RETRY,
        )
        try:
            data = await _fetch(transfer, self._path, self.describe(), self._timeout)
        except RemoteNotFound as exc:
            answer = f" ({exc.answer})" if exc.answer else ""
            raise ConfigSourceError(self.describe(), f"cannot fetch {self._path}{answer}") from None
        return _capped(data, self.describe())


class SftpConfigSource:
    """conf.json from an sftp URL; the server's host key must be in ``known_hosts``.

    Fetched through :class:`adapters.transfer.SftpFileTransfer`, as the bridge's own files are.
    """

    def __init__(self, url: str, *, known_hosts: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._url = url
        self._timeout = timeout
        self._known_hosts = known_hosts
        parts = urlsplit(url)
        self._host, self._port = _host_port(parts, url, default_port=22)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        path = unquote(parts.path)
        # draft-ietf-secsh-scp-sftp-ssh-uri: /~/ starts a path relative to the login directory.
        if path.startswith("/~/"):
            path = path[len("/~/") :]
        if not path or path.endswith("/"):
            raise ConfigSourceError(self.describe(), "the URL names no file")
        self._path = path

    def describe(self) -> str:
        return mask_url(self._url)

    async def read(self) -> bytes:
        transfer = SftpFileTransfer(
            self._host,
            port=self._port,
            user=self._user,
            password=Secret(self._password),
            known_hosts=self._known_hosts,
            timeout=self._timeout,
            retry=FETCH_RETRY,
        )
        try:
            data = await _fetch(transfer, self._path, self.describe(), self._timeout)
        except RemoteNotFound:
            raise ConfigSourceError(
                self.describe(), f"no such file on the server: {self._path}"
            ) from None
        return _capped(data, self.describe())


async def _fetch(transfer: BaseFileTransfer, path: str, where: str, time_limit: float) -> bytes:
    """The file's bytes (capped), with every failure but "no such file" as a ConfigSourceError.

    The adapter retries a dropped connection; the timeout bounds the whole fetch, retries
    included, so a wrong URL cannot hold startup up.
    """
    try:
        async with asyncio.timeout(time_limit):
            return await transfer.read_bytes(path, limit=MAX_CONFIG_BYTES)
    except TimeoutError:
        raise ConfigSourceError(where, f"timed out after {time_limit:g} s") from None
    except (HostKeyRefused, LoginRefused) as exc:
        # Their reasons say it all: the host key and fingerprint, or the server's refusal.
        raise ConfigSourceError(where, exc.reason) from None
    except RemoteNotFound:
        raise
    except TransferError as exc:
        reason = exc.reason.removeprefix("read failed: ")
        raise ConfigSourceError(where, f"cannot fetch: {reason}") from None
    finally:
        await transfer.aclose()


def _host_port(parts: SplitResult, url: str, *, default_port: int) -> tuple[str, int]:
    try:
        port = parts.port
    except ValueError:
        raise ConfigSourceError(mask_url(url), "the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ConfigSourceError(mask_url(url), "the URL names no host")
    return parts.hostname, port or default_port


def _capped(data: bytes, where: str) -> bytes:
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigSourceError(
            where, f"larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB: not a conf.json"
        )
    return data


def _without(secret: str | None, text: str) -> str:
    return text.replace(secret, "***") if secret else text
