"""Leganto course loading use cases (issue 17)."""
