"""The SCF's loans and returns carried back to the members (rules C1, C2)."""
