"""The ledger contract suite's backends (memory, SQLite file, PostgreSQL schema) for the runs."""

from tests.integration.ledger.conftest import backend, clock, ledger

__all__ = ["backend", "clock", "ledger"]
