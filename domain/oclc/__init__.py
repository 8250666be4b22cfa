"""OCLC data-sync merge rules (WORKFLOWS.md O1–O7); filled by issue 16."""
