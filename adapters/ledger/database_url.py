"""Turns ALMABRIDGE_DATABASE_URL into the async SQLAlchemy URL the ledger connects with."""

from __future__ import annotations

import os
import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from application.shared.ledger_records import LedgerError

ENVIRONMENT_VARIABLE = "ALMABRIDGE_DATABASE_URL"
DEFAULT_SQLITE_FILE = "almabridge.db"

# Async drivers accepted as they are; every other driver (psycopg2, pysqlite...) would block.
_ASYNC_DRIVERS = {
    "sqlite+aiosqlite",
    "postgresql+psycopg",
    "postgresql+psycopg_async",
    "postgresql+asyncpg",
}
_SYNC_FORMS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+psycopg"}
_ALIASES = {"postgres": "postgresql"}


class DatabaseUrlError(LedgerError):
    """The ledger database URL is not one almabridge can use."""


def mask_password(raw: str) -> str:
    """The URL with any password replaced by ***, safe for logs and errors."""
    # Regex rather than make_url: the text may be too broken for SQLAlchemy to parse.
    return re.sub(r"(://[^/:@]*:)[^/]*@", r"\1***@", raw)


def async_database_url(raw: str | None = None) -> str:
    """The async driver URL for a configured URL; unset means almabridge.db in the working dir."""
    if raw is None or not raw.strip():
        return str(URL.create("sqlite+aiosqlite", database=os.path.abspath(DEFAULT_SQLITE_FILE)))
    text = raw.strip()
    try:
        url = make_url(text)
    except ArgumentError as error:
        raise DatabaseUrlError(f"cannot parse ledger database URL {mask_password(text)}") from error
    backend = _ALIASES.get(url.get_backend_name(), url.get_backend_name())
    driver = f"{backend}+{url.get_driver_name()}" if "+" in url.drivername else backend
    if driver in _SYNC_FORMS:
        driver = _SYNC_FORMS[driver]
    if driver not in _ASYNC_DRIVERS:
        raise DatabaseUrlError(
            f"unsupported ledger database URL {mask_password(text)}: "
            "use sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE"
        )
    url = url.set(drivername=driver)
    if backend == "sqlite":
        url = _sqlite_file(url, text)
    return url.render_as_string(hide_password=False)


def _sqlite_file(url: URL, text: str) -> URL:
    """SQLite must be a file: an in-memory database is private to each connection."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        raise DatabaseUrlError(
            f"ledger database URL {mask_password(text)} is an in-memory SQLite database, which "
            "each connection would see empty: give a file path, e.g. sqlite:///almabridge.db"
        )
    if url.query.get("uri"):
        # A sqlite3 "file:" URI carries its own path and options: leave it to the driver.
        return url
    # Absolute, so every process and thread opens the same file whatever its working directory.
    return url.set(database=os.path.abspath(database))


def configured_database_url() -> str:
    """The async URL from ALMABRIDGE_DATABASE_URL, or the default SQLite file."""
    return async_database_url(os.environ.get(ENVIRONMENT_VARIABLE))
