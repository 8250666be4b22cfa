"""Contract tests of the ledger port on the in-memory, SQLite-file and PostgreSQL backends."""
