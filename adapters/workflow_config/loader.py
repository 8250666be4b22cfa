"""Load the workflows configuration from a TOML file (rule B9).

``load_workflow_settings`` reads the file, parses it with the standard library's ``tomllib``,
validates every table (:mod:`adapters.workflow_config.schema`), then checks what depends on more
than one table or on the environment, and builds the application's
:class:`~application.shared.workflow_settings.WorkflowSettings`. It reports every problem at once
in one :class:`WorkflowConfigError`, each naming its key path, secrets scrubbed.

Secrets may come from the environment, and **the environment wins over the file**; the variables
are listed in :mod:`adapters.workflow_config.env_secrets`. What is checked for which workflow is
said in :mod:`adapters.workflow_config.build_sections`.

This module is the entry point; the work is done one area to a module: ``reading`` (the state of
one pass), ``build`` (the whole file), ``build_connections`` (``[alma]``, ``[remotes]``),
``build_sections`` and ``build_oclc`` (the workflow sections), ``build_schedules``,
``build_notify`` and ``env_secrets``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, Final

from adapters.workflow_config.build import build
from adapters.workflow_config.build_notify import LOOPBACK_HOSTS as LOOPBACK_HOSTS
from adapters.workflow_config.build_sections import SECTION_WORKFLOWS
from adapters.workflow_config.env_secrets import (
    ARCHIVESSPACE_PASSWORD_ENV,
    SLACK_WEBHOOK_ENV,
    SMTP_PASSWORD_ENV,
    apikey_env_name,
    remote_password_env_name,
)
from adapters.workflow_config.errors import WorkflowConfigError, scrub
from adapters.workflow_config.reading import Reading
from application.shared.workflow_settings import WORKFLOW_NAMES, WorkflowSettings

__all__ = [
    "ARCHIVESSPACE_PASSWORD_ENV",
    "SECTION_WORKFLOWS",
    "SLACK_WEBHOOK_ENV",
    "SMTP_PASSWORD_ENV",
    "apikey_env_name",
    "load_workflow_settings",
    "remote_password_env_name",
    "settings_from_text",
]

MAX_CONFIG_BYTES: Final = 4 * 1024 * 1024
"""A workflows file is a few kilobytes; anything this big is the wrong file."""


def load_workflow_settings(
    path: str | PathLike[str],
    environ: Mapping[str, str],
    *,
    more_workflows: Collection[str] = (),
) -> WorkflowSettings:
    """The settings in the TOML file at ``path``; raises :class:`WorkflowConfigError`.

    A missing or unreadable file is a problem naming the file (exit 2 for the commands).
    ``more_workflows`` names workflows registered beyond the built-in ones (the
    ``$ALMABRIDGE_WORKFLOW_MODULES`` of ``almabridge run``): they may be scheduled and notified,
    and their own ``[name]`` section is kept for them unchecked.
    """
    file = Path(path)
    source = str(path)
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise _unusable(source, "no such file") from None
    except IsADirectoryError:
        raise _unusable(source, "is a directory, not a file") from None
    except PermissionError:
        raise _unusable(source, "permission denied") from None
    except OSError as error:
        raise _unusable(source, error.strerror or type(error).__name__) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise _unusable(source, "larger than 4 MiB: not a workflows configuration")
    return settings_from_text(
        data, environ, source=source, base_dir=file.parent, more_workflows=more_workflows
    )


def settings_from_text(
    data: bytes | str,
    environ: Mapping[str, str],
    *,
    source: str = "workflows.toml",
    base_dir: str | PathLike[str] = ".",
    more_workflows: Collection[str] = (),
) -> WorkflowSettings:
    """The settings in ``data`` (TOML); relative paths in it are read from ``base_dir``."""
    document = _parse(data, source)
    workflows = tuple(dict.fromkeys((*WORKFLOW_NAMES, *more_workflows)))
    reading = Reading(document, environ, Path(base_dir), source, workflows)
    settings = build(reading)
    if reading.problems or settings is None:
        raise WorkflowConfigError(scrub(reading.problems, reading.secrets.seen), source=source)
    return settings


def _parse(data: bytes | str, source: str) -> dict[str, Any]:
    if isinstance(data, bytes):
        try:
            # utf-8-sig: editors on Windows like to start files with a byte-order mark.
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise _unusable(source, f"not UTF-8 text: invalid byte on line {line}") from None
    else:
        text = data
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _unusable(source, f"not valid TOML: {error}") from None


def _unusable(source: str, reason: str) -> WorkflowConfigError:
    """The one problem of a file that cannot be read as TOML at all: it names the file."""
    return WorkflowConfigError([f"{source}: {reason}"], source=source)
