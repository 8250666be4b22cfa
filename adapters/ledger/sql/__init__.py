"""The SQL ledger on SQLite or PostgreSQL, through SQLAlchemy's async Core."""

from adapters.ledger.sql.ledger import SqlLedger, SqlUnitOfWork

__all__ = ["SqlLedger", "SqlUnitOfWork"]
