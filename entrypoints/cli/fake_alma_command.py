"""`almabridge fake-alma`: serve the shipped fake Alma for tests, demos and cut-over rehearsals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from adapters.fake_alma.app import create_fake_alma_app
from adapters.fake_alma.faults import FaultConfig, FaultInjector
from adapters.fake_alma.seed import SeedError, default_seed_path, state_from_file
from entrypoints.cli.exit_codes import ExitCode


def fake_alma_command(
    seed: Annotated[
        Path | None,
        typer.Option(
            "--seed",
            help="Seed file (JSON) with institutions, API keys, libraries, bibs, items, users. "
            "Default: the built-in consortium (01AAA_AB, 01AAA_CD and the SCF 01AAA_RS).",
            show_default=False,
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to bind; keep it private.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8099,
    latency: Annotated[float, typer.Option(help="Seconds added to every call.")] = 0.0,
    error_rate: Annotated[
        float, typer.Option(help="Share of calls (0 to 1) answered with a 5xx.")
    ] = 0.0,
    per_second: Annotated[
        int | None,
        typer.Option(help="Per-second threshold for every institution (Alma's is 25)."),
    ] = None,
    daily_quota: Annotated[
        int | None, typer.Option(help="Daily API quota for every institution.")
    ] = None,
) -> None:
    """Serve a fake Alma on Alma's own paths (/almaws/v1/...), selecting the institution by key.

    It answers with Alma's shapes, status codes and error envelopes (400 + errorCode for
    not-found, 302 for item-by-barcode, 429 over the per-second threshold). The call log is at
    /_fake_alma/calls and fault knobs at /_fake_alma/faults (no authentication: loopback only).

    Examples:

      almabridge fake-alma --port 8099

      curl -i -H 'Authorization: apikey ab-example-key' \\
        'http://127.0.0.1:8099/almaws/v1/items?item_barcode=AB0001'

      almabridge fake-alma --seed my-consortium.json --latency 0.15 --error-rate 0.2
    """
    try:
        state = state_from_file(seed or default_seed_path())
        faults = FaultInjector(
            FaultConfig(
                latency=latency,
                error_rate=error_rate,
                per_second_threshold=per_second,
                daily_quota=daily_quota,
            ),
            seed=state.seed,
        )
    except (SeedError, OSError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(ExitCode.BAD_USAGE) from None
    typer.echo(f"fake Alma on http://{host}:{port}/almaws/v1 (seed: {seed or 'built-in'})")
    # No access log: a client passing ?apikey= would have its key printed.
    uvicorn.run(create_fake_alma_app(state, faults), host=host, port=port, access_log=False)
