"""Reconciliation: what the SCF should hold against what it holds, and the repairs (issue 7)."""
