"""`HttpArchivesSpace`: the `ArchivesSpace` port over the backend API (rule AS2), with httpx.

Calls, the session and the concurrency limit are `ArchivesSpaceSession`'s; this module only
exchanges a call for an answer. The session token travels in the ``X-ArchivesSpace-Session``
header, the password only in the login's form body: neither is ever in a URL, so httpx's own
messages (which name the URL) cannot carry them, and whatever text comes back is redacted.

Failures: no answer at all (refused, reset, timed out, a connection closed mid-answer:
httpx's `TransportError`, or the `OSError` an in-process transport lets through for a dropped
connection) and a 5xx are `ArchivesSpaceUnavailable`; any other 4xx or an unreadable body is
`ArchivesSpaceError`; a refused login is `ArchivesSpaceLoginFailed`.
"""

from __future__ import annotations

import httpx

from adapters.aspace.answers import Answer
from adapters.aspace.session_calls import SESSION_HEADER, ArchivesSpaceSession, Call
from application.aspace.ports import ArchivesSpaceError, ArchivesSpaceUnavailable
from application.shared.connections import Secret

__all__ = ["HttpArchivesSpace"]


class HttpArchivesSpace(ArchivesSpaceSession):
    """One ArchivesSpace backend (``http://host:8089``) for one run; close with `aclose`."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: Secret,
        *,
        concurrency: int = 4,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(user, password, concurrency=concurrency)
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            # One connection per call in flight; more would only sit idle.
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    async def _exchange(self, call: Call) -> Answer:
        headers = {SESSION_HEADER: call.token} if call.token is not None else {}
        try:
            response = await self._http.request(
                call.method,
                call.path,
                params=dict(call.params) or None,
                data=dict(call.form) or None,
                headers=headers,
            )
        except (httpx.TransportError, OSError) as error:
            # `from None`: the chained httpx error holds the request, login body included.
            raise ArchivesSpaceUnavailable(
                f"{call}: no answer ({type(error).__name__}: {self._redact(str(error))})"
            ) from None
        except httpx.HTTPError as error:
            raise ArchivesSpaceError(
                f"{call}: unreadable answer ({type(error).__name__}: {self._redact(str(error))})"
            ) from None
        return Answer(
            response.status_code, response.content, response.headers.get("content-type", "")
        )

    async def _close_transport(self) -> None:
        await self._http.aclose()
