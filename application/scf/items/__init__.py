"""The items sync: members' publishing files mirrored into the SCF (rules I1–I13)."""
