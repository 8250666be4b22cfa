"""The batch run layer (rules B1, B2, B5, B7, B8): the RunRepository contract on every ledger
backend, JobRunner, the cleanup workflow, and `almabridge run` / `almabridge runs`."""
