"""OCLC data-sync merge use cases (issue 16)."""
