"""Serve the fake Alma: ``python -m adapters.fake_alma [--seed FILE] [--host H] [--port P]``.

The seed is read before the server starts (no blocking I/O on the event loop). Faults can be
changed while it runs through ``/_fake_alma/faults``; the call log is at ``/_fake_alma/calls``.
"""

from __future__ import annotations

import argparse

import uvicorn

from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import default_seed_path, state_from_file


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, build the state from the seed and serve it."""
    parser = argparse.ArgumentParser(prog="python -m adapters.fake_alma", description=__doc__)
    parser.add_argument("--seed", default=str(default_seed_path()), help="seed file (JSON)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (keep it private)")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per call")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of calls → 5xx")
    args = parser.parse_args(argv)
    state = state_from_file(args.seed)
    faults = FaultInjector(
        FaultConfig(latency=args.latency, error_rate=args.error_rate), seed=state.seed
    )
    # No access log: it would print an ``apikey`` query parameter; /_fake_alma/calls masks it.
    app = create_fake_alma_app(state, faults)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
