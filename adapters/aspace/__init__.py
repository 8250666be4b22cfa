"""ArchivesSpace adapters: the HTTP client (issue 18)."""
