"""Use cases of the SCF bridge: items, requests, circulation, reconciliation, webhook inbox."""
