"""Which batch workflows `almabridge run NAME` knows: the built-ins, plus those of the modules
named in $ALMABRIDGE_WORKFLOW_MODULES (rules B1, B2).

A module named there (`pkg.mod,other.mod`) exposes `WORKFLOWS`, a sequence of `WorkflowEntry`:
a sixth workflow, or a test's toy, joins without touching the command line. An entry turns the
arguments after NAME (and the `--config` file) into the options stored with the run, and builds
the workflow from stored options, so that `--resume` rebuilds it from the ledger alone (B5).
"""

from __future__ import annotations

import argparse
import importlib
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from adapters.local_files import LocalFolders
from application.shared.cleanup import CLEANUP, DEFAULT_KEEP_DAYS, Cleanup
from application.shared.ledger_records import JsonValue
from application.shared.run_context import Workflow

__all__ = [
    "MODULES_VARIABLE",
    "RegistryError",
    "WorkflowArguments",
    "WorkflowEntry",
    "WorkflowSetup",
    "WorkflowUsageError",
    "load_registry",
    "read_config",
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


def load_registry(environ: Mapping[str, str] | None = None) -> dict[str, WorkflowEntry]:
    """The built-in workflows and those of $ALMABRIDGE_WORKFLOW_MODULES, by name."""
    entries = {entry.name: entry for entry in BUILT_IN}
    names = (os.environ if environ is None else environ).get(MODULES_VARIABLE, "")
    for module_name in (part.strip() for part in names.split(",")):
        if not module_name:
            continue
        for entry in _entries_of(module_name):
            if entry.name in entries:
                raise RegistryError(
                    f"{MODULES_VARIABLE}: {module_name} registers workflow {entry.name}, "
                    "which is already known"
                )
            entries[entry.name] = entry
    return entries


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


# ---- cleanup (rule B8) -------------------------------------------------------------------------


def _cleanup_options(args: Sequence[str], setup: WorkflowSetup) -> dict[str, JsonValue]:
    parser = WorkflowArguments(CLEANUP)
    parser.add_argument("--folder", dest="folders", action="append", type=Path, default=[])
    parser.add_argument("--keep-days", type=int, default=None)
    given = vars(parser.parse_args(list(args)))
    section = setup.config.get(CLEANUP, {})
    if not isinstance(section, Mapping):
        raise WorkflowUsageError("[cleanup] must be a table")
    folders: list[Path] = list(given["folders"])
    if not folders:
        configured = section.get("folders", ["out"])
        if not isinstance(configured, list) or not all(isinstance(f, str) for f in configured):
            raise WorkflowUsageError("[cleanup] folders must be a list of folder paths")
        # Relative to the configuration file, as every path in it (B9).
        base = setup.config_path.parent if setup.config_path is not None else Path()
        folders = [base / folder for folder in configured]
    keep_days = given["keep_days"]
    if keep_days is not None and keep_days < 0:
        raise WorkflowUsageError("--keep-days must be 0 or more")
    if keep_days is None:
        keep_days = section.get("keep_days", DEFAULT_KEEP_DAYS)
        if not isinstance(keep_days, int) or isinstance(keep_days, bool) or keep_days < 0:
            raise WorkflowUsageError(
                "[cleanup] keep_days must be a whole number of days, 0 or more"
            )
    # Absolute: a resumed cleanup may start in another working directory (B5).
    return {"folders": [str(folder.absolute()) for folder in folders], "keep_days": keep_days}


def _cleanup_build(options: Mapping[str, JsonValue], setup: WorkflowSetup) -> Workflow:
    folders, keep_days = options.get("folders"), options.get("keep_days")
    if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
        raise WorkflowUsageError("cleanup: the run's options hold no list of folders")
    if not isinstance(keep_days, int) or keep_days < 0:
        raise WorkflowUsageError("cleanup: the run's options hold no keep_days")
    return Cleanup(LocalFolders(), [str(folder) for folder in folders], keep_days)


CLEANUP_ENTRY = WorkflowEntry(
    name=CLEANUP,
    summary=f"remove generated files older than keep_days (default {DEFAULT_KEEP_DAYS}) (B8)",
    options=_cleanup_options,
    build=_cleanup_build,
    usage=(
        "[--folder DIR]... [--keep-days N]; default: [cleanup] folders and keep_days of "
        f"--config, else ./out and {DEFAULT_KEEP_DAYS} days"
    ),
)

BUILT_IN: tuple[WorkflowEntry, ...] = (CLEANUP_ENTRY,)
