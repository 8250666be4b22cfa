"""ArchivesSpace to Alma use cases (issue 18)."""
