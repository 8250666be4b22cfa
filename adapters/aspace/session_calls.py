"""The `ArchivesSpace` port over any way of exchanging one call for one answer (rule AS2).

What is here, and so the same for the HTTP adapter and the fake's in-memory twin:

* at most ``concurrency`` calls in flight: a semaphore, held from before the call's login (if
  any) until its answer has arrived, so a login is one of those calls too;
* one login, lazily, even when many first calls start at once (a lock, checked again inside);
  the password goes only to ``POST /users/{user}/login``, as a form field, never in a URL;
* a session ArchivesSpace no longer knows (412 ``SESSION_GONE`` / ``SESSION_EXPIRED``, or a 403,
  which ArchivesSnake also answers with a new login) is renewed once per call, and the call is
  sent once more; a refused login is remembered, so a wrong password is tried only once;
* no other retry: the workflow retries a whole resource (AS2), one retry layer.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from adapters.aspace.answers import (
    Answer,
    Redactor,
    error_for_status,
    read_login,
    read_repositories,
    read_resource_ids,
    read_top_containers,
    refused_login,
)
from application.aspace.ports import (
    ArchivesSpaceError,
    ArchivesSpaceLoginFailed,
    Repository,
)
from application.shared.connections import Secret
from domain.aspace.containers import TopContainer

__all__ = ["RENEW_STATUSES", "SESSION_HEADER", "ArchivesSpaceSession", "Call"]

log = logging.getLogger(__name__)

SESSION_HEADER = "X-ArchivesSpace-Session"
RENEW_STATUSES = frozenset({403, 412})
"""412: the backend's "SESSION_GONE"/"SESSION_EXPIRED"; 403: ArchivesSnake's re-login cue."""


@dataclass(frozen=True)
class Call:
    """One call: what `ArchivesSpaceSession._exchange` sends. ``form`` carries only the login's
    password; ``str(call)`` (method and path) is what messages name."""

    method: str
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict, repr=False)
    token: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class ArchivesSpaceSession(ABC):
    """Implements the port; a subclass says how one call is exchanged (`_exchange`)."""

    def __init__(self, user: str, password: Secret, *, concurrency: int = 4) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self._user = user
        self._password = password
        self._slots = asyncio.Semaphore(concurrency)
        self._login_lock = asyncio.Lock()
        self._token: str | None = None
        self._refused: str | None = None
        self._redact = Redactor(password.reveal())
        self.concurrency = concurrency
        self.logins = 0
        """Logins this client made (the first, and one per renewed session)."""

    @abstractmethod
    async def _exchange(self, call: Call) -> Answer:
        """Send ``call`` and return the answer, whatever its status; a connection failure
        (reset, refused, timed out, cut short) raises `ArchivesSpaceUnavailable` naming the call
        and passed through `_redact`."""

    async def _close_transport(self) -> None:
        """Release what `_exchange` holds (the HTTP pool)."""
        return None

    # --- the port ------------------------------------------------------------------------------

    async def repositories(self) -> list[Repository]:
        """Every repository, in ArchivesSpace's order."""
        call, answer = await self._get("/repositories")
        return read_repositories(str(call), answer)

    async def resource_ids(self, repo_id: int) -> list[int]:
        """Every resource id of the repository, ascending."""
        call, answer = await self._get(
            f"/repositories/{int(repo_id)}/resources", {"all_ids": "true"}
        )
        return read_resource_ids(str(call), answer)

    async def resource_marcxml(self, repo_id: int, resource_id: int) -> bytes:
        """The MARCXML export, as ArchivesSpace sent it (the workflow parses it, AS5)."""
        path = f"/repositories/{int(repo_id)}/resources/marc21/{int(resource_id)}.xml"
        _call, answer = await self._get(path)
        return answer.body

    async def top_containers(self, repo_id: int, resource_id: int) -> list[TopContainer]:
        """The resource's top containers, in the search's order."""
        resource_uri = f"/repositories/{int(repo_id)}/resources/{int(resource_id)}"
        call, answer = await self._get(
            f"/repositories/{int(repo_id)}/top_containers/search",
            {"q": f'collection_uri_u_sstr:"{resource_uri}"'},
        )
        return read_top_containers(str(call), answer)

    async def aclose(self) -> None:
        """End the session (best effort: the backend expires it anyway), then the transport."""
        token, self._token = self._token, None
        try:
            if token is not None:
                try:
                    await self._send(Call("POST", "/logout", token=token))
                except ArchivesSpaceError as error:
                    log.debug("archivesspace logout failed: %s", error)
        finally:
            await self._close_transport()

    # --- calls and the session -----------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> tuple[Call, Answer]:
        """One GET inside a slot, logged in, renewed once if the session is gone; a 2xx
        answer or the typed error."""
        call = Call("GET", path, dict(params or {}))
        async with self._slots:
            token = await self._session()
            answer = await self._send(_with_token(call, token))
            if answer.status in RENEW_STATUSES:
                token = await self._renew(token)
                answer = await self._send(_with_token(call, token))
        if not 200 <= answer.status < 300:
            raise error_for_status(str(call), answer, self._redact)
        return call, answer

    async def _send(self, call: Call) -> Answer:
        answer = await self._exchange(call)
        log.debug("archivesspace %s -> %s", call, answer.status)
        return answer

    async def _session(self) -> str:
        """The session token, logging in first if there is none yet (once for all callers)."""
        token = self._token
        if token is not None:
            return token
        async with self._login_lock:
            if self._token is None:
                self._token = await self._login()
            return self._token

    async def _renew(self, stale: str) -> str:
        """A new session instead of ``stale``; callers that all saw it go share one login."""
        async with self._login_lock:
            if self._token is None or self._token == stale:
                self._token = None
                self._token = await self._login()
            return self._token

    async def _login(self) -> str:
        """``POST /users/{user}/login`` with the password as a form field."""
        if self._refused is not None:
            # A new exception each time: one instance raised in many tasks keeps growing its
            # traceback; and a wrong password is not sent again (accounts may lock).
            raise ArchivesSpaceLoginFailed(self._refused)
        call = Call(
            "POST",
            f"/users/{quote(self._user, safe='')}/login",
            form={"password": self._password.reveal(), "expiring": "false"},
        )
        answer = await self._send(call)
        if answer.status != 200:
            error = refused_login(str(call), answer, self._redact)
            if isinstance(error, ArchivesSpaceLoginFailed):
                self._refused = str(error)
            raise error
        token = read_login(str(call), answer)
        self._redact.add(token)
        self.logins += 1
        return token


def _with_token(call: Call, token: str) -> Call:
    return Call(call.method, call.path, call.params, call.form, token)
