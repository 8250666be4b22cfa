"""Contract suite of the `AlmaGateway` port: the in-memory twin and the HTTP adapter agree."""
