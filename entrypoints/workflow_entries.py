"""What a batch workflow gives `almabridge run`: its `WorkflowEntry`, and the reading of the
modules $ALMABRIDGE_WORKFLOW_MODULES names (rules B1, B2, B5).

Apart from `workflow_registry` so that each context's wiring module (`west_wiring`, ...) can make
its entry without importing the registry that lists it among the built-ins.
"""

from __future__ import annotations

import argparse
import importlib
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

from adapters.alma_http.client import AlmaHttpClient
from adapters.transfer import file_transfer_for
from adapters.workflow_config.errors import WorkflowConfigError
from adapters.workflow_config.loader import load_workflow_settings
from application.ports.transfer import FileTransfer
from application.shared.ledger_records import JsonValue
from application.shared.run_context import Workflow
from application.shared.workflow_settings import AlmaInstitution, Remote, WorkflowSettings

__all__ = [
    "MODULES_VARIABLE",
    "RegistryError",
    "WorkflowArguments",
    "WorkflowEntry",
    "WorkflowSetup",
    "WorkflowUsageError",
    "alma_client",
    "configured_settings",
    "entries_from_modules",
    "read_config",
    "remote_folder",
    "remote_transfer",
]

MODULES_VARIABLE = "ALMABRIDGE_WORKFLOW_MODULES"


class RegistryError(Exception):
    """$ALMABRIDGE_WORKFLOW_MODULES names a module that cannot serve: exit 2 (B2)."""


class WorkflowUsageError(Exception):
    """A workflow's arguments or configuration are wrong; the message names the flag or key.
    Exit 2 (B2)."""


@dataclass(frozen=True)
class WorkflowSetup:
    """What a workflow is built from besides its options: the `--config` file, parsed."""

    config: Mapping[str, Any] = field(default_factory=dict)
    config_path: Path | None = None


@dataclass(frozen=True)
class WorkflowEntry:
    """One workflow `almabridge run` can start.

    `options(args, setup)` turns the arguments after NAME into the options stored with the run
    (paths absolute, no secrets: a resume may start elsewhere, B5); `build(options, setup)`
    makes the workflow from stored options. Both raise WorkflowUsageError naming the flag.
    """

    name: str
    summary: str
    options: Callable[[Sequence[str], WorkflowSetup], dict[str, JsonValue]]
    build: Callable[[Mapping[str, JsonValue], WorkflowSetup], Workflow]
    usage: str = ""


class WorkflowArguments(argparse.ArgumentParser):
    """An argparse parser of a workflow's own arguments that raises WorkflowUsageError (exit 2,
    the flag named) instead of printing usage and exiting the process."""

    def __init__(self, workflow: str) -> None:
        super().__init__(prog=f"almabridge run {workflow}", add_help=False, allow_abbrev=False)

    def error(self, message: str) -> NoReturn:
        """Refuse the arguments, naming the flag."""
        raise WorkflowUsageError(f"{self.prog}: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        """argparse exits on its own only for --help-like actions; none are declared."""
        raise WorkflowUsageError(f"{self.prog}: {message or 'cannot parse the arguments'}")


def read_config(path: Path) -> WorkflowSetup:
    """The workflows' TOML configuration named by `--config` (B9)."""
    try:
        with path.open("rb") as stream:
            document = tomllib.load(stream)
    except FileNotFoundError:
        raise WorkflowUsageError(f"--config {path}: no such file") from None
    except OSError as error:
        raise WorkflowUsageError(f"--config {path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise WorkflowUsageError(f"--config {path} is not valid TOML: {error}") from None
    return WorkflowSetup(config=document, config_path=path)


def entries_from_modules(
    environ: Mapping[str, str] | None = None,
) -> list[tuple[str, WorkflowEntry]]:
    """The entries of the modules $ALMABRIDGE_WORKFLOW_MODULES names, with their module."""
    names = (os.environ if environ is None else environ).get(MODULES_VARIABLE, "")
    found: list[tuple[str, WorkflowEntry]] = []
    for module_name in (part.strip() for part in names.split(",")):
        if module_name:
            found.extend((module_name, entry) for entry in _entries_of(module_name))
    return found


def _entries_of(module_name: str) -> list[WorkflowEntry]:
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise RegistryError(
            f"{MODULES_VARIABLE} names {module_name}, which cannot be imported: "
            f"{type(error).__name__}: {error}"
        ) from None
    listed = getattr(module, "WORKFLOWS", None)
    if not isinstance(listed, Sequence) or not all(
        isinstance(entry, WorkflowEntry) for entry in listed
    ):
        raise RegistryError(
            f"{MODULES_VARIABLE} names {module_name}, which has no WORKFLOWS sequence of "
            "WorkflowEntry"
        )
    return list(listed)


def alma_client(institution: AlmaInstitution) -> AlmaHttpClient:
    """A workflow run's own Alma client: the institution's host and per-second limit (B4)."""
    return AlmaHttpClient(institution.url, rate_per_second=institution.rate_limit_per_second)


def remote_transfer(remote: Remote) -> FileTransfer:
    """A new connection to a configured remote folder (SFTP, FTP, file://)."""
    return file_transfer_for(remote.file_server())


def remote_folder(remote: Remote, path: str) -> str:
    """The folder a ``NAME:path`` reference names: ``path`` below the remote's own folder."""
    folder = PurePosixPath(remote.folder or "/")
    return str(folder / path) if path else str(folder)


def configured_settings(
    setup: WorkflowSetup, environ: Mapping[str, str] | None, workflow: str
) -> WorkflowSettings:
    """The validated `--config` file, secrets from it or the environment (B9); a missing or
    invalid file is a usage error naming the key (exit 2)."""
    if setup.config_path is None:
        raise WorkflowUsageError(
            f"almabridge run {workflow} needs --config FILE with an [alma.CODE] table"
        )
    try:
        more = tuple(entry.name for _, entry in entries_from_modules(environ))
        return load_workflow_settings(
            setup.config_path, os.environ if environ is None else environ, more_workflows=more
        )
    except (WorkflowConfigError, RegistryError) as error:
        raise WorkflowUsageError(str(error)) from None
