"""Library names to codes per institution, from `GET /conf/libraries`, cached with expiry (R3).

The request export names the pickup library by its display name. The Java app kept each
institution's name map for the life of the process in a shared, unguarded `HashMap`, so a
renamed or new library was never seen until a restart. Here each institution's map is fetched
once per `ttl` (by the bridge's clock), and concurrent lookups of one institution share one call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from application.ports.alma.gateway import AlmaDirectory
from application.ports.clock import Clock
from application.shared.alma import UnknownInstitution
from domain.scf.requests.routing import RemoteStorageRequest

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(hours=1)
"""Libraries are renamed rarely; an hour bounds how stale a name can be at one call an hour."""


class LibraryNames:
    """Each institution's library name → code map, fetched lazily and refreshed after `ttl`."""

    def __init__(self, alma: AlmaDirectory, clock: Clock, ttl: timedelta = DEFAULT_TTL) -> None:
        self._alma = alma
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[datetime, Mapping[str, str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def codes_by_name(self, institution: str) -> Mapping[str, str]:
        """Library codes by exact, case-sensitive name (parity); Alma errors propagate."""
        key = institution.casefold()
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # single flight: waiting callers reuse the fresh map
            cached = self._cache.get(key)
            now = self._clock.now()
            if cached is not None and now < cached[0]:
                return cached[1]
            libraries = await self._alma.gateway(institution).libraries()
            names: dict[str, str] = {}
            for library in libraries:
                if library.name is None or library.code is None:
                    continue
                if library.name in names and names[library.name] != library.code:
                    # Two libraries with one name cannot be told apart by name; keep the first
                    # so that the answer does not depend on Alma's order changing later.
                    log.warning(
                        "%s: libraries %s and %s share the name %r; using %s",
                        institution,
                        names[library.name],
                        library.code,
                        library.name,
                        names[library.name],
                    )
                    continue
                names[library.name] = library.code
            self._cache[key] = (now + self._ttl, names)
            return names

    async def maps_for(
        self, request: RemoteStorageRequest, file_institution: str
    ) -> dict[str, Mapping[str, str]]:
        """The maps rule R3 may consult for `request`: none without a pickup name, else the file
        institution's and the pickup institution's (an unconfigured one simply has none)."""
        if not (request.pickup_library_name or "").strip():
            return {}
        wanted = [file_institution]
        pickup = (request.institution_code or "").strip()
        if pickup and pickup.casefold() != file_institution.casefold():
            wanted.append(pickup)
        maps: dict[str, Mapping[str, str]] = {}
        for institution in wanted:
            try:
                maps[institution] = await self.codes_by_name(institution)
            except UnknownInstitution:
                # No API key for that institution: R3 falls back to its default_library.
                maps[institution] = {}
        return maps
