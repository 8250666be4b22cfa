"""WEST holdings export adapters (issue 15)."""
