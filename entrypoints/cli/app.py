"""The root `almabridge` command and the registration of its sub-commands."""

from __future__ import annotations

import typer

from entrypoints.cli import (
    config_commands,
    db_commands,
    ledger_commands,
    replay_command,
    run_commands,
    service_commands,
    sync_commands,
    workflows_command,
)
from entrypoints.cli.demo_command import demo_command
from entrypoints.cli.fake_alma_command import fake_alma_command
from entrypoints.cli.fake_archivesspace_command import fake_archivesspace_command
from entrypoints.cli.reconcile_command import reconcile_command

app = typer.Typer(
    name="almabridge",
    help=(
        "Keeps an Alma Shared Collection Facility (SCF) in sync with its member institutions "
        "and records every action in a ledger.\n\n"
        "Exit codes: 0 ok, 1 the work failed, 2 bad usage or configuration.\n\n"
        "Examples:\n\n"
        "  almabridge demo\n\n"
        "  almabridge config check conf.json\n\n"
        "  almabridge serve --config conf.json --host 0.0.0.0 --port 8080\n\n"
        "  almabridge sync-items 01AAA_AB --config conf.json --dry-run\n\n"
        "  almabridge ledger events --outcome failed --since 24h\n\n"
        "  almabridge workflows check workflows.toml\n\n"
        "  almabridge run cleanup --dry-run; almabridge runs --workflow cleanup\n\n"
        "  ALMABRIDGE_DATABASE_URL=postgresql://bridge@db/almabridge almabridge db upgrade"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db_commands.app, name="db")
app.add_typer(config_commands.app, name="config")
app.command("fake-alma")(fake_alma_command)
app.command("fake-archivesspace")(fake_archivesspace_command)
app.command("serve")(service_commands.serve_command)
app.command("worker")(service_commands.worker_command)
app.command("sync-items")(sync_commands.sync_items_command)
app.command("send-requests")(sync_commands.send_requests_command)
app.command("reconcile")(reconcile_command)
app.add_typer(replay_command.app, name="replay")
app.add_typer(ledger_commands.app, name="ledger")
app.command("run", help=run_commands.RUN_HELP, context_settings=run_commands.RUN_CONTEXT)(
    run_commands.run_command
)
app.add_typer(run_commands.runs_app, name="runs")
app.add_typer(workflows_command.app, name="workflows")
app.command("demo")(demo_command)


def main() -> None:
    """Console-script entry point."""
    app()
