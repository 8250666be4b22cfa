"""A fake Ex Libris Alma: an in-memory, multi-institution imitation of Alma's REST API.

It serves Alma's real paths (``/almaws/v1/...``) with Alma's JSON shapes, error envelopes,
302 item-by-barcode redirects, per-second and daily thresholds and injectable faults, so that
contract tests, ``almabridge demo``, benchmarks and libraries' rehearsals can run a cut-over
without a real Alma. Entry points:

* :func:`create_fake_alma_app` — the Starlette app over a :class:`FakeAlmaState`;
* :func:`build_state` / :func:`load_seed` / :func:`default_seed_path` — seeding;
* :class:`FaultInjector` / :class:`FaultConfig` — latency, 5xx, stalls, drops and thresholds.
"""

from __future__ import annotations

from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.call_log import CallLog, CallRecord
from adapters.fake_alma.clock import ManualClock, SystemClock
from adapters.fake_alma.errors import AlmaError
from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import build_state, default_seed_path, load_seed, state_from_file
from adapters.fake_alma.state import FakeAlmaState

__all__ = [
    "AlmaError",
    "CallLog",
    "CallRecord",
    "FakeAlmaState",
    "FaultConfig",
    "FaultInjector",
    "ManualClock",
    "SystemClock",
    "build_state",
    "create_fake_alma_app",
    "default_seed_path",
    "load_seed",
    "state_from_file",
]
