"""`python -m tests.e2e.short_lease serve …`: `almabridge` with a short inbox lease.

The worker inside `almabridge serve` leases each message for `DEFAULT_LEASE` (10 minutes), and
neither `serve` nor its environment can change it (`entrypoints/http/app.py` calls
`run_worker(container, stop)` with the default). A message held by a SIGKILLed service is only
claimed again once its lease expires, so the kill -9 test would wait ten minutes. This launcher
changes nothing but that default, from `E2E_WORKER_LEASE_SECONDS`, then runs the real command
line; the worker renews the lease every third of it, as it does in production.
"""

from __future__ import annotations

import os
from datetime import timedelta


def main() -> None:
    """Shorten the lease `run_worker` uses by default, then run `almabridge`."""
    from entrypoints import worker_runtime
    from entrypoints.cli.app import main as almabridge

    seconds = float(os.environ["E2E_WORKER_LEASE_SECONDS"])
    defaults = worker_runtime.run_worker.__kwdefaults__
    assert defaults is not None
    assert "lease" in defaults
    defaults["lease"] = timedelta(seconds=seconds)
    almabridge()


if __name__ == "__main__":
    main()
