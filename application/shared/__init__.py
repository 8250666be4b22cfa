"""What every workflow's use cases share: Alma's typed views and errors, files, ledger records."""
