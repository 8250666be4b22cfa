"""Users: one role of an institution's Alma API."""

from __future__ import annotations

from typing import Protocol

from application.shared.alma import (
    AlmaUser,
)


class UsersPort(Protocol):
    """Users: a member patron's linked SCF account (research §7.4.3). Failures raise the typed
    errors of `application.shared.alma`."""

    institution: str

    async def get_user(self, user_id: str, *, id_type: str = "all_unique") -> AlmaUser:
        """A user by any unique id (or `linking_id`)."""
        ...

    async def get_linked_user(self, link_id: str, source_institution_code: str) -> AlmaUser:
        """The local copy of another institution's user."""
        ...

    async def create_linked_user(
        self, source_institution_code: str, source_user_id: str
    ) -> AlmaUser:
        """Create the local copy of another institution's user."""
        ...

    async def refresh_user(self, user_id: str) -> None:
        """Refresh a linked user from its source institution."""
        ...
