"""``[notify.*]``: the SMTP and Slack channels and one route per workflow (rule B9)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

from adapters.workflow_config.env_secrets import SLACK_WEBHOOK_ENV, SMTP_PASSWORD_ENV
from adapters.workflow_config.errors import key_path, kind_of, unknown_entry
from adapters.workflow_config.reading import Reading
from adapters.workflow_config.schema import RouteConf, SlackConf, SmtpConf, validate
from application.ports.notify import NotifyRoute
from application.shared.connections import Secret
from application.shared.run_outcome import RunOutcome
from application.shared.workflow_settings import NotifySettings, SlackSettings, SmtpSettings

__all__ = ["LOOPBACK_HOSTS", "notify"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
_CHANNELS: Final = ("smtp", "slack")


def notify(reading: Reading) -> NotifySettings | None:
    table = reading.table("notify")
    if table is None:
        return None
    problems = len(reading.problems)
    workflows = reading.workflows
    smtp: SmtpSettings | None = None
    slack: SlackSettings | None = None
    routes: dict[str, NotifyRoute] = {}
    for name, value in table.items():
        loc = ("notify", name)
        if isinstance(value, dict) and name == "smtp":
            reading.secrets.remember(value.get("password"))
            smtp = _smtp(reading, value)
        elif isinstance(value, dict) and name == "slack":
            reading.secrets.remember(value.get("webhook"))
            slack = _slack(reading, value)
        elif name not in (*_CHANNELS, *workflows):
            reading.problems.append(
                f"{unknown_entry(loc, value, (*_CHANNELS, *workflows))}; [notify] holds "
                "[notify.smtp], [notify.slack] and one [notify.WORKFLOW] per workflow "
                f"({', '.join(workflows)})"
            )
        elif not isinstance(value, dict):
            reading.problems.append(f"{key_path(loc)}: must be a table, got {kind_of(value)}")
        else:
            conf = validate(RouteConf, value, loc, reading.problems)
            if conf is not None:
                routes[name] = NotifyRoute(
                    workflow=name,
                    to=tuple(conf.to),
                    on=frozenset(RunOutcome(outcome) for outcome in conf.on),
                    slack=conf.slack,
                )
    if "slack" not in table:
        # The webhook may come from the environment alone.
        slack = _slack(reading, {})
    if len(reading.problems) > problems:
        return None
    return NotifySettings(smtp=smtp, slack=slack, routes=MappingProxyType(routes))


def _smtp(reading: Reading, table: dict[str, Any]) -> SmtpSettings | None:
    loc = ("notify", "smtp")
    conf = validate(SmtpConf, table, loc, reading.problems)
    user = table.get("user")
    needs_login = isinstance(user, str) and bool(user.strip())
    password = reading.secrets.secret(
        table, "password", SMTP_PASSWORD_ENV, (*loc, "password"), required=needs_login
    )
    if conf is not None and conf.starttls and conf.use_tls:
        reading.problems.append(
            f"{key_path((*loc, 'use_tls'))}: cannot be true together with starttls "
            "(starttls upgrades a plain connection, port 587; use_tls speaks TLS from the "
            "first byte, port 465): set starttls = false"
        )
        return None
    if conf is None or (password is None and needs_login):
        return None
    return SmtpSettings(
        host=conf.host,
        sender=conf.sender,
        port=conf.port,
        starttls=conf.starttls,
        use_tls=conf.use_tls,
        user=conf.user,
        password=Secret(password) if password else None,
        timeout_seconds=conf.timeout_seconds,
    )


def _slack(reading: Reading, table: dict[str, Any]) -> SlackSettings | None:
    loc = ("notify", "slack")
    conf = validate(SlackConf, table, loc, reading.problems)
    from_env = reading.secrets.from_environment(SLACK_WEBHOOK_ENV)
    webhook = from_env or (conf.webhook if conf else None)
    if conf is None or webhook is None:
        return None
    parts = urlsplit(webhook.strip())
    # Plain http only to this machine: a relay on the host, or a test's local receiver.
    loopback = parts.hostname in LOOPBACK_HOSTS and parts.scheme.lower() == "http"
    if (parts.scheme.lower() != "https" and not loopback) or not parts.hostname:
        # Never echoed: the webhook's URL is its credential.
        reading.problems.append(
            f"{key_path((*loc, 'webhook'))}: must be an https:// URL (the Slack app's "
            f"incoming webhook), got {kind_of(webhook)}"
        )
        return None
    return SlackSettings(webhook=Secret(webhook.strip()), timeout_seconds=conf.timeout_seconds)
