"""The log file the service writes, and the daily task that backs it up (conf.json `log_backup`).

`install_log_file` writes `{log_folder}/application.log`, which rolls over at midnight UTC into
`application.log_{yyyy-MM-dd}.log`: the names the Java app's log4j used and its backup read.
`run_log_backup` runs beside the worker in `almabridge serve` and `almabridge worker` until
`stop` is set. It re-reads the settings at least hourly, so a reloaded configuration can turn
the backup on or off without a restart; a failed backup is logged and recorded, never fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from logging.handlers import TimedRotatingFileHandler
from pathlib import Path

from application.ports.clock import Clock
from application.scf.configuration import SettingsHolder
from application.scf.log_backup import CURRENT_LOG, back_up_logs, next_backup_at
from application.scf.settings import LogBackup
from entrypoints.container import Container, open_bridge

__all__ = ["LOG_FORMAT", "install_log_file", "run_log_backup"]

log = logging.getLogger(__name__)

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
RECHECK_SECONDS = 3600.0


def install_log_file(folder: str | Path, *, level: int = logging.INFO) -> logging.Handler:
    """Log to `{folder}/application.log` (rolled daily at midnight UTC) on the root logger."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    handler = TimedRotatingFileHandler(
        path / CURRENT_LOG, when="midnight", utc=True, backupCount=0, encoding="utf-8"
    )
    # The default rolled name is application.log.2025-01-31; the Java app's (and the backup's)
    # is application.log_2025-01-31.log.
    handler.namer = _java_name
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return handler


def _java_name(default_name: str) -> str:
    base, _, day = default_name.rpartition(".")
    return f"{base}_{day}.log"


def _backup_settings(container: Container) -> LogBackup:
    holder: SettingsHolder = container.settings()
    return holder.current.log_backup if holder.loaded else LogBackup()


async def run_log_backup(
    container: Container,
    stop: asyncio.Event,
    *,
    clock: Clock | None = None,
    recheck_seconds: float = RECHECK_SECONDS,
) -> None:
    """Back up yesterday's log daily at the configured time until `stop` is set."""
    clock = clock or container.clock()
    while not stop.is_set():
        backup = _backup_settings(container)
        if not backup.enabled:
            await _wait(stop, recheck_seconds)
            continue
        due = next_backup_at(clock.now(), backup)
        while not stop.is_set() and clock.now() < due:
            remaining = (due - clock.now()).total_seconds()
            await _wait(stop, min(max(remaining, 0.0), recheck_seconds))
            if not _backup_settings(container).enabled:
                break
        if stop.is_set() or not _backup_settings(container).enabled:
            continue
        try:
            async with open_bridge(container) as bridge:
                await back_up_logs(
                    bridge.files,
                    bridge.ledger,
                    bridge.settings.file_server.main_folder,
                    _backup_settings(container),
                    clock.now(),
                )
        except Exception:
            # Tomorrow is another try; the service itself must not stop over a log copy.
            log.exception("log backup failed")


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
