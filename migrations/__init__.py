"""Alembic migrations of the ledger, shipped inside the package so `almabridge db upgrade` works."""
