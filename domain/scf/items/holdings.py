"""Where a mirrored item lives inside the SCF: its holding library and location (rule I8).

The SCF keeps the member's location code when the SCF library has a location with that code, and
its default remote-storage location otherwise. Holdings are reused by that *resolved* location:
the Java app compared the member's code instead, never matched its own default location again,
and created a new holding for every item of the bib (fix).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from domain.scf.institutions import RemoteStorage
from domain.shared.alma_json import at, text_at


@dataclass(frozen=True)
class ScfLocation:
    """The SCF library and location a mirrored item's holding should have."""

    library: str
    location: str
    kept_member_code: bool
    """True when the member's own location code exists in the SCF library and is used."""


def resolve_scf_location(
    member_location: str | None,
    scf_location_codes: Collection[str],
    remote_storage: RemoteStorage,
) -> ScfLocation:
    """The holding location for a member item whose ``ITM $l`` is ``member_location`` (rule I8)."""
    if member_location and member_location in scf_location_codes:
        return ScfLocation(remote_storage.holding_library, member_location, kept_member_code=True)
    return ScfLocation(
        remote_storage.holding_library, remote_storage.holding_location, kept_member_code=False
    )


def holding_matches(
    holding_library: str | None, holding_location: str | None, resolved: ScfLocation
) -> bool:
    """Whether an existing SCF holding is the one for ``resolved``: same library and location."""
    return holding_library == resolved.library and holding_location == resolved.location


def matching_holding_id(holdings: object, resolved: ScfLocation) -> str | None:
    """The first holding of a ``GET /bibs/{mms}/holdings`` reply at ``resolved``, if any."""
    entries = at(holdings, "holding")
    if not isinstance(entries, list):
        return None
    for entry in entries:
        holding_id = text_at(entry, "holding_id")
        if holding_id is not None and holding_matches(
            text_at(entry, "library", "value"), text_at(entry, "location", "value"), resolved
        ):
            return holding_id
    return None
