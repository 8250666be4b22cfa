"""Configuration sources against real servers on 127.0.0.1: file, http, ftp, sftp (rule K1)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aioftp
import asyncssh
import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from adapters.scf.config import ConfigError, ConfigSourceError, config_source_from, load_settings
from adapters.scf.config.sources import (
    MAX_CONFIG_BYTES,
    FileConfigSource,
    FtpConfigSource,
    HttpConfigSource,
    SftpConfigSource,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "config"
CONF = (FIXTURES / "java_conf.json").read_bytes()


# -- file ---------------------------------------------------------------------------------------


async def test_file_source_loads_the_java_sample() -> None:
    settings = await load_settings(FileConfigSource(FIXTURES / "java_conf.json"), {})
    assert settings.consortium.remote_storage.institution == "01AAA_RS"


async def test_both_real_java_files_load_through_config_source_from(shared_reference: Path) -> None:
    # DONE-WHEN: both real conf.json files load, read from disk as the service would.
    for path in (
        shared_reference / "scf-java-app" / "conf.json",
        shared_reference / "scf-java-app" / "history" / "2019-10-24_52da4e2" / "conf.json",
    ):
        settings = await load_settings(config_source_from(str(path)), {})
        assert settings.gateway == "https://api-na.hosted.exlibrisgroup.com"


async def test_file_source_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigSourceError) as caught:
        await FileConfigSource(tmp_path / "absent.json").read()
    assert caught.value.problems == (f"{tmp_path / 'absent.json'}: no such file",)

    with pytest.raises(ConfigSourceError, match="is a directory"):
        await FileConfigSource(tmp_path).read()


async def test_file_source_caps_the_size(tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    huge.write_bytes(b" " * (MAX_CONFIG_BYTES + 1))
    with pytest.raises(ConfigSourceError, match="larger than"):
        await FileConfigSource(huge).read()


async def test_a_bad_file_fails_with_every_problem_and_its_name() -> None:
    source = FileConfigSource(FIXTURES / "missing_circ_desc.json")
    with pytest.raises(ConfigError) as caught:
        await load_settings(source, {})
    assert caught.value.problems == ("institutions[1] (01AAA_CD).libraries[0].circ_desc: missing",)
    assert caught.value.source == str(FIXTURES / "missing_circ_desc.json")


# -- http ---------------------------------------------------------------------------------------


async def _conf(request: Request) -> Response:
    return Response(CONF, media_type="application/json")


async def _private(request: Request) -> Response:
    expected = "Basic " + base64.b64encode(b"admin:s3cr:et").decode()
    if request.headers.get("authorization") != expected:
        return Response("who are you", status_code=401)
    return Response(CONF, media_type="application/json")


async def _slow(request: Request) -> Response:
    await asyncio.sleep(5)
    return Response(CONF)


async def _huge(request: Request) -> Response:
    return Response(b" " * (MAX_CONFIG_BYTES + 10))


async def _moved(request: Request) -> Response:
    return RedirectResponse("/conf.json", status_code=302)


CONFIG_SERVER = Starlette(
    routes=[
        Route("/conf.json", _conf),
        Route("/private/conf.json", _private),
        Route("/slow", _slow),
        Route("/huge", _huge),
        Route("/moved", _moved),
    ]
)


@pytest.fixture
async def http_base() -> AsyncIterator[str]:
    """CONFIG_SERVER served by uvicorn on a free loopback port."""
    server = uvicorn.Server(
        uvicorn.Config(CONFIG_SERVER, host="127.0.0.1", port=0, lifespan="off", log_level="error")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        # uvicorn offers a flag, not an event, for "listening" (anchors §3.3).
        while not server.started:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True  # do not wait for /slow's sleeping handler
        await task


async def test_http_source_over_a_real_socket(http_base: str) -> None:
    settings = await load_settings(config_source_from(f"{http_base}/conf.json"), {})
    assert [i.code for i in settings.consortium.institutions] == ["01AAA_AB", "01AAA_CD"]


async def test_http_userinfo_is_sent_as_basic_auth_and_never_shown(http_base: str) -> None:
    url = http_base.replace("http://", "http://admin:s3cr%3Aet@") + "/private/conf.json"
    source = config_source_from(url)
    assert "s3cr" not in source.describe()
    assert await source.read() == CONF

    wrong = config_source_from(url.replace("s3cr%3Aet", "nope-password"))
    with pytest.raises(ConfigSourceError) as caught:
        await wrong.read()
    assert caught.value.problems == (
        f"{http_base.replace('http://', 'http://admin:***@')}/private/conf.json: "
        "HTTP 401 Unauthorized",
    )


async def test_http_non_2xx_names_the_status(http_base: str) -> None:
    with pytest.raises(ConfigSourceError, match=r"/absent.json: HTTP 404 Not Found"):
        await HttpConfigSource(f"{http_base}/absent.json").read()


async def test_http_follows_a_redirect(http_base: str) -> None:
    assert await HttpConfigSource(f"{http_base}/moved").read() == CONF


async def test_http_times_out(http_base: str) -> None:
    with pytest.raises(ConfigSourceError, match=r"timed out after 0.2 s"):
        await HttpConfigSource(f"{http_base}/slow", timeout=0.2).read()


async def test_http_caps_the_size(http_base: str) -> None:
    with pytest.raises(ConfigSourceError, match="larger than"):
        await HttpConfigSource(f"{http_base}/huge").read()


async def test_http_connection_refused_is_a_source_error() -> None:
    with pytest.raises(ConfigSourceError) as caught:
        await HttpConfigSource("http://u:pa55word@127.0.0.1:1/conf.json", timeout=2).read()
    assert "ConnectError" in str(caught.value)
    assert "pa55word" not in str(caught.value)


async def test_http_through_an_asgi_transport() -> None:
    source = HttpConfigSource(
        "http://config.test/conf.json", transport=httpx.ASGITransport(app=CONFIG_SERVER)
    )
    assert await source.read() == CONF


# -- ftp ----------------------------------------------------------------------------------------


@pytest.fixture
async def ftp_port(tmp_path: Path) -> AsyncIterator[int]:
    """A real aioftp server; user u/p logs in to /home; files under tmp_path."""
    (tmp_path / "home").mkdir()
    (tmp_path / "etc").mkdir()
    (tmp_path / "home" / "conf.json").write_bytes(CONF)
    (tmp_path / "etc" / "conf.json").write_bytes(CONF.replace(b"01AAA_AB", b"01AAA_EF"))
    server = aioftp.Server(
        [aioftp.User("u", "p@ss", base_path=tmp_path, home_path="/home")],
        path_io_factory=aioftp.AsyncPathIO,
    )
    await server.start(host="127.0.0.1", port=0)
    try:
        yield server.server_port
    finally:
        await server.close()


async def test_ftp_path_is_relative_to_the_login_directory(ftp_port: int) -> None:
    # As Java's URL does (and RFC 1738 says): /conf.json is conf.json in the login directory.
    source = config_source_from(f"ftp://u:p%40ss@127.0.0.1:{ftp_port}/conf.json")
    assert isinstance(source, FtpConfigSource)
    assert source.describe() == f"ftp://u:***@127.0.0.1:{ftp_port}/conf.json"
    settings = await load_settings(source, {})
    assert settings.consortium.institution("01AAA_AB") is not None


async def test_ftp_percent_2f_makes_the_path_absolute(ftp_port: int) -> None:
    source = config_source_from(f"ftp://u:p%40ss@127.0.0.1:{ftp_port}/%2Fetc/conf.json")
    settings = await load_settings(source, {})
    assert settings.consortium.institution("01AAA_EF") is not None


async def test_ftp_missing_file_and_wrong_password(ftp_port: int) -> None:
    with pytest.raises(ConfigSourceError, match=r"cannot fetch absent.json \(550"):
        await config_source_from(f"ftp://u:p%40ss@127.0.0.1:{ftp_port}/absent.json").read()
    with pytest.raises(ConfigSourceError) as caught:
        await config_source_from(f"ftp://u:wrong-pw@127.0.0.1:{ftp_port}/conf.json").read()
    assert "login refused (530" in str(caught.value)
    assert "wrong-pw" not in str(caught.value)


async def test_ftp_connection_refused() -> None:
    with pytest.raises(ConfigSourceError, match="cannot fetch"):
        await FtpConfigSource("ftp://u:p@127.0.0.1:1/conf.json", timeout=2).read()


# -- sftp ---------------------------------------------------------------------------------------


class _PasswordServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == ("alma", "sftp-pa55")


@contextlib.asynccontextmanager
async def _sftp_server(root: Path) -> AsyncIterator[tuple[int, asyncssh.SSHKey]]:
    host_key = asyncssh.generate_private_key("ssh-ed25519")

    def chroot(chan: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(chan, chroot=str(root).encode())

    acceptor = await asyncssh.listen(
        "127.0.0.1",
        0,
        server_host_keys=[host_key],
        server_factory=_PasswordServer,
        sftp_factory=chroot,
    )
    try:
        yield acceptor.get_port(), host_key
    finally:
        acceptor.close()
        await acceptor.wait_closed()


def _known_hosts(path: Path, port: int, key: asyncssh.SSHKey) -> Path:
    public = key.export_public_key().decode().strip()
    path.write_text(f"[127.0.0.1]:{port} {public}\n")
    return path


async def test_sftp_with_a_known_host_key(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "conf.json").write_bytes(CONF)
    async with _sftp_server(root) as (port, key):
        known = _known_hosts(tmp_path / "known_hosts", port, key)
        source = config_source_from(
            f"sftp://alma:sftp-pa55@127.0.0.1:{port}/etc/conf.json", known_hosts=str(known)
        )
        assert isinstance(source, SftpConfigSource)
        assert "sftp-pa55" not in source.describe()
        settings = await load_settings(source, {})
        assert settings.consortium.remote_storage.institution == "01AAA_RS"

        with pytest.raises(ConfigSourceError, match="no such file on the server: /etc/absent"):
            await SftpConfigSource(
                f"sftp://alma:sftp-pa55@127.0.0.1:{port}/etc/absent", known_hosts=str(known)
            ).read()
        with pytest.raises(ConfigSourceError, match="login refused"):
            await SftpConfigSource(
                f"sftp://alma:wrong@127.0.0.1:{port}/etc/conf.json", known_hosts=str(known)
            ).read()


async def test_sftp_refuses_an_unknown_host_key(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "conf.json").write_bytes(CONF)
    async with _sftp_server(root) as (port, _real_key):
        impostor = asyncssh.generate_private_key("ssh-ed25519")
        known = _known_hosts(tmp_path / "known_hosts", port, impostor)
        source = SftpConfigSource(
            f"sftp://alma:sftp-pa55@127.0.0.1:{port}/conf.json", known_hosts=str(known)
        )
        with pytest.raises(ConfigSourceError) as caught:
            await source.read()
        assert "host key is not trusted" in str(caught.value)
        assert "sftp-pa55" not in str(caught.value)


async def test_sftp_with_an_unreadable_known_hosts_file(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    async with _sftp_server(root) as (port, _key):
        source = SftpConfigSource(
            f"sftp://alma:sftp-pa55@127.0.0.1:{port}/conf.json",
            known_hosts=str(tmp_path / "no_such_known_hosts"),
        )
        with pytest.raises(ConfigSourceError, match="known_hosts"):
            await source.read()
