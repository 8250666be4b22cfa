"""Leganto course loading adapters: CEM csv, loader file (issue 17)."""
