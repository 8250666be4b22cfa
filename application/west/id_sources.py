"""MMS ids from an Alma set (rule H1; fix: the originals needed a manual export first).

`GET /conf/sets/{id}/members` in pages of at most 100, through the shared `SetMembers` port and
so through the institution's client, throttle and retries (B4).
"""

from __future__ import annotations

from application.ports.alma.sets import SetMembers, SetNotFound
from application.shared.alma import AlmaError
from application.west.ports import IdInput, IdSourceMissing
from domain.shared.marc import SourceRecord

__all__ = ["SetIdSource"]


class SetIdSource:
    """The members of one Alma set, in Alma's order, as an MMS id source (H1)."""

    def __init__(self, members: SetMembers, set_id: str) -> None:
        self._members = members
        self._set_id = set_id

    @property
    def description(self) -> str:
        return f"--set {self._set_id}"

    async def read(self) -> IdInput:
        """Every member; an unknown set, or a set Alma cannot list, ends the run (B2)."""
        ids: list[str] = []
        try:
            async for member in self._members.all_members(self._set_id):
                ids.append(member.id)
        except SetNotFound:
            raise IdSourceMissing(
                f"Alma set {self._set_id} does not exist in institution {self._members.institution}"
            ) from None
        except AlmaError as error:
            raise IdSourceMissing(
                f"the members of Alma set {self._set_id} cannot be read: {error}"
            ) from None
        entries = tuple(SourceRecord(position, mms_id) for position, mms_id in enumerate(ids, 1))
        # The digest of a set is that of its member list: a resume refuses a set that changed
        # since the killed run (B5), as it refuses a changed file.
        content = "".join(f"{mms_id}\n" for mms_id in ids).encode()
        return IdInput(f"set {self._set_id}", content, entries)
