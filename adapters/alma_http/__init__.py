"""Alma over HTTP: one pooled httpx client, one retry layer, a limiter per institution."""
