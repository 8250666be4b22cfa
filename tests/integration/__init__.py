"""Integration tests: real databases, servers on loopback, no mocks of our own ports."""
