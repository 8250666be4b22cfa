"""Which batch workflows `almabridge run NAME` knows: the built-ins, plus those of the modules
named in $ALMABRIDGE_WORKFLOW_MODULES (rules B1, B2).

The entry's shape and the reading of those modules are `workflow_entries`'; each context's
wiring module (`west_wiring`, ...) gives its entry. A module named there (`pkg.mod,other.mod`)
exposes `WORKFLOWS`, a sequence of `WorkflowEntry`:
a sixth workflow, or a test's toy, joins without touching the command line. An entry turns the
arguments after NAME (and the `--config` file) into the options stored with the run, and builds
the workflow from stored options, so that `--resume` rebuilds it from the ledger alone (B5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from adapters.local_files import LocalFolders
from application.shared.cleanup import CLEANUP, DEFAULT_KEEP_DAYS, Cleanup
from application.shared.ledger_records import JsonValue
from application.shared.run_context import Workflow
from entrypoints.aspace_wiring import ASPACE2ALMA_ENTRY, ASPACE2ALMA_REMOVE_STALE_ENTRY
from entrypoints.courses_wiring import COURSE_LOADING_ENTRY, COURSE_ROLLOVER_REPORT_ENTRY
from entrypoints.ledger_retention_wiring import LEDGER_RETENTION_ENTRY
from entrypoints.oclc_wiring import OCLC_SYNC_ENTRY
from entrypoints.west_wiring import WEST_HOLDINGS_ENTRY
from entrypoints.workflow_entries import (
    MODULES_VARIABLE,
    RegistryError,
    WorkflowArguments,
    WorkflowEntry,
    WorkflowSetup,
    WorkflowUsageError,
    entries_from_modules,
    read_config,
)

__all__ = [
    "BUILT_IN",
    "MODULES_VARIABLE",
    "RegistryError",
    "WorkflowArguments",
    "WorkflowEntry",
    "WorkflowSetup",
    "WorkflowUsageError",
    "load_registry",
    "read_config",
]


def load_registry(environ: Mapping[str, str] | None = None) -> dict[str, WorkflowEntry]:
    """The built-in workflows and those of $ALMABRIDGE_WORKFLOW_MODULES, by name."""
    entries = {entry.name: entry for entry in BUILT_IN}
    for module_name, entry in entries_from_modules(environ):
        if entry.name in entries:
            raise RegistryError(
                f"{MODULES_VARIABLE}: {module_name} registers workflow {entry.name}, "
                "which is already known"
            )
        entries[entry.name] = entry
    return entries


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

BUILT_IN: tuple[WorkflowEntry, ...] = (
    CLEANUP_ENTRY,
    WEST_HOLDINGS_ENTRY,
    OCLC_SYNC_ENTRY,
    COURSE_LOADING_ENTRY,
    COURSE_ROLLOVER_REPORT_ENTRY,
    ASPACE2ALMA_ENTRY,
    ASPACE2ALMA_REMOVE_STALE_ENTRY,
    LEDGER_RETENTION_ENTRY,
)
