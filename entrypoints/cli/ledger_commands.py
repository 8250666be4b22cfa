"""`almabridge ledger …`: what the bridge did, from its audit ledger (rule I13).

Read-only, and needs only the ledger (no conf.json, no Alma): a barcode's mirror and history, a
request's forwarding and history, or the event log with filters. A rich table by default;
`--json` for scripts, `--csv` (the events) for spreadsheets.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from application.ports.ledger import Ledger
from application.shared.ledger_records import LedgerEvent, Outcome
from entrypoints.cli.exit_codes import ExitCode
from entrypoints.cli.output import events_csv, make_console, plain, short_time, to_json
from entrypoints.cli.service_options import (
    DatabaseUrlOption,
    container_for,
    fail,
    first_line,
    ledger_opened,
)

T = TypeVar("T")

app = typer.Typer(
    help=(
        "Read the audit ledger: a barcode's history, a request's history, or the event log. "
        "Needs only --database-url (or $ALMABRIDGE_DATABASE_URL), no configuration.\n\n"
        "Examples:\n\n"
        "  almabridge ledger item 01AAA_AB AB0001\n\n"
        "  almabridge ledger request 01AAA_AB 8800000000001 --json\n\n"
        "  almabridge ledger events --outcome failed --since 24h --csv"
    ),
    no_args_is_help=True,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
CsvOption = Annotated[
    bool, typer.Option("--csv", help="Print the events as CSV (header row first).")
]


@app.command("item")
def item_command(
    institution: Annotated[str, typer.Argument(help="Member code, e.g. 01AAA_AB.")],
    barcode: Annotated[str, typer.Argument(help="The member barcode (without the X).")],
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """A member barcode's SCF mirror (ids, loan, state) and every event about it, oldest first.

    Exit code 1 when the ledger knows nothing of the barcode.

    Examples:

      almabridge ledger item 01AAA_AB AB0001

      almabridge ledger item 01AAA_AB 'AB 0003+4&5#6' --json
    """
    _one_of(as_json, as_csv)
    history = _read(database_url, lambda ledger: ledger.item_history(institution, barcode))
    if history.item is None and not history.events:
        fail(
            f"the ledger knows nothing of barcode {barcode} of {institution}", ExitCode.WORK_FAILED
        )
    if as_json:
        typer.echo(to_json(history))
    elif as_csv:
        typer.echo(events_csv(history.events), nl=False)
    else:
        console = make_console()
        if history.item is not None:
            console.print(_record_table(f"Mirror of {barcode} ({institution})", history.item))
        _print_events(console, history.events, title=f"Events of {barcode}")


@app.command("request")
def request_command(
    institution: Annotated[str, typer.Argument(help="Member code of the source request.")],
    request_id: Annotated[str, typer.Argument(help="The member's request id.")],
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """A member request's forwarding (route, status, SCF request id, attempts, last error) and
    every event about it, oldest first.

    Exit code 1 when the ledger knows nothing of the request.

    Examples:

      almabridge ledger request 01AAA_AB 8800000000001

      almabridge ledger request 01AAA_AB 8800000000001 --csv > request.csv
    """
    _one_of(as_json, as_csv)
    record = _read(database_url, lambda ledger: ledger.request_record(institution, request_id))
    if record.request is None and not record.events:
        fail(
            f"the ledger knows nothing of request {request_id} of {institution}",
            ExitCode.WORK_FAILED,
        )
    if as_json:
        typer.echo(to_json(record))
    elif as_csv:
        typer.echo(events_csv(record.events), nl=False)
    else:
        console = make_console()
        if record.request is not None:
            row = plain(record.request)
            row.pop("request_data", None)  # the whole parsed request: --json shows it
            console.print(_record_table(f"Request {request_id} ({institution})", row))
        _print_events(console, record.events, title=f"Events of request {request_id}")


@app.command("events")
def events_command(
    institution: Annotated[
        str | None, typer.Option("--institution", "-i", help="Only this institution's events.")
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(help="Only this action, e.g. item.create, circulation.scan_in."),
    ] = None,
    outcome: Annotated[
        Outcome | None, typer.Option(help="Only this outcome.", case_sensitive=False)
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="From this time on: ISO date or time (UTC unless given), or 24h, 7d."),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (same forms).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    newest_first: Annotated[
        bool, typer.Option("--newest-first", help="Newest events first.")
    ] = False,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """The event log, filtered: every action the bridge took or refused (rule I13).

    Examples:

      almabridge ledger events --outcome failed --since 24h

      almabridge ledger events -i 01AAA_AB --action item.create --since 2025-01-31 --csv

      almabridge ledger events --since 2025-01-31T00:00 --until 2025-02-01 --json --limit 1000
    """
    _one_of(as_json, as_csv)
    start, end = parse_moment(since, "--since"), parse_moment(until, "--until")
    events = _read(
        database_url,
        lambda ledger: ledger.events(
            institution=institution,
            action=action,
            outcome=outcome,
            since=start,
            until=end,
            limit=limit,
            newest_first=newest_first,
        ),
    )
    if as_json:
        typer.echo(to_json(events))
    elif as_csv:
        typer.echo(events_csv(events), nl=False)
    else:
        _print_events(make_console(), events, title="Events", with_subject=True)


_RELATIVE = re.compile(r"(\d+)\s*([mhd])", re.IGNORECASE)
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_moment(text: str | None, option: str, now: datetime | None = None) -> datetime | None:
    """An aware UTC datetime from `2025-01-31`, `2025-01-31T10:00[+02:00]` or `90m`/`24h`/`7d`."""
    if text is None:
        return None
    relative = _RELATIVE.fullmatch(text.strip())
    if relative:
        amount = timedelta(**{_UNITS[relative.group(2).lower()]: int(relative.group(1))})
        return (now or datetime.now(UTC)) - amount
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a time: use 2025-01-31, 2025-01-31T10:00 or 24h", param_hint=option
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _one_of(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        raise typer.BadParameter("choose --json or --csv, not both", param_hint="--json/--csv")


def _read(database_url: str | None, query: Callable[[Ledger], Awaitable[T]]) -> T:
    """Run one read against the ledger, checked to be migrated; exits 2 when it cannot be read."""

    async def run() -> T:
        async with ledger_opened(container_for(None, database_url)) as ledger:
            try:
                return await query(ledger)
            except Exception as error:
                fail(f"cannot read the ledger: {first_line(error)}", ExitCode.BAD_USAGE)

    return asyncio.run(run())


def _record_table(title: str, record: Any) -> Table:
    table = Table("field", "value", title=title, show_header=False)
    for name, value in plain(record).items():
        table.add_row(name, "-" if value is None else str(value))
    return table


def _print_events(
    console: Console, events: Sequence[LedgerEvent], *, title: str, with_subject: bool = False
) -> None:
    if not events:
        console.print("no events")
        return
    columns = ["time", "action", "outcome", "message"]
    if with_subject:
        columns[1:1] = ["institution", "barcode / request"]
    table = Table(*columns, title=f"{title} ({len(events)})")
    for event in events:
        row = [short_time(event.occurred_at), event.action, event.outcome.value]
        if with_subject:
            row[1:1] = [event.institution or "-", event.barcode or event.request_id or "-"]
        table.add_row(*row, event.message or "")
    console.print(table)
