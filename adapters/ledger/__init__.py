"""The ledger adapters: SQL (SQLite or PostgreSQL through SQLAlchemy) and an in-memory twin."""
