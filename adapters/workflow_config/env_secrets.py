"""The workflows file's secrets, from the environment or the file (rule B9).

Secrets may come from the environment, and **the environment wins over the file** (as for the
bridge's conf.json): a file can then keep a placeholder, or nothing, and the real value live in
the service's environment only.

* ``ALMABRIDGE_APIKEY_<CODE>`` for ``alma.<CODE>.apikey``
* ``ALMABRIDGE_REMOTE_<NAME>_PASSWORD`` for ``remotes.<NAME>.password``
* ``ALMABRIDGE_ARCHIVESSPACE_PASSWORD`` for ``aspace2alma.archivesspace.password``
* ``ALMABRIDGE_SMTP_PASSWORD`` for ``notify.smtp.password``
* ``ALMABRIDGE_SLACK_WEBHOOK`` for ``notify.slack.webhook``

``<CODE>`` and ``<NAME>`` are upper-cased, with every character but A–Z and 0–9 made ``_``.
An environment variable set to the empty string counts as not set.

Every secret value seen, in the file or the environment, is kept so that the problems can be
scrubbed of it before they leave the adapter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from adapters.workflow_config.errors import key_path

__all__ = [
    "ARCHIVESSPACE_PASSWORD_ENV",
    "SLACK_WEBHOOK_ENV",
    "SMTP_PASSWORD_ENV",
    "EnvSecrets",
    "apikey_env_name",
    "remote_password_env_name",
]

# Names of environment variables, not secrets.
ARCHIVESSPACE_PASSWORD_ENV: Final = "ALMABRIDGE_ARCHIVESSPACE_PASSWORD"  # noqa: S105
SMTP_PASSWORD_ENV: Final = "ALMABRIDGE_SMTP_PASSWORD"  # noqa: S105
SLACK_WEBHOOK_ENV: Final = "ALMABRIDGE_SLACK_WEBHOOK"

_SECRET_ENV: Final = frozenset({ARCHIVESSPACE_PASSWORD_ENV, SMTP_PASSWORD_ENV, SLACK_WEBHOOK_ENV})
_SECRET_ENV_PATTERN: Final = re.compile(r"ALMABRIDGE_(APIKEY_.+|REMOTE_.+_PASSWORD)\Z")


def apikey_env_name(code: str) -> str:
    """``ALMABRIDGE_APIKEY_<CODE>``: the code upper-cased, anything but A-Z and 0-9 made ``_``."""
    return "ALMABRIDGE_APIKEY_" + _env_part(code)


def remote_password_env_name(name: str) -> str:
    """``ALMABRIDGE_REMOTE_<NAME>_PASSWORD`` for the remote ``name``."""
    return f"ALMABRIDGE_REMOTE_{_env_part(name)}_PASSWORD"


def _env_part(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", text.upper())


class EnvSecrets:
    """The secrets of one reading of the file, and every secret value seen so far.

    ``problems`` is the reading's own list, so that a missing secret takes its place among the
    other problems in the order they were found.
    """

    def __init__(self, environ: Mapping[str, str], problems: list[str]) -> None:
        self.environ = environ
        self.problems = problems
        # Every secret value seen, file and environment, to scrub from problems.
        self.seen: list[str] = [
            value
            for name, value in environ.items()
            if name in _SECRET_ENV or _SECRET_ENV_PATTERN.match(name)
        ]

    def secret(
        self,
        table: Mapping[str, object],
        key: str,
        env_name: str,
        loc: tuple[str, ...],
        *,
        required: bool = True,
    ) -> str | None:
        """The secret from the environment (which wins) or the file; a problem when required
        and absent from both. A value of the wrong type is the schema's problem, not this one."""
        from_env = self.from_environment(env_name)
        if from_env is not None:
            return from_env
        value = table.get(key)
        if isinstance(value, str) and value:
            return value
        if required and (value is None or value == ""):
            because = ": user is set" if loc[-2:] == ("smtp", "password") else ""
            self.problems.append(
                f"{key_path(loc)}: missing{because} (give it here or in {env_name} in the "
                "environment)"
            )
        return None

    def from_environment(self, name: str) -> str | None:
        value = self.environ.get(name, "")
        if not value.strip():
            return None
        self.seen.append(value)
        return value

    def remember(self, value: object) -> None:
        """Keep a secret the file holds, whatever else is wrong with it."""
        if isinstance(value, str) and value:
            self.seen.append(value)

    def remember_url_password(self, value: object) -> None:
        if isinstance(value, str):
            try:
                password = urlsplit(value.strip()).password
            except ValueError:
                return
            if password:
                self.seen.append(password)
