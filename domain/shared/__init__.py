"""Rules every workflow shares: typed errors and reading Alma's JSON (standard library only)."""
