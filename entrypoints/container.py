"""The composition root: which adapter plays each port, chosen once from the environment.

App-scope singletons only (clock, ledger, configuration); a unit of work is opened per use case
from the ledger. Tests swap any adapter with `container.<name>.override(...)`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from dependency_injector import containers, providers

from adapters.alma_http.directory import http_alma_directory
from adapters.config.loader import load_settings, source_from_environment
from adapters.ledger.clock import SystemClock
from adapters.ledger.database_url import ENVIRONMENT_VARIABLE as DATABASE_URL_VARIABLE
from adapters.ledger.sql import SqlLedger
from application.configuration import SettingsHolder, SettingsLoader
from application.ledger_records import LedgerNotMigrated
from application.ports import ConfigSource, Ledger
from application.settings import Settings

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
    # Built on first use, after `prepare_service` has loaded the settings.
    alma = providers.Singleton(
        http_alma_directory,
        settings=providers.Callable(lambda holder: holder.current, settings),
    )


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
