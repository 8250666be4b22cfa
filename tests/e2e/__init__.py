"""End-to-end tests: almabridge run as a process, driven only from outside."""
