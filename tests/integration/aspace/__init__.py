"""aspace2alma integration tests: the reference files through reader, transform and writer."""
