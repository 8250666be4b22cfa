"""The composition root: which adapter plays each port, chosen once from the environment.

App-scope singletons only (clock, ledger, configuration); a unit of work is opened per use case
from the ledger. Tests swap any adapter with `container.<name>.override(...)`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from dependency_injector import containers, providers

from adapters.alma_http.client import AlmaHttpClient
from adapters.alma_http.shared_schedule import schedules_for_ledger
from adapters.ledger.clock import SystemClock
from adapters.ledger.database_url import ENVIRONMENT_VARIABLE as DATABASE_URL_VARIABLE
from adapters.ledger.sql import SqlLedger
from adapters.scf.alma_directory import HttpAlmaDirectory
from adapters.scf.config.loader import load_settings, source_from_environment
from adapters.scf.formats.publishing import MarcPublishingFiles
from adapters.scf.formats.request_xml import XmlRequestFiles
from adapters.scf.reports.csv_reports import CsvFailureReports, MemoryFailureReports
from adapters.transfer.factory import file_transfer_for
from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.ports.ledger import Ledger
from application.scf.configuration import SettingsHolder, SettingsLoader
from application.scf.ports import ConfigSource, FailureReports
from application.scf.settings import Settings
from application.shared.ledger_records import LedgerNotMigrated
from application.shared.metrics import Metrics
from entrypoints.bridge_wiring import BridgePorts

DEFAULT_CONFIG_FILE = "conf.json"


class ServiceCannotStart(Exception):
    """A precondition of serving failed; the message says what to do about it."""


def _settings_loader(source: ConfigSource, environ: Mapping[str, str]) -> SettingsLoader:
    async def load() -> Settings:
        return await load_settings(source, environ)

    return load


class Container(containers.DeclarativeContainer):
    """Adapters of a running bridge."""

    environ = providers.Object(os.environ)
    clock = providers.Singleton(SystemClock)
    database_url = providers.Callable(
        lambda environ: environ.get(DATABASE_URL_VARIABLE), environ=environ
    )
    ledger = providers.Singleton(SqlLedger.from_url, url=database_url, clock=clock)
    config_source = providers.Singleton(
        source_from_environment, environ=environ, default_path=DEFAULT_CONFIG_FILE
    )
    settings = providers.Singleton(
        SettingsHolder,
        loader=providers.Callable(_settings_loader, source=config_source, environ=environ),
    )
    metrics = providers.Singleton(Metrics)
    # Built on first use, after `prepare_service` has loaded the settings. One pooled client
    # (and so one throttle per institution) for the process, whatever reloads happen.
    # Its throttles book call starts in the ledger's database when several processes may share
    # it (PostgreSQL): Alma's threshold is per institution, not per process (A4, ADR 0004).
    alma_client = providers.Singleton(
        lambda holder, url: AlmaHttpClient(
            holder.current.gateway,
            rate_per_second=holder.current.alma_rate_limit_per_second,
            schedules=schedules_for_ledger(url),
        ),
        settings,
        database_url,
    )
    alma = providers.Factory(
        lambda holder, client: HttpAlmaDirectory(holder.current, client), settings, alma_client
    )
    reports = providers.Singleton(lambda holder: reports_for(holder.current), settings)


def reports_for(settings: Settings) -> FailureReports:
    """CSV reports in `report_file_folder` when set (rule P1), else kept in memory only."""
    if settings.report_file_folder:
        return CsvFailureReports(Path(settings.report_file_folder))
    return MemoryFailureReports()


def work_dir_for(settings: Settings) -> Path:
    """Where files are downloaded and unpacked: `{main_local_folder}/files`, or ./files."""
    return Path(settings.main_local_folder or ".") / "files"


@asynccontextmanager
async def open_bridge(container: Container) -> AsyncIterator[BridgePorts]:
    """The ports over the current settings, with a file-server connection closed afterwards."""
    holder: SettingsHolder = container.settings()
    settings = holder.current
    files = file_transfer_for(settings.file_server)
    alma: AlmaDirectory = container.alma()
    ledger: Ledger = container.ledger()
    clock: Clock = container.clock()
    try:
        yield BridgePorts(
            settings=settings,
            alma=alma,
            ledger=ledger,
            files=files,
            publishing=MarcPublishingFiles(),
            request_files=XmlRequestFiles(),
            reports=container.reports(),
            clock=clock,
            work_dir=work_dir_for(settings),
        )
    finally:
        await files.aclose()


async def prepare_service(container: Container) -> Settings:
    """Everything the service checks before it accepts work: ledger schema, config, W2 secret.

    Raises `ServiceCannotStart` with a message an operator can act on.
    """
    ledger: Ledger = container.ledger()
    try:
        await ledger.check_ready()
    except LedgerNotMigrated as error:
        raise ServiceCannotStart(str(error)) from None
    holder: SettingsHolder = container.settings()
    settings = await holder.load()
    refusal = settings.webhook_startup_error()
    if refusal:
        raise ServiceCannotStart(refusal)
    return settings
