"""Published member items and their SCF mirrors (rules I3–I12)."""
