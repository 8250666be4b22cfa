"""`almabridge replay …`: give failed work another go, on purpose and on the record.

* `message ID`: a dead inbox message (or one waiting for its retry) goes back to pending, due
  now, with its attempts reset; the running worker takes it at its next claim.
* `file ID`: a failed transfer file is moved from `OLD/` back into its folder, where the next
  job (a `JOB_END`, `sync-items` or `send-requests`, or `--run` here) claims it afresh. A new
  claim gives the file a new ledger row, so the failed row keeps its reason for the audit, and
  the file goes through exactly the path Alma's files take (download, hash, I1 recovery).
* `request INST REQUEST_ID`: a failed or waiting member request is retried from its ledger data
  now (R6: one already forwarded or cancelled is not sent again).

Every replay is also a ledger event, so the audit trail says who asked for the second attempt.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from application.ports.ledger import Ledger
from application.scf.file_batches import CLAIMED_FOLDER, FileToProcess, member_folder
from application.scf.requests.outcomes import Action
from application.shared.ledger_records import (
    LedgerRecordNotFound,
    Outcome,
    TransferFile,
    TransferKind,
    TransferStatus,
)
from application.shared.run_records import RunTrigger
from entrypoints.bridge_wiring import request_forwarding, sync_jobs
from entrypoints.cli.exit_codes import ExitCode
from entrypoints.cli.output import make_console
from entrypoints.cli.service_options import (
    ConfigOption,
    DatabaseUrlOption,
    container_for,
    fail,
    ledger_opened,
    opened,
)
from entrypoints.cli.sync_commands import (
    items_ok,
    member_code,
    print_items,
    print_requests,
    requests_ok,
)
from entrypoints.container import Container, open_bridge

REPLAY_FILE = "file.replay"

app = typer.Typer(
    help=(
        "Try failed work again: a dead webhook message, a failed file, or a member request. "
        "Each replay is recorded in the ledger.\n\n"
        "Examples:\n\n"
        "  almabridge replay message 42\n\n"
        "  almabridge replay file 17 --run\n\n"
        "  almabridge replay request 01AAA_AB 8800000000001"
    ),
    no_args_is_help=True,
)


@app.command("message")
def message_command(
    message_id: Annotated[int, typer.Argument(help="Inbox message id (`inbox_id` of its events).")],
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Put a dead (or retry-waiting) webhook message back in the inbox, due now.

    The worker of `almabridge serve` or `almabridge worker` processes it at its next claim.
    Exit code 1 when there is no such message, or it is done or being processed.

    Examples:

      almabridge replay message 42

      almabridge ledger events --action webhook.process --outcome failed --json  # inbox_id
    """
    asyncio.run(_message(container_for(config, database_url), message_id))


@app.command("file")
def file_command(
    file_id: Annotated[int, typer.Argument(help="Transfer file id (`file_id` of its events).")],
    run: Annotated[
        bool, typer.Option("--run", help="Run the institution's job now instead of waiting.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replay a file even though it was done without failures."),
    ] = False,
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Move a failed publishing or request file from OLD/ back into its folder to be claimed
    and processed again, by the next job or right away with --run.

    Items already mirrored are left alone by the second pass (unchanged items are not written),
    and requests already forwarded are never sent again (R6), so a replay is safe.

    Examples:

      almabridge ledger events --action file.finish --outcome failed

      almabridge replay file 17 --run
    """
    asyncio.run(_file(container_for(config, database_url), file_id, run=run, force=force))


@app.command("request")
def request_command(
    institution: Annotated[str, typer.Argument(help="Member code, e.g. 01AAA_AB.")],
    request_id: Annotated[str, typer.Argument(help="The member's request id.")],
    config: ConfigOption = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Retry one failed or waiting member request now, from what the ledger kept of it.

    Exit code 1 when the ledger never saw the request or the retry failed again.

    Examples:

      almabridge ledger events --action request.fail --since 24h

      almabridge replay request 01AAA_AB 8800000000001
    """
    asyncio.run(_request(container_for(config, database_url), institution, request_id))


async def _message(container: Container, message_id: int) -> None:
    async with ledger_opened(container) as ledger, ledger.unit_of_work() as uow:
        try:
            message = await uow.inbox.requeue(message_id)
        except LedgerRecordNotFound:
            fail(f"there is no inbox message {message_id}", ExitCode.WORK_FAILED)
        if message is None:
            current = await uow.inbox.get(message_id)
            status = current.status.value if current is not None else "gone"
            fail(
                f"inbox message {message_id} is {status}: nothing to replay",
                ExitCode.WORK_FAILED,
            )
        await uow.events.append(
            "inbox.replay",
            Outcome.OK,
            inbox_id=message_id,
            message=f"message {message_id} put back in the inbox by an operator",
            details={"last_error": message.last_error},
        )
        await uow.commit()
    typer.echo(
        f"inbox message {message_id} ({message.dedupe_key}) is pending again, due now; "
        f"last error: {message.last_error or '-'}"
    )


async def _file(container: Container, file_id: int, *, run: bool, force: bool) -> None:
    console = make_console()
    async with opened(container) as settings, open_bridge(container) as bridge:
        async with bridge.ledger.unit_of_work() as uow:
            record = await uow.files.get(file_id)
        if record is None:
            fail(f"there is no transfer file {file_id}", ExitCode.WORK_FAILED)
        _check_replayable(record, force=force)
        await _check_not_replayed(bridge.ledger, record, force=force)
        code = member_code(settings, record.institution)
        folder = member_folder(bridge.settings.file_server.main_folder, code, record.kind)
        target = f"{folder}/{FileToProcess(record, Path()).name}"
        try:
            await bridge.files.rename(record.remote_name, target)
        except Exception as error:
            fail(f"could not move {record.remote_name} back: {error}", ExitCode.WORK_FAILED)
        async with bridge.ledger.unit_of_work() as uow:
            await uow.events.append(
                REPLAY_FILE,
                Outcome.OK,
                institution=code,
                file_id=file_id,
                message=f"{record.remote_name} moved back to {target} by an operator",
            )
            await uow.commit()
        typer.echo(
            f"file {file_id} moved back to {target}; the next {record.kind.value} job claims it"
        )
        if not run:
            return
        jobs = sync_jobs(bridge)
        if record.kind is TransferKind.ITEMS:
            summary = await jobs.items_job(code, trigger=RunTrigger.REPLAY)
            print_items(console, summary, show=20)
            ok = items_ok(summary)
        else:
            requests = await jobs.requests_job(code, trigger=RunTrigger.REPLAY)
            print_requests(console, requests, show=20)
            ok = requests_ok(requests)
    raise typer.Exit(ExitCode.OK if ok else ExitCode.WORK_FAILED)


def _check_replayable(record: TransferFile, *, force: bool) -> None:
    if record.status is TransferStatus.CLAIMED:
        fail(
            f"file {record.id} is still claimed: the next {record.kind.value} job resumes it",
            ExitCode.WORK_FAILED,
        )
    if f"/{CLAIMED_FOLDER}/" not in f"/{record.remote_name}":
        fail(f"file {record.id} is not in an {CLAIMED_FOLDER}/ folder", ExitCode.WORK_FAILED)
    clean = record.status is TransferStatus.DONE and record.records_failed == 0
    if clean and not force:
        fail(
            f"file {record.id} was done without failures; use --force to process it again",
            ExitCode.WORK_FAILED,
        )


async def _check_not_replayed(ledger: Ledger, record: TransferFile, *, force: bool) -> None:
    # Once replayed, the file's new claim may sit under this row's OLD/ name again: moving it
    # out a second time would take the newer row's file, so that needs saying so.
    replays = await ledger.events(action=REPLAY_FILE, institution=record.institution, limit=10_000)
    earlier = [event for event in replays if event.file_id == record.id]
    if earlier and not force:
        when = earlier[-1].occurred_at.strftime("%Y-%m-%d %H:%M:%SZ")
        fail(
            f"file {record.id} was already replayed at {when}; replay its newer ledger row "
            "(almabridge ledger events --action file.claim), or use --force",
            ExitCode.WORK_FAILED,
        )


async def _request(container: Container, institution: str, request_id: str) -> None:
    async with opened(container) as settings, open_bridge(container) as bridge:
        code = member_code(settings, institution)
        outcome = await request_forwarding(bridge).replay(code, request_id)
    if outcome is None:
        fail(f"the ledger never saw request {request_id} of {code}", ExitCode.WORK_FAILED)
    typer.echo(f"request {request_id} of {code}: {outcome.action.value}: {outcome.reason}")
    if outcome.scf_request_id:
        typer.echo(f"SCF request {outcome.scf_request_id}")
    if outcome.action is Action.FAILED:
        raise typer.Exit(ExitCode.WORK_FAILED)
