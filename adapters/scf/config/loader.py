"""Load :class:`Settings` from a configuration source (rules K1–K3).

``load_settings`` reads the bytes, parses the JSON, validates it against the Java format,
checks what depends on several keys or the environment, and builds the settings. It reports
every problem at once in one :class:`ConfigError`, with secrets scrubbed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from typing import Any

from adapters.scf.config.errors import ConfigError, Loc, key_path, scrub
from adapters.scf.config.mapping import check_document, secret_values, to_settings
from adapters.scf.config.schema import validate_document
from adapters.scf.config.sources import KNOWN_HOSTS_ENV, config_source_from
from application.scf.ports import ConfigSource
from application.scf.settings import Settings

__all__ = [
    "CONFIG_FILE_ENV",
    "load_settings",
    "parse_document",
    "settings_from_bytes",
    "source_from_environment",
]

CONFIG_FILE_ENV = "CONFIG_FILE"


async def load_settings(source: ConfigSource, environ: Mapping[str, str]) -> Settings:
    """Read ``source`` and build the settings; raises :class:`ConfigError` listing every problem.

    ``environ`` supplies secrets (``ALMABRIDGE_WEBHOOK_SECRET``, ``ALMABRIDGE_APIKEY_<INST>``,
    ``ALMABRIDGE_FTP_PASSWORD``) that win over the file's.
    """
    data = await source.read()
    return settings_from_bytes(data, environ, source=source.describe())


def source_from_environment(
    environ: Mapping[str, str], default_path: str | PathLike[str]
) -> ConfigSource:
    """The source named by ``CONFIG_FILE`` (a path or URL), else ``default_path``."""
    value = environ.get(CONFIG_FILE_ENV, "").strip()
    return config_source_from(
        value or str(default_path), known_hosts=environ.get(KNOWN_HOSTS_ENV) or None
    )


def settings_from_bytes(
    data: bytes, environ: Mapping[str, str], *, source: str = "conf.json"
) -> Settings:
    """The settings in ``data`` (the bytes of a conf.json); raises :class:`ConfigError`."""
    document = parse_document(data, source=source)
    problems = _duplicate_keys(document, document, ())
    conf, schema_problems = validate_document(document)
    problems += schema_problems
    problems += check_document(document, environ)
    if problems or conf is None:
        raise ConfigError(scrub(problems, secret_values(document, environ)), source=source)
    return to_settings(conf, environ)


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers keys it saw more than once (json keeps only the last)."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> _JsonObject:
    result = _JsonObject()
    result.duplicates = []
    for key, value in pairs:
        if key in result and key not in result.duplicates:
            result.duplicates.append(key)
        result[key] = value
    return result


def parse_document(data: bytes, *, source: str = "conf.json") -> dict[str, Any]:
    """The JSON object in ``data``; raises :class:`ConfigError` naming line and column."""
    try:
        # utf-8-sig: editors on Windows like to start files with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise ConfigError(
            [f"not UTF-8 text: invalid byte at line {line}, column {column}"], source=source
        ) from None
    try:
        document = json.loads(text, object_pairs_hook=_object_pairs)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"], source=source
        ) from None
    if not isinstance(document, dict):
        raise ConfigError(
            ["the file must hold one JSON object ({...}) at the top level"], source=source
        )
    return document


def _duplicate_keys(node: object, document: object, loc: Loc) -> list[str]:
    # The Java app's org.json refuses a duplicated key; json.loads silently keeps the last one,
    # which would hide an edit made to the first. Refuse it too.
    problems: list[str] = []
    if isinstance(node, _JsonObject):
        problems.extend(
            f"{key_path((*loc, key), document)}: appears more than once in the same object"
            for key in node.duplicates
        )
        for key, child in node.items():
            problems.extend(_duplicate_keys(child, document, (*loc, key)))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            problems.extend(_duplicate_keys(child, document, (*loc, index)))
    return problems


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return line, column
