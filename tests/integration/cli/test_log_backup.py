"""The daily log backup (parity with the Java app's scheduler, seed §14): off by default; when on,
yesterday's log (else the current one) goes to `{main_folder}/logs/` through `FileTransfer`."""

from __future__ import annotations

import asyncio
import json
import logging
import time as clock_time
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from adapters.fake_alma.memory_gateway import InMemoryAlmaDirectory
from adapters.fake_alma.seed import state_from_file
from adapters.ledger.memory import MemoryLedger
from adapters.ledger.migrate import upgrade
from adapters.scf.config.errors import ConfigError
from adapters.scf.config.loader import settings_from_bytes
from adapters.scf.formats.publishing import MarcPublishingFiles
from adapters.scf.formats.request_xml import XmlRequestFiles
from adapters.scf.reports.csv_reports import MemoryFailureReports
from adapters.transfer.memory import InMemoryFileTransfer, MemoryFiles
from application.scf.log_backup import BACKUP_ACTION, back_up_logs, next_backup_at
from application.scf.settings import LogBackup, Settings
from application.shared.files import TransferError
from entrypoints.bridge_wiring import BridgePorts
from entrypoints.container import Container
from entrypoints.log_backup_runtime import install_log_file, run_log_backup
from tests.integration.cli.support import EXAMPLE_CONF
from tests.integration.ledger.support import FakeClock

NOW = datetime(2025, 2, 1, 0, 10, tzinfo=UTC)


def _settings(**changes: object) -> Settings:
    document = json.loads(EXAMPLE_CONF.read_text())
    document.update(changes)
    return settings_from_bytes(json.dumps(document).encode(), {}, source="conf.json")


def _bridge(tmp_path: Path, remote: MemoryFiles, clock: FakeClock) -> BridgePorts:
    settings = _settings()
    return BridgePorts(
        settings=settings,
        alma=InMemoryAlmaDirectory(state_from_file()),
        ledger=MemoryLedger(clock),
        files=InMemoryFileTransfer(remote),
        publishing=MarcPublishingFiles(),
        request_files=XmlRequestFiles(),
        reports=MemoryFailureReports(),
        clock=clock,
        work_dir=tmp_path / "work",
    )


def test_log_backup_is_off_by_default_and_read_from_conf_json() -> None:
    assert _settings().log_backup == LogBackup(
        enabled=False, log_folder="logs", time_utc=time(0, 10)
    )
    on = _settings(
        log_backup={"enabled": "true", "log_folder": "/var/log/bridge", "time_utc": "1:05"}
    )
    assert on.log_backup == LogBackup(True, "/var/log/bridge", time(1, 5))


def test_a_bad_backup_time_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"log_backup.time_utc: expected a time of day as HH:MM"):
        _settings(log_backup={"enabled": True, "time_utc": "25:00"})
    with pytest.raises(ConfigError, match=r"log_backup.when: unknown key"):
        _settings(log_backup={"when": "00:10"})


async def _back_up(bridge: BridgePorts, settings: LogBackup, now: datetime) -> str | None:
    main_folder = bridge.settings.file_server.main_folder
    return await back_up_logs(bridge.files, bridge.ledger, main_folder, settings, now)


async def test_yesterdays_log_is_uploaded_under_its_dated_name(tmp_path: Path) -> None:
    (tmp_path / "application.log_2025-01-31.log").write_text("yesterday\n")
    (tmp_path / "application.log").write_text("today\n")
    remote = MemoryFiles()
    bridge = _bridge(tmp_path, remote, FakeClock(NOW))
    uploaded = await _back_up(bridge, LogBackup(True, str(tmp_path)), NOW)
    assert uploaded == "/alma/logs/application.log_2025-01-31.log"
    assert remote.files[uploaded] == b"yesterday\n"
    (event,) = await bridge.ledger.events(action=BACKUP_ACTION)
    assert event.outcome.value == "ok"
    assert event.details["remote"] == uploaded


async def test_without_yesterdays_log_the_current_one_stands_in(tmp_path: Path) -> None:
    (tmp_path / "application.log").write_text("today\n")
    remote = MemoryFiles()
    bridge = _bridge(tmp_path, remote, FakeClock(NOW))
    uploaded = await _back_up(bridge, LogBackup(True, str(tmp_path)), NOW)
    # Still the day's name, so days never overwrite each other on the server.
    assert uploaded == "/alma/logs/application.log_2025-01-31.log"
    assert remote.files[uploaded] == b"today\n"


async def test_no_log_at_all_is_recorded_as_skipped(tmp_path: Path) -> None:
    bridge = _bridge(tmp_path, MemoryFiles(), FakeClock(NOW))
    assert await _back_up(bridge, LogBackup(True, str(tmp_path / "none")), NOW) is None
    (event,) = await bridge.ledger.events(action=BACKUP_ACTION)
    assert event.outcome.value == "skipped"
    assert "no log to back up" in (event.message or "")


async def test_a_failed_upload_is_recorded_and_raised(tmp_path: Path) -> None:
    (tmp_path / "application.log").write_text("today\n")
    remote = MemoryFiles()
    remote.put("/alma/logs", b"a file where the folder should be")
    bridge = _bridge(tmp_path, remote, FakeClock(NOW))
    with pytest.raises(TransferError):
        await _back_up(bridge, LogBackup(True, str(tmp_path)), NOW)
    (event,) = await bridge.ledger.events(action=BACKUP_ACTION)
    assert event.outcome.value == "failed"


def test_next_backup_time_is_today_or_tomorrow() -> None:
    backup = LogBackup(True, "logs", time(0, 10))
    assert next_backup_at(NOW - timedelta(minutes=1), backup) == NOW
    assert next_backup_at(NOW, backup) == NOW + timedelta(days=1)


def test_the_log_file_rolls_over_into_the_java_apps_dated_name(tmp_path: Path) -> None:
    handler = install_log_file(tmp_path)
    try:
        rolled = handler.rotation_filename(str(tmp_path / "application.log") + ".2025-01-31")
        assert rolled == str(tmp_path / "application.log_2025-01-31.log")
        logging.getLogger("almabridge.test").warning("hello from the test")
        handler.flush()
        assert "hello from the test" in (tmp_path / "application.log").read_text()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


class _RunningClock:
    """Real time, shifted to start at `start`: the scheduler's wait really elapses."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._origin = clock_time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=clock_time.monotonic() - self._origin)


async def test_the_scheduler_backs_up_at_the_configured_time_and_stops(tmp_path: Path) -> None:
    logs, server = tmp_path / "logs", tmp_path / "server"
    logs.mkdir()
    server.mkdir()
    (logs / "application.log").write_text("today\n")
    conf = json.loads(EXAMPLE_CONF.read_text())
    conf["ftp_server"] = {"protocol": "local", "main_folder": str(server)}
    conf["log_backup"] = {"enabled": True, "log_folder": str(logs), "time_utc": "00:10"}
    (tmp_path / "conf.json").write_text(json.dumps(conf))
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    await upgrade(url)
    container = Container()
    container.environ.override(
        {"CONFIG_FILE": str(tmp_path / "conf.json"), "ALMABRIDGE_DATABASE_URL": url}
    )
    await container.settings().load()
    stop = asyncio.Event()
    clock = _RunningClock(NOW - timedelta(seconds=0.2))
    task = asyncio.create_task(run_log_backup(container, stop, clock=clock))
    uploaded = server / "logs" / "application.log_2025-01-31.log"
    async with asyncio.timeout(10):
        while not uploaded.exists():  # noqa: ASYNC110 (a file another task writes)
            await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert uploaded.read_text() == "today\n"
    await container.ledger().close()


async def test_the_scheduler_does_nothing_when_the_backup_is_off(tmp_path: Path) -> None:
    (tmp_path / "conf.json").write_text(EXAMPLE_CONF.read_text())
    container = Container()
    container.environ.override({"CONFIG_FILE": str(tmp_path / "conf.json")})
    await container.settings().load()
    stop = asyncio.Event()
    task = asyncio.create_task(run_log_backup(container, stop, recheck_seconds=0.05))
    await asyncio.sleep(0.2)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 5)
