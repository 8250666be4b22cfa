"""Wiring: the CLI, the HTTP app, the worker and the dependency-injector container."""
