"""`almabridge fake-archivesspace`: serve the shipped fake ArchivesSpace backend for tests,
benchmarks and aspace2alma rehearsals."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from adapters.fake_archivesspace import (
    DEFAULT_PASSWORD,
    DEFAULT_USER,
    FaultConfig,
    FaultInjector,
    build_state,
    create_fake_archivesspace_app,
)
from entrypoints.cli.exit_codes import ExitCode

DEFAULT_RESOURCES = 10


def fake_archivesspace_command(
    host: Annotated[str, typer.Option(help="Address to bind; keep it private.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (ArchivesSpace's is 8089).")] = 8089,
    seed_reference: Annotated[
        Path | None,
        typer.Option(
            "--seed-reference",
            help="Folder with marc_1511.xml, marc_1512.xml and single_container.json (and "
            "optionally the ArchivesSnake repositories sample): serves them as resources "
            "1511 and 1512 of repository 3.",
            show_default=False,
        ),
    ] = None,
    resources: Annotated[
        int | None,
        typer.Option(
            help="Generated resources (3 ReCAP containers each) added to repository 3. "
            f"Default: {DEFAULT_RESOURCES} without --seed-reference, 0 with it.",
            show_default=False,
        ),
    ] = None,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Milliseconds added to every call.")
    ] = 0.0,
) -> None:
    """Serve a fake ArchivesSpace backend API: the calls `almabridge run aspace2alma` makes.

    It answers in ArchivesSpace's paths and shapes: POST /users/{user}/login (password as a form
    field), GET /repositories, GET /repositories/{r}/resources?all_ids=true,
    GET /repositories/{r}/resources/marc21/{id}.xml and
    GET /repositories/{r}/top_containers/search?q=collection_uri_u_sstr:"<resource uri>";
    the session token goes in the X-ArchivesSpace-Session header. The login it accepts is
    user "admin", password "admin" (ArchivesSpace's own default; sent url-encoded or as
    ?password=); anything else is a 403. The call log is at /_fake_archivesspace/calls (no
    authentication: serve it on loopback only).

    Examples:

      almabridge fake-archivesspace --resources 500 --latency-ms 20

      almabridge fake-archivesspace --seed-reference ../shared/reference/aspace2alma

      curl -s -d password=admin http://127.0.0.1:8089/users/admin/login

    and point aspace2alma at it in workflows.toml:

    \b
      [aspace2alma.archivesspace]
      url = "http://127.0.0.1:8089"
      user = "admin"
      password = "admin"
    """
    count = resources if resources is not None else (0 if seed_reference else DEFAULT_RESOURCES)
    try:
        state = build_state(reference_dir=seed_reference, resources=count)
        faults = FaultInjector(FaultConfig(latency=latency_ms / 1000.0))
    except (OSError, ValueError, KeyError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(ExitCode.BAD_USAGE) from None
    total = sum(len(ids) for ids in state.resources.values())
    typer.echo(
        f"fake ArchivesSpace on http://{host}:{port} ({len(state.repositories)} repositories, "
        f"{total} resources; login {DEFAULT_USER} / {DEFAULT_PASSWORD})"
    )
    # No access log: a client that sends ?password= would have it printed.
    uvicorn.run(
        create_fake_archivesspace_app(state, faults), host=host, port=port, access_log=False
    )
