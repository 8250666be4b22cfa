"""The Shared Collection Facility's rules (SCF-RULES.md), standard library only."""
