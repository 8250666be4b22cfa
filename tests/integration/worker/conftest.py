"""The ledger contract suite's backends (memory, SQLite file, PostgreSQL schema) for the worker."""

from tests.integration.ledger.conftest import backend, clock

__all__ = ["backend", "clock"]
