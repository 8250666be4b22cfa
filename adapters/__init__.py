"""Implementations of the application ports: SQL ledger, Alma over HTTP, files, config sources."""
