"""`almabridge run aspace2alma-remove-stale`: the Saturday run (rule AS1).

ArchivesSpace is down for maintenance on Saturdays, so the day's export does not run and nothing
rotates yesterday's ``MARC_out.xml``: Alma's import profile would load it a second time, and
Alma imports are not idempotent. This run only removes that file.
"""

from __future__ import annotations

from typing import Final

from application.aspace.drop_folder import MARC_OUT, DropFolder, DropFolderFailed
from application.shared.run_context import RunContext, RunFailed
from application.shared.run_records import RecordOutcome

__all__ = ["ASPACE2ALMA_REMOVE_STALE", "RemoveStaleFile"]

ASPACE2ALMA_REMOVE_STALE: Final = "aspace2alma-remove-stale"


class RemoveStaleFile:
    """Removes yesterday's ``MARC_out.xml`` from the drop folder (see the module text)."""

    name = ASPACE2ALMA_REMOVE_STALE

    def __init__(self, drop: DropFolder) -> None:
        self._drop = drop

    async def run(self, context: RunContext) -> None:
        """Remove the file when present; record what was done (nothing on a dry run, B8)."""
        if context.dry_run:
            await context.record("file", MARC_OUT, RecordOutcome.SKIPPED, "dry run: not removed")
            return
        try:
            removed = await self._drop.remove_current()
        except DropFolderFailed as failed:
            raise RunFailed(failed.sentence) from None
        if removed:
            await context.record(
                "file", MARC_OUT, RecordOutcome.OK, f"removed from {self._drop.target}"
            )
        else:
            await context.record(
                "file", MARC_OUT, RecordOutcome.SKIPPED, f"not in {self._drop.target}"
            )
