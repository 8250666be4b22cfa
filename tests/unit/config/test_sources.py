"""Choosing a configuration source from CONFIG_FILE, and never showing a password (rule K1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.scf.config import ConfigSourceError, config_source_from, source_from_environment
from adapters.scf.config.sources import (
    FileConfigSource,
    FtpConfigSource,
    HttpConfigSource,
    SftpConfigSource,
    mask_url,
)


@pytest.mark.parametrize(
    ("value", "kind", "described"),
    [
        ("conf.json", FileConfigSource, "conf.json"),
        ("  /etc/almabridge/conf.json \n", FileConfigSource, "/etc/almabridge/conf.json"),
        ("file:///etc/alma%20bridge/conf.json", FileConfigSource, "/etc/alma bridge/conf.json"),
        (r"C:\almabridge\conf.json", FileConfigSource, r"C:\almabridge\conf.json"),
        (
            "https://config.example.org/conf.json",
            HttpConfigSource,
            "https://config.example.org/conf.json",
        ),
        (
            "HTTP://u:pw@config.example.org/c.json?token=abc&x",
            HttpConfigSource,
            "http://u:***@config.example.org/c.json?token=***&***",
        ),
        (
            "ftp://user:p%40ss@ftp.example.org/conf/conf.json",
            FtpConfigSource,
            "ftp://user:***@ftp.example.org/conf/conf.json",
        ),
        (
            "sftp://alma:pw@sftp.example.org:2222/etc/conf.json",
            SftpConfigSource,
            "sftp://alma:***@sftp.example.org:2222/etc/conf.json",
        ),
    ],
)
def test_the_scheme_chooses_the_source(value: str, kind: type, described: str) -> None:
    source = config_source_from(value, known_hosts="/tmp/known_hosts")
    assert isinstance(source, kind)
    assert source.describe() == described


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("ftp://user:secret@host/conf.json", "ftp://user:***@host/conf.json"),
        ("https://ghp_TOKEN123@raw.example.org/conf.json", "https://***@raw.example.org/conf.json"),
        ("https://host/conf.json", "https://host/conf.json"),
        ("https://host/c.json?sig=abc#frag", "https://host/c.json?sig=***"),
        ("ftp://user:p:a:ss@host:2121/c.json", "ftp://user:***@host:2121/c.json"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_an_sftp_url_without_known_hosts_is_refused() -> None:
    with pytest.raises(ConfigSourceError) as caught:
        config_source_from("sftp://alma:hunter22@sftp.example.org/conf.json")
    message = str(caught.value)
    assert "ALMABRIDGE_CONFIG_KNOWN_HOSTS" in message
    assert "hunter22" not in message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("s3://bucket/conf.json", "unsupported URL scheme 's3'"),
        ("   ", "empty"),
        ("ftp://user:pw@host/", "the URL names no file"),
        ("ftp://user:pw@/conf.json", "the URL names no host"),
        ("ftp://user:pw@host:99999/conf.json", "the port is not a number"),
        ("sftp://user:pw@host/~/", "the URL names no file"),
    ],
)
def test_unusable_values_are_refused_clearly(value: str, reason: str) -> None:
    with pytest.raises(ConfigSourceError) as caught:
        config_source_from(value, known_hosts="/tmp/known_hosts")
    assert reason in str(caught.value)
    assert ":pw@" not in str(caught.value)


def test_source_from_environment_prefers_config_file(tmp_path: Path) -> None:
    default = tmp_path / "conf.json"
    assert source_from_environment({}, default).describe() == str(default)
    assert source_from_environment({"CONFIG_FILE": ""}, default).describe() == str(default)
    chosen = source_from_environment({"CONFIG_FILE": "https://h/conf.json"}, default)
    assert isinstance(chosen, HttpConfigSource)


def test_source_from_environment_passes_known_hosts_for_sftp(tmp_path: Path) -> None:
    environ = {
        "CONFIG_FILE": "sftp://alma@h/etc/conf.json",
        "ALMABRIDGE_CONFIG_KNOWN_HOSTS": str(tmp_path / "known_hosts"),
    }
    assert isinstance(source_from_environment(environ, "conf.json"), SftpConfigSource)
    with pytest.raises(ConfigSourceError):
        source_from_environment({"CONFIG_FILE": environ["CONFIG_FILE"]}, "conf.json")
