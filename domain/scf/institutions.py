"""The consortium as the SCF rules see it: member institutions, their libraries and the SCF.

These are the non-secret facts from configuration that the rules decide on (rules I5, I8, R3,
C1, W4). API keys and passwords never live here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Library:
    """A library of a member institution (conf.json ``institutions[].libraries[]``)."""

    code: str
    circ_desk: str | None
    remote_storage_locations: frozenset[str]


@dataclass(frozen=True)
class Institution:
    """A member institution (or the SCF listed among ``institutions[]``)."""

    code: str
    libraries: tuple[Library, ...] = ()
    default_library: str | None = None
    publishing_job_id: str | None = None
    requests_job_id: str | None = None

    def library(self, code: str) -> Library | None:
        """The configured library with exactly this code, if any."""
        for library in self.libraries:
            if library.code == code:
                return library
        return None


@dataclass(frozen=True)
class RemoteStorage:
    """The SCF institution and where mirrored items go inside it."""

    institution: str
    holding_library: str
    holding_location: str
    circ_desk: str
    digitization_department: str | None = None


@dataclass(frozen=True)
class Consortium:
    """Everything the SCF rules need to know about who is who."""

    remote_storage: RemoteStorage
    institutions: tuple[Institution, ...]
    ignore_delete_files: bool = True

    def is_scf(self, code: str) -> bool:
        """Institution codes compare case-insensitively, as Alma's webhooks do (rule W5)."""
        return code.casefold() == self.remote_storage.institution.casefold()

    def institution(self, code: str) -> Institution | None:
        """The configured institution with this code (case-insensitive), if any."""
        wanted = code.casefold()
        for institution in self.institutions:
            if institution.code.casefold() == wanted:
                return institution
        return None

    @property
    def members(self) -> tuple[Institution, ...]:
        """Member institutions: every configured institution except the SCF's own entry."""
        return tuple(i for i in self.institutions if not self.is_scf(i.code))
