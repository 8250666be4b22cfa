"""The `cleanup` run: generated files older than `keep_days` are removed (rule B8).

Caches, logs, loader files and reports alike, from the configured folders and their sub-folders.
Each removed file is a run record keyed by its path (B1); a file that cannot be removed is
recorded failed and the rest go on (B2). With `--dry-run` nothing is removed: each file that
would be is recorded skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from application.ports.local_files import LocalFile, LocalFiles
from application.shared.ledger_records import JsonValue
from application.shared.run_context import RunContext
from application.shared.run_records import RecordOutcome

__all__ = ["CLEANUP", "DEFAULT_KEEP_DAYS", "Cleanup"]

CLEANUP = "cleanup"
"""The workflow's name, as `almabridge run cleanup` takes it."""

DEFAULT_KEEP_DAYS = 42
"""How long generated files are kept when the configuration does not say (B8)."""

FILE = "file"
FOLDER = "folder"


class Cleanup:
    """Removes files older than `keep_days` under `folders` (rule B8)."""

    name = CLEANUP

    def __init__(
        self, files: LocalFiles, folders: Sequence[str], keep_days: int = DEFAULT_KEEP_DAYS
    ) -> None:
        if keep_days < 0:
            raise ValueError(f"keep_days must be 0 or more, got {keep_days}")
        self._files = files
        self._folders = tuple(folders)
        self._keep_days = keep_days

    async def run(self, context: RunContext) -> None:
        """Remove (or, in a dry run, name) every file older than `keep_days`."""
        cutoff = context.now() - timedelta(days=self._keep_days)
        for folder in self._folders:
            if not await self._files.is_folder(folder):
                # Nothing generated there yet (a first run's output folder): not a failure.
                await context.record(
                    FOLDER, folder, RecordOutcome.SKIPPED, f"folder {folder} does not exist"
                )
                continue
            context.progress(f"looking for files older than {self._keep_days} days in {folder}")
            try:
                listing = await self._files.files_under(folder)
            except OSError as error:
                await context.record(
                    FOLDER, folder, RecordOutcome.FAILED, f"cannot list {folder}: {_why(error)}"
                )
                continue
            for file in listing:
                if file.modified < cutoff and not context.already_done(FILE, file.path):
                    await self._remove(context, file)

    async def _remove(self, context: RunContext, file: LocalFile) -> None:
        age = (context.now() - file.modified).days
        detail: dict[str, JsonValue] = {
            "size": file.size,
            "modified": file.modified.isoformat(),
            "age_days": age,
        }
        if context.dry_run:
            reason = f"dry run: would remove {file.path} ({age} days old)"
            await context.record(FILE, file.path, RecordOutcome.SKIPPED, reason, detail)
            return
        try:
            await self._files.remove(file.path)
        except FileNotFoundError:
            reason = f"{file.path} was already gone"
            await context.record(FILE, file.path, RecordOutcome.SKIPPED, reason, detail)
        except OSError as error:
            reason = f"cannot remove {file.path}: {_why(error)}"
            await context.record(FILE, file.path, RecordOutcome.FAILED, reason, detail)
        else:
            reason = f"removed {file.path}: {age} days old, kept {self._keep_days}"
            await context.record(FILE, file.path, RecordOutcome.OK, reason, detail)


def _why(error: OSError) -> str:
    return error.strerror or type(error).__name__
