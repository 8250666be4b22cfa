"""`python -m entrypoints.cli` runs the same command line as `almabridge`."""

from entrypoints.cli.app import main

main()
