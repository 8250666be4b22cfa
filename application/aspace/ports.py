"""The narrow ports of ArchivesSpace to Alma (rules AS2, AS4, AS6): what the workflow reads from
the ArchivesSpace backend API, how a resource's MARCXML is read, and where the collection is
written. Alma is reached through the shared `SetMembers` port (AS3) and the
remote folder through `FileTransfer` (AS1, AS6).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from domain.aspace.containers import TopContainer
from domain.shared.marc import MarcRecord

__all__ = [
    "ArchivesSpace",
    "ArchivesSpaceError",
    "ArchivesSpaceLoginFailed",
    "ArchivesSpaceUnavailable",
    "CollectionFiles",
    "CollectionSink",
    "Repository",
    "ResourceMarc",
    "UnreadableResource",
    "UnwritableRecord",
]


@dataclass(frozen=True)
class Repository:
    """A repository (``GET /repositories``): its URI ``/repositories/2``, id, code and name."""

    uri: str
    repo_id: int
    code: str
    name: str


class ArchivesSpaceError(Exception):
    """ArchivesSpace refused a call or answered what cannot be read (a 4xx, a body that is not
    the JSON or XML asked for). The message names the URL path, never the password or the
    session token. Not worth retrying: the resource is recorded failed (AS2)."""


class ArchivesSpaceUnavailable(ArchivesSpaceError):
    """A connection error (reset, refused, timed out) or a 5xx: worth retrying the resource
    (AS2: up to 3 more tries, after 1, 2 and 3 s)."""


class ArchivesSpaceLoginFailed(ArchivesSpaceError):
    """The login was refused: no call can succeed; the run ends failed with one sentence."""


class ArchivesSpace(Protocol):
    """One ArchivesSpace backend, logged in on first use (the session token sent in the
    ``X-ArchivesSpace-Session`` header). The adapter keeps at most a configured number of calls
    in flight (default 4) and never retries by itself: AS2's retry is the workflow's."""

    async def repositories(self) -> list[Repository]:
        """Every repository, in ArchivesSpace's order."""
        ...

    async def resource_ids(self, repo_id: int) -> list[int]:
        """Every resource id of the repository (``?all_ids=true``), ascending."""
        ...

    async def resource_marcxml(self, repo_id: int, resource_id: int) -> bytes:
        """``GET /repositories/{r}/resources/marc21/{id}.xml``: a MARCXML collection of one
        record, as ArchivesSpace sent it."""
        ...

    async def top_containers(self, repo_id: int, resource_id: int) -> list[TopContainer]:
        """The resource's top containers (the search on ``collection_uri_u_sstr``), each read
        from its doc's ``json`` string; ArchivesSpace's order."""
        ...

    async def aclose(self) -> None:
        """Close the connection pool (and end the session when the adapter logged in)."""
        ...


class UnreadableResource(Exception):
    """A resource's MARCXML cannot be read as one MARC record (not well-formed, no record,
    several): that resource is recorded failed and the run goes on (AS5, fix)."""


class ResourceMarc(Protocol):
    """Reads the MARCXML ArchivesSpace sent for one resource (AS4's input)."""

    def parse(self, data: bytes, resource: str) -> MarcRecord:
        """The record; `UnreadableResource` naming ``resource`` and what is wrong."""
        ...


class UnwritableRecord(Exception):
    """A transformed record that MARCXML cannot carry (a control character in a value): nothing
    of it was written; the resource is recorded failed and the run goes on (AS5)."""


class CollectionSink(Protocol):
    """``MARC_out.xml`` being written, one record at a time, under a temporary name (AS6, B3)."""

    async def add(self, record: MarcRecord) -> None:
        """Append one record; `UnwritableRecord`, nothing written, when XML cannot carry it."""
        ...

    async def finish(self) -> Path:
        """Close the collection and give the file its final name; returns its path."""
        ...

    async def discard(self) -> None:
        """Remove what was written: nothing appears under the final name."""
        ...


class CollectionFiles(Protocol):
    """Where the run writes its collection (AS6)."""

    async def open(self, folder: Path, name: str = "MARC_out.xml") -> CollectionSink:
        """Start writing ``name`` in ``folder``."""
        ...
