"""Configuration: one role of an institution's Alma API."""

from __future__ import annotations

from typing import Protocol

from application.shared.alma import (
    AlmaLibrary,
    AlmaLocation,
)


class ConfPort(Protocol):
    """Configuration: libraries and their locations (R3, I8). Failures raise the typed errors of
    `application.shared.alma`."""

    institution: str

    async def libraries(self) -> list[AlmaLibrary]:
        """The institution's libraries (`/conf/libraries`)."""
        ...

    async def locations(self, library: str) -> list[AlmaLocation]:
        """A library's locations."""
        ...
