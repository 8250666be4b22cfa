"""Request forwarding: members' remote-storage requests made at the SCF (rules R1–R8)."""
