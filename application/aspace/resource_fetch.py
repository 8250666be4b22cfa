"""One ArchivesSpace resource fetched for the collection (rule AS2): its MARCXML, read as a
record, and its top containers unless rule 17 leaves the record out anyway (a call saved).

A connection error or a 5xx (`ArchivesSpaceUnavailable`) tries the whole resource again after
1, 2 and 3 s, as upstream did: at most 4 tries, and no other retry layer on top (the adapter has
none). Then, or on any other error, the resource comes back with its failure, for the run to
record while it goes on. A refused login is raised: no resource can be read after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from application.aspace.ports import (
    ArchivesSpace,
    ArchivesSpaceError,
    ArchivesSpaceLoginFailed,
    ArchivesSpaceUnavailable,
    ResourceMarc,
    UnreadableResource,
)
from domain.aspace.containers import TopContainer
from domain.aspace.transform import exclusion
from domain.shared.aspace_rules import AspaceRules
from domain.shared.marc import MarcRecord

__all__ = ["RETRY_WAITS", "Fetched", "ResourceFetcher", "Sleep"]

RETRY_WAITS: Final = (1.0, 2.0, 3.0)
"""AS2: the waits before the second, third and fourth try of a resource (upstream's)."""

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Fetched:
    """One resource as fetched: its record and containers, or why it is left out."""

    uri: str
    record: MarcRecord | None = None
    containers: tuple[TopContainer, ...] = ()
    excluded: str | None = None
    failure: str | None = None
    tries: int = 1


class ResourceFetcher:
    """Fetches resources of one ArchivesSpace (see the module text)."""

    def __init__(
        self,
        aspace: ArchivesSpace,
        marc: ResourceMarc,
        rules: AspaceRules,
        *,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._aspace = aspace
        self._marc = marc
        self._rules = rules
        self._sleep = sleep

    async def fetch(self, repo_id: int, resource_id: int) -> Fetched:
        """AS2: one resource, tried again after 1, 2, 3 s when ArchivesSpace is unavailable."""
        uri = f"/repositories/{repo_id}/resources/{resource_id}"
        for tries, wait in enumerate((*RETRY_WAITS, None), start=1):
            try:
                return await self._fetch_once(uri, repo_id, resource_id, tries)
            except ArchivesSpaceLoginFailed:
                raise
            except ArchivesSpaceUnavailable as error:
                if wait is None:
                    return Fetched(
                        uri, failure=f"ArchivesSpace unavailable after {tries} tries: {error}"
                    )
                await self._sleep(wait)
            except ArchivesSpaceError as error:
                return Fetched(uri, failure=str(error), tries=tries)
        raise AssertionError("unreachable: the last try returns")  # pragma: no cover

    async def _fetch_once(self, uri: str, repo_id: int, resource_id: int, tries: int) -> Fetched:
        data = await self._aspace.resource_marcxml(repo_id, resource_id)
        try:
            record = self._marc.parse(data, uri)
        except UnreadableResource as error:
            return Fetched(uri, failure=str(error), tries=tries)
        left_out = exclusion(record, self._rules)
        if left_out is not None:
            return Fetched(uri, record, excluded=left_out, tries=tries)
        containers = await self._aspace.top_containers(repo_id, resource_id)
        return Fetched(uri, record, tuple(containers), tries=tries)
