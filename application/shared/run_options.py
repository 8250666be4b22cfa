"""A run's options as the ledger may keep them: never a secret (rules B1, B4, B5).

A resumed run reuses its original's options (B5), so they are stored; but the ledger is read by
operators, the audit API and the status page, so a password, API key, secret or webhook never
goes in. Such keys are dropped at any depth, and a password inside a URL is masked; the secrets
come again from the configuration or the environment when a run is resumed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from application.shared.ledger_records import JsonValue

__all__ = ["SECRET_MARKERS", "is_secret_key", "safe_options"]

SECRET_MARKERS = ("password", "passwd", "apikey", "secret", "webhook", "token")
"""Words that make an option's name a secret's, compared without case, `_` or `-`."""

# scheme://user:password@host — the password part, up to the last @ before the host.
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@\s]*(?P<at>@)")


def is_secret_key(name: str) -> bool:
    """Whether an option called `name` holds a secret (`api_key`, `smtp-password`, `webhook`…)."""
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    return any(marker in flat for marker in SECRET_MARKERS)


def safe_options(options: Mapping[str, JsonValue] | None) -> dict[str, JsonValue]:
    """A copy of `options` without secret keys (at any depth) and with URL passwords masked."""
    return {
        str(key): _safe(value) for key, value in (options or {}).items() if not is_secret_key(key)
    }


def _safe(value: JsonValue) -> JsonValue:
    if isinstance(value, Mapping):
        return safe_options(value)
    if isinstance(value, list):
        return [_safe(item) for item in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\g<head>***\g<at>", value)
    return value
