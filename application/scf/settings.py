"""Typed settings of a running bridge: the consortium rules plus connections and secrets.

Built by a configuration source adapter (rules K1–K3); the application only reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

from application.shared.connections import FileServer, Secret
from domain.scf.institutions import Consortium


@dataclass(frozen=True)
class LogBackup:
    """The daily upload of the previous day's log file (conf.json ``log_backup``; off by default).

    Parity with the Java app's scheduler, which uploaded ``logs/application.log_{yyyy-MM-dd}.log``
    (else ``logs/application.log``) to the file server every day at 00:10 UTC.
    """

    enabled: bool = False
    log_folder: str = "logs"
    time_utc: time = time(0, 10)


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one bridge."""

    gateway: str
    consortium: Consortium
    api_keys: Mapping[str, Secret]
    file_server: FileServer
    main_local_folder: str | None = None
    report_file_folder: str | None = None
    max_number_of_threads: int = 4
    webhook_secret: Secret | None = None
    allow_unsigned_webhooks: bool = False
    request_grace_hours: float = 24.0
    alma_rate_limit_per_second: int = 25
    log_backup: LogBackup = LogBackup()

    @property
    def verifies_webhooks(self) -> bool:
        """True when a webhook secret is configured, so every POST /webhook is checked (rule W2)."""
        return bool(self.webhook_secret)

    def webhook_startup_error(self) -> str | None:
        """Why the service must refuse to start, or None when it may (rule W2).

        Loading succeeds without a secret, so that ``almabridge config check`` can still show the
        configuration; the service itself asks this before it accepts any webhook.
        """
        if self.verifies_webhooks or self.allow_unsigned_webhooks:
            return None
        return (
            "no webhook secret is configured: set webhook_secret in the configuration or "
            "ALMABRIDGE_WEBHOOK_SECRET in the environment, or say allow_unsigned_webhooks: true "
            "to accept unsigned webhooks"
        )

    def api_key(self, institution: str) -> Secret | None:
        """The API key of an institution (case-insensitive code), the SCF's included."""
        wanted = institution.casefold()
        for code, key in self.api_keys.items():
            if code.casefold() == wanted:
                return key
        return None
