"""What the SQL repositories share: dialect-specific upserts and the aware-datetime rule.

Enum members are bound as `.value`: psycopg dumps a Python Enum by its *name*, not its value.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def upsert_insert(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with ON CONFLICT support in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def require_aware(value: datetime, name: str) -> None:
    """Naive datetimes are refused: the ledger cannot know which zone they meant."""
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
