"""The durable webhook inbox and its worker (rules W3–W5, W8)."""
