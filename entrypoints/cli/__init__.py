"""The `almabridge` command line: one Typer app with a sub-command per job."""

from entrypoints.cli.app import app, main

__all__ = ["app", "main"]
