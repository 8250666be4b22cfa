"""OCLC data-sync merge adapters: pipe reports, xlsx (issue 16)."""
