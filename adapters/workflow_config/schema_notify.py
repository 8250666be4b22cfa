"""Who hears about runs: ``[notify.smtp]``, ``[notify.slack]`` and ``[notify.WORKFLOW]`` (B9).

The channels' secrets (the SMTP password, the Slack webhook) may come from the environment
instead; whether one is needed at all is the loader's question.
"""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BeforeValidator, Field

from adapters.workflow_config.schema_values import (
    Flag,
    Port,
    Seconds,
    SecretText,
    Table,
    Text,
    array,
    optional_text,
    problem,
    text,
)

__all__ = ["OUTCOME_NAMES", "RouteConf", "SlackConf", "SmtpConf"]

OUTCOME_NAMES: Final = ("failed", "partial", "ok")


def _outcome(value: object) -> str:
    if value not in OUTCOME_NAMES:
        raise problem('must be "failed", "partial" or "ok"')
    return str(value)


def _address(value: object) -> str:
    address = text(value)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        raise problem("must be an e-mail address such as reserves@example.edu")
    return address


class SmtpConf(Table):
    """``[notify.smtp]``; ``from`` is a Python keyword, hence the field's alias."""

    host: Text
    port: Port = 587
    starttls: Flag = True
    use_tls: Flag = False
    user: Annotated[str, BeforeValidator(lambda value: optional_text(value) or "")] = ""
    password: SecretText = Field(default=None, repr=False)
    sender: Annotated[str, BeforeValidator(text)] = Field(alias="from")
    timeout_seconds: Seconds = 30.0


class SlackConf(Table):
    """``[notify.slack]``."""

    webhook: SecretText = Field(default=None, repr=False)
    timeout_seconds: Seconds = 30.0


class RouteConf(Table):
    """``[notify.WORKFLOW]``: who hears about the workflow's runs, on which outcomes."""

    to: Annotated[
        list[Annotated[str, BeforeValidator(_address)]],
        BeforeValidator(array("e-mail addresses in quotes")),
    ] = Field(default_factory=list)
    on: Annotated[
        list[Annotated[str, BeforeValidator(_outcome)]],
        BeforeValidator(array('outcomes: "failed", "partial", "ok"')),
    ] = Field(default_factory=lambda: list(OUTCOME_NAMES))
    slack: Flag = False
