"""Wiring: the CLI, the HTTP app, the worker and the dependency-injector container."""

from entrypoints import warning_filters

# Before any entry point imports asyncssh (see entrypoints/warning_filters.py).
warning_filters.install()
