"""Whether a published member item belongs in the SCF, and what to do about it (I4, I5, I6, I12).

The items sync reads one ``ITM`` field at a time from a member's publishing file. These rules say
whether the file holds deletions, whether the item sits in a remote-storage location, and whether
its SCF mirror ``{barcode}X`` should be created, updated, deleted or left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.scf.institutions import Consortium

DELETE_FILE_MARKER = "_delete"


def is_delete_file(name: str) -> bool:
    """Whether a publishing file holds deletions: its name contains ``_delete``, any case (I4).

    Only the last path component counts, so a folder name cannot turn updates into deletions.
    """
    file_name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return DELETE_FILE_MARKER in file_name.casefold()


def in_remote_storage(
    consortium: Consortium, institution_code: str, library: str | None, location: str | None
) -> bool:
    """Whether an item at ``library``/``location`` of a member is in remote storage (rule I5).

    The library must be one configured for the institution and the location exactly one of that
    library's remote-storage locations. The Java app matched substrings of the list's JSON text,
    so ``rs_shared`` or even ``1`` counted as ``rs_shared_1`` (fix).
    """
    if not library or not location:
        return False
    institution = consortium.institution(institution_code)
    if institution is None or consortium.is_scf(institution.code):
        return False
    configured = institution.library(library)
    return configured is not None and location in configured.remote_storage_locations


class ItemAction(StrEnum):
    """What the items sync does to an SCF mirror."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOTHING = "nothing"


@dataclass(frozen=True)
class ItemDecision:
    """An action on the SCF mirror and the reason the ledger records for it."""

    action: ItemAction
    reason: str


def decide_update(
    *, scf_item_exists: bool, in_remote_storage: bool, ignore_delete_files: bool
) -> ItemDecision:
    """What an update record (a file without ``_delete``) does to the SCF mirror (rule I6)."""
    if not scf_item_exists:
        if in_remote_storage:
            return ItemDecision(ItemAction.CREATE, "in remote storage and not yet in the SCF")
        return ItemDecision(ItemAction.NOTHING, "not in remote storage and not in the SCF")
    if in_remote_storage:
        return ItemDecision(ItemAction.UPDATE, "in remote storage and already in the SCF")
    if ignore_delete_files:
        return ItemDecision(
            ItemAction.NOTHING,
            "left remote storage but is kept in the SCF because ignore_delete_files is set",
        )
    return ItemDecision(ItemAction.DELETE, "left remote storage and is still in the SCF")


def decide_delete(*, scf_item_exists: bool, ignore_delete_files: bool) -> ItemDecision:
    """What a record of a ``_delete`` file does to the SCF mirror (rules I4, I6, I12)."""
    if ignore_delete_files:
        return ItemDecision(ItemAction.NOTHING, "delete files are ignored (ignore_delete_files)")
    if not scf_item_exists:
        return ItemDecision(ItemAction.NOTHING, "deleted at the member and not in the SCF")
    return ItemDecision(ItemAction.DELETE, "deleted at the member")
