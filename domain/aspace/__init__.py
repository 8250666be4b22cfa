"""ArchivesSpace to Alma rules (WORKFLOWS.md AS1–AS6); filled by issue 18."""
