"""WEST holdings export use cases (issue 15)."""
