"""WEST holdings export rules (WORKFLOWS.md H1–H5); filled by issue 15."""
