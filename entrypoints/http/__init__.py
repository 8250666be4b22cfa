"""The bridge's HTTP surface: Alma's webhooks, health, metrics, the admin and audit API.

`create_app(container)` builds the Starlette application that `almabridge serve` runs.
"""

from entrypoints.http.app import create_app

__all__ = ["create_app"]
