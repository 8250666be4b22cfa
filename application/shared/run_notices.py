"""What a run tells its people when it ends (rule B7), and how a notifier's failure is kept.

The notification carries the run's counts and its first failures. A notifier that fails is
recorded as a `run.notify` event and never changes the run's outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from application.ports.ledger import Ledger
from application.ports.notify import Attachment, Notification, NotificationFailed
from application.ports.runs import RunNotifications
from application.shared.ledger_records import Outcome
from application.shared.run_outcome import RunOutcome
from application.shared.run_records import JobRun, RunRecord

__all__ = ["NOTIFY_ACTION", "announce", "notification_of"]

NOTIFY_ACTION = "run.notify"
"""The event action of a notifier's failure."""

FIRST_FAILURES = 10
"""How many failed records a notification lists."""

log = logging.getLogger(__name__)


def notification_of(
    run: JobRun,
    failures: Sequence[RunRecord],
    attachments: Sequence[Attachment] = (),
    notes: Sequence[str] = (),
) -> Notification:
    """The notification of an ended run: status, counts, reason and first failures (B7), and
    the files and notes the workflow attached (the rollover report, L8)."""
    counts = run.counts
    lines = [
        f"Run {run.id} of {run.workflow} ended {run.status.value}"
        + (" (dry run)" if run.dry_run else "")
        + ".",
        f"Records: {counts.ok} ok, {counts.skipped} skipped, {counts.failed} failed.",
    ]
    if run.reason:
        lines.append(f"Reason: {run.reason}")
    if run.resumed_from is not None:
        lines.append(f"Resumes run {run.resumed_from}.")
    if failures:
        lines.append(f"First failures ({min(len(failures), FIRST_FAILURES)} of {counts.failed}):")
        lines.extend(
            f"- {record.kind} {record.key}: {record.reason}" for record in failures[:FIRST_FAILURES]
        )
    lines.extend(notes)
    for output in run.outputs:
        lines.append(f"Output {output.name} (sha256 {output.sha256})")
    return Notification(
        workflow=run.workflow,
        run_id=run.id,
        outcome=RunOutcome(run.status.value),
        subject=f"almabridge {run.workflow} run {run.id}: {run.status.value}",
        text="\n".join(lines),
        attachments=tuple(attachments),
    )


async def announce(
    ledger: Ledger,
    notifications: RunNotifications,
    run: JobRun,
    failures: Sequence[RunRecord],
    attachments: Sequence[Attachment] = (),
    notes: Sequence[str] = (),
) -> tuple[str, ...]:
    """Notify, and record each notifier's failure as an event; never raises (B7).

    Returns the failures as safe one-line texts, for the command to mention.
    """
    try:
        failed: Sequence[Exception] = await notifications.notify(
            notification_of(run, failures, attachments, notes)
        )
    except Exception as error:
        # A notifications object that raises instead of returning its failures: one failure.
        failed = [error]
    texts = tuple(_safe_text(failure) for failure in failed)
    for failure, text in zip(failed, texts, strict=True):
        try:
            async with ledger.unit_of_work() as uow:
                await uow.events.append(
                    NOTIFY_ACTION,
                    Outcome.FAILED,
                    message=text,
                    details={
                        "workflow": run.workflow,
                        "run_id": run.id,
                        "status": run.status.value,
                        "channel": getattr(failure, "channel", None),
                    },
                    error_code=type(failure).__name__,
                )
                await uow.commit()
        except Exception as error:
            # The run has ended and is recorded; a ledger that fails now loses only this event.
            log.warning("could not record the notification failure of run %s: %s", run.id, error)
    return texts


def _safe_text(failure: Exception) -> str:
    # NotificationFailed's text is safe by contract; any other error's message may hold a
    # password or a webhook token, so only its class is kept.
    if isinstance(failure, NotificationFailed):
        return str(failure)
    return f"unexpected {type(failure).__name__}"
