"""Member requests and the SCF requests made for them (rules R2–R8)."""
