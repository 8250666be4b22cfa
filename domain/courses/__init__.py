"""Leganto course loading rules (WORKFLOWS.md L1–L8); filled by issue 17."""
