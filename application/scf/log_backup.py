"""The daily log backup: yesterday's log file to the file server (parity with the Java app, §14).

The Java app's scheduler uploaded ``logs/application.log_{yyyy-MM-dd}.log`` of the previous day,
or ``logs/application.log`` when that was missing, every day at 00:10 UTC. Here it is optional
(``log_backup`` in conf.json, off by default) and goes through the ``FileTransfer`` port into
``{main_folder}/logs/``. The remote copy always carries the day's date in its name, even when
the current log stood in for it, so one day's upload never overwrites another's.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, timedelta
from pathlib import Path

from application.ports.ledger import Ledger
from application.ports.transfer import FileTransfer
from application.scf.settings import LogBackup
from application.shared.files import FileError
from application.shared.ledger_records import Outcome

__all__ = ["BACKUP_ACTION", "CURRENT_LOG", "back_up_logs", "dated_log_name", "next_backup_at"]

log = logging.getLogger(__name__)

BACKUP_ACTION = "logs.backup"
CURRENT_LOG = "application.log"
REMOTE_FOLDER = "logs"


def dated_log_name(day: date) -> str:
    """``application.log_2025-01-31.log``: the name of one day's log once it has rolled over."""
    return f"{CURRENT_LOG}_{day.isoformat()}.log"


def next_backup_at(now: datetime, backup: LogBackup) -> datetime:
    """The first backup time strictly after ``now`` (an aware UTC datetime)."""
    today = now.replace(
        hour=backup.time_utc.hour,
        minute=backup.time_utc.minute,
        second=0,
        microsecond=0,
    )
    return today if today > now else today + timedelta(days=1)


def _first_existing(*paths: Path) -> Path | None:
    return next((path for path in paths if path.is_file()), None)


async def back_up_logs(
    files: FileTransfer, ledger: Ledger, main_folder: str, settings: LogBackup, now: datetime
) -> str | None:
    """Upload the log of the day before ``now``; the remote path, or None when there is no log.

    The outcome is a ``logs.backup`` ledger event; a transfer failure is recorded and raised.
    """
    day = (now - timedelta(days=1)).date()
    folder = Path(settings.log_folder)
    name = dated_log_name(day)
    source = await asyncio.to_thread(_first_existing, folder / name, folder / CURRENT_LOG)
    if source is None:
        message = f"no log to back up: neither {folder / name} nor {folder / CURRENT_LOG} exists"
        log.warning("%s", message)
        await _record(ledger, Outcome.SKIPPED, message, {"day": day.isoformat()})
        return None
    remote_folder = f"{main_folder.rstrip('/')}/{REMOTE_FOLDER}"
    remote = f"{remote_folder}/{name}"
    details = {"day": day.isoformat(), "source": str(source), "remote": remote}
    try:
        await files.make_folders(remote_folder)
        await files.upload(source, remote)
    except FileError as error:
        await _record(ledger, Outcome.FAILED, f"log backup of {day} failed: {error}", details)
        raise
    log.info("backed up %s to %s", source, remote)
    await _record(ledger, Outcome.OK, f"backed up {source.name} to {remote}", details)
    return remote


async def _record(ledger: Ledger, outcome: Outcome, message: str, details: dict[str, str]) -> None:
    async with ledger.unit_of_work() as uow:
        await uow.events.append(BACKUP_ACTION, outcome, message=message, details=details)
        await uow.commit()
