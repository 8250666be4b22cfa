"""The in-memory ledger: the SQL ledger's twin for unit tests, demos and the contract suite."""

from adapters.ledger.memory.ledger import MemoryLedger, MemoryUnitOfWork

__all__ = ["MemoryLedger", "MemoryUnitOfWork"]
