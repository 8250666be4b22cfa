"""Contract suite of the `ArchivesSpace` port: `HttpArchivesSpace` over the fake backend and the
fake's in-memory twin `MemoryArchivesSpace` agree (rule AS2)."""
