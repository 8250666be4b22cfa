"""The items sync's run records (rule B1): one per published item, one per publishing file.

The `JobRunner` opens the run; the sync records each item and file as soon as it is done, so
`almabridge runs show ID` and the audit API list what a member's sync did, item by item.
"""

from __future__ import annotations

from application.scf.items.item_outcomes import ItemResult
from application.scf.items.item_sync_summary import FileSummary
from application.shared.run_records import RecordOutcome

__all__ = ["FILE_RECORD", "ITEM_RECORD", "RUN_OUTCOMES", "file_record"]

ITEM_RECORD = "item"
"""The run record of one published item, keyed by its member barcode (B1)."""
FILE_RECORD = "file"
"""The run record of one publishing file, keyed by its name (B1)."""

RUN_OUTCOMES = {
    ItemResult.CREATED: RecordOutcome.OK,
    ItemResult.UPDATED: RecordOutcome.OK,
    ItemResult.UNCHANGED: RecordOutcome.OK,
    ItemResult.DELETED: RecordOutcome.OK,
    ItemResult.SKIPPED: RecordOutcome.SKIPPED,
    ItemResult.FAILED: RecordOutcome.FAILED,
}
"""An item's I13 outcome as its run record's (B2: skipped on purpose keeps the run ok)."""


def file_record(file: FileSummary) -> tuple[RecordOutcome, str]:
    """A publishing file's run record: its outcome and reason, from how the sync left it."""
    if file.status == "failed":
        return RecordOutcome.FAILED, f"failed: {file.failure_reason}"
    if file.status == "unfinished":
        # Not lost: the file stays claimed and the next sync processes it again (I1).
        return RecordOutcome.SKIPPED, "unfinished: processed again by the next sync"
    return (
        RecordOutcome.OK,
        f"{file.status}: {file.records_total} items, {file.records_failed} failed",
    )
