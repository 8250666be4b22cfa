"""ALMABRIDGE_DATABASE_URL forms become async driver URLs; bad ones fail with a masked message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.ledger.database_url import (
    DatabaseUrlError,
    async_database_url,
    configured_database_url,
    mask_password,
)


def test_unset_means_almabridge_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALMABRIDGE_DATABASE_URL", raising=False)
    expected = f"sqlite+aiosqlite:///{tmp_path / 'almabridge.db'}"
    assert configured_database_url() == expected
    assert async_database_url(None) == async_database_url("  ") == expected


def test_sqlite_paths_become_absolute_aiosqlite_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert async_database_url("sqlite:///data/ledger.db") == (
        f"sqlite+aiosqlite:///{tmp_path / 'data' / 'ledger.db'}"
    )
    assert async_database_url("sqlite:////var/lib/ab.db") == "sqlite+aiosqlite:////var/lib/ab.db"
    monkeypatch.setenv("ALMABRIDGE_DATABASE_URL", "sqlite:///x.db")
    assert configured_database_url() == f"sqlite+aiosqlite:///{os.path.join(tmp_path, 'x.db')}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://ab:pw@db:5432/ledger", "postgresql+psycopg://ab:pw@db:5432/ledger"),
        (
            "postgres://ab@db/ledger?sslmode=require",
            "postgresql+psycopg://ab@db/ledger?sslmode=require",
        ),
        ("postgresql+psycopg://ab@db/ledger", "postgresql+psycopg://ab@db/ledger"),
        ("sqlite+aiosqlite:////tmp/a.db", "sqlite+aiosqlite:////tmp/a.db"),
    ],
)
def test_postgres_and_async_urls(given: str, expected: str) -> None:
    assert async_database_url(given) == expected


@pytest.mark.parametrize(
    "given",
    [
        "mysql://ab:s3cret@db/ledger",
        "postgresql+psycopg2://ab:s3cret@db/ledger",
        "oracle://ab:s3cret@db:1521/ledger",
    ],
)
def test_other_urls_are_refused_without_showing_the_password(given: str) -> None:
    with pytest.raises(DatabaseUrlError) as raised:
        async_database_url(given)
    message = str(raised.value)
    assert "s3cret" not in message
    assert "ab:***@db" in message


@pytest.mark.parametrize("given", ["not a url", "sqlite://", "sqlite:///:memory:"])
def test_unparseable_and_in_memory_urls_are_refused(given: str) -> None:
    with pytest.raises(DatabaseUrlError, match="ledger database URL"):
        async_database_url(given)


def test_mask_password() -> None:
    assert mask_password("postgresql://ab:s3cret@db/x") == "postgresql://ab:***@db/x"
    assert mask_password("postgresql://ab:p@ss@db/x") == "postgresql://ab:***@db/x"
    assert mask_password("postgresql://ab@db/x") == "postgresql://ab@db/x"
    assert mask_password("sqlite:///a:b@c.db") == "sqlite:///a:b@c.db"
