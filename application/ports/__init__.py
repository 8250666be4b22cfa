"""Ports of the application: what the use cases need from the outside world, as Protocols."""
