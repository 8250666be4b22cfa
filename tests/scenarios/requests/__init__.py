"""Scenario tests of request forwarding (rules R1–R8, P1), on the seeded fake consortium."""
