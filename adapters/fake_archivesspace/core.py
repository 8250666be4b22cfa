"""What the fake ArchivesSpace answers to one call, without HTTP: the Starlette app and the
in-memory twin both go through `FakeArchivesSpace.serve`, so they cannot drift apart.

Shapes follow the backend (archivesspace/archivesspace ``backend/app``): login ``{"session",
"user"}`` or 403 ``{"error": "Login failed"}``; an unknown session token 412 ``{"code":
"SESSION_GONE", "error": "No session found for <token>"}`` (the backend does repeat the token);
an anonymous call to a protected endpoint 403 ``{"error": "Access denied"}``; ``all_ids`` a bare
array of ints; the MARC export ``application/xml``; the container search Solr's own answer
(``responseHeader`` and ``response.numFound/start/docs``), unpaged; errors ``{"error": ...}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from adapters.fake_archivesspace.call_log import CallRecord, ResourceKey, masked_query
from adapters.fake_archivesspace.faults import Endpoint, FaultInjector
from adapters.fake_archivesspace.state import FakeArchivesSpaceState, parse_resource_uri

__all__ = ["FakeArchivesSpace", "InjectedReset", "Reply"]

_LOGIN = re.compile(r"^/users/([^/]+)/login$")
_REPOSITORY = re.compile(r"^/repositories/(\d+)$")
_RESOURCES = re.compile(r"^/repositories/(\d+)/resources$")
_MARC21 = re.compile(r"^/repositories/(\d+)/resources/marc21/(\d+)\.xml$")
_SEARCH = re.compile(r"^/repositories/(\d+)/top_containers/search$")
_QUERY = re.compile(r'^(\w+):"([^"]*)"$')
MAX_TOP_CONTAINER_RESULTS = 10_000
"""The backend's ``max_top_container_results`` default: one page, no paging parameters."""


class InjectedReset(ConnectionResetError):
    """An injected reset: the connection is dropped without a complete answer. An
    `OSError`, as a real reset is, so an in-process transport passes it on as one."""


@dataclass(frozen=True)
class Reply:
    """One answer of the fake."""

    status: int
    body: bytes
    media_type: str = "application/json"


def _json(value: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(value, ensure_ascii=False).encode())


def _error(message: Any, status: int) -> Reply:
    return _json({"error": message}, status)


@dataclass(frozen=True)
class _Route:
    endpoint: Endpoint
    resource: ResourceKey | None
    handler: Callable[[], Reply]
    anonymous: bool = False


class FakeArchivesSpace:
    """The fake's behaviour over a state and a fault injector."""

    def __init__(self, state: FakeArchivesSpaceState, faults: FaultInjector) -> None:
        self.state = state
        self.faults = faults

    async def serve(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str],
        form: Mapping[str, str],
        token: str | None,
    ) -> Reply:
        """The answer to one call, after its fault and latency; raises `InjectedReset` when the
        connection is to be dropped. Counted in the call log and in ``in_flight``."""
        state = self.state
        route = self._route(method.upper(), path, query, form, token)
        decision = self.faults.decide(route.endpoint, route.resource)
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        status = 0
        try:
            await self.faults.delay()
            if decision.kind == "reset":
                raise InjectedReset(f"injected connection reset on {method} {path}")
            if decision.kind == "error":
                reply = _error(f"Injected failure ({decision.status})", decision.status)
            elif decision.kind == "gone":
                reply = _gone(token or "")
            else:
                reply = self._authorised(route, token) or route.handler()
            status = reply.status
            return reply
        finally:
            state.in_flight -= 1
            record = CallRecord(
                method.upper(), path, masked_query(query), route.resource, status, decision.kind
            )
            state.call_log.append(record)

    def _authorised(self, route: _Route, token: str | None) -> Reply | None:
        """The backend's session check (before any endpoint runs): None when the call may go on."""
        if token is not None:
            if self.state.session_user(token) is None:
                return _gone(token)
            return None
        if route.anonymous:
            return None
        return _error("Access denied", 403)

    def _route(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        form: Mapping[str, str],
        token: str | None,
    ) -> _Route:
        if method == "POST":
            login = _LOGIN.match(path)
            if login:
                user = unquote(login.group(1))
                password = form.get("password", query.get("password", ""))
                return _Route("login", None, lambda: self._login(user, password), anonymous=True)
            if path == "/logout":
                return _Route("other", None, lambda: self._logout(token), anonymous=True)
        elif method == "GET":
            if path == "/repositories":
                return _Route("repositories", None, self._repositories, anonymous=True)
            if match := _REPOSITORY.match(path):
                repo_id = int(match.group(1))
                return _Route("repositories", None, lambda: self._repository(repo_id))
            if match := _RESOURCES.match(path):
                repo_id = int(match.group(1))
                return _Route("resources", None, lambda: self._resources(repo_id, query))
            if match := _MARC21.match(path):
                key = (int(match.group(1)), int(match.group(2)))
                return _Route("marc21", key, lambda: self._marc21(key))
            if match := _SEARCH.match(path):
                repo_id, q = int(match.group(1)), query.get("q", "")
                about = _searched_resource(q)
                return _Route("top_containers", about, lambda: self._search(repo_id, q, query))
        return _Route("other", None, lambda: _error("Sinatra::NotFound", 404), anonymous=True)

    # --- endpoints -----------------------------------------------------------------------------

    def _login(self, user: str, password: str) -> Reply:
        token = self.state.login(user, password)
        if token is None:
            return _error("Login failed", 403)
        profile = {
            "username": user,
            "name": user,
            "is_system_user": False,
            "is_admin": False,
            "permissions": {"_archivesspace": ["view_repository"]},
            "jsonmodel_type": "user",
        }
        return _json({"session": token, "user": profile})

    def _logout(self, token: str | None) -> Reply:
        ended = token is not None and self.state.logout(token)
        return _json({"status": "session_logged_out" if ended else "no_active_session"})

    def _repositories(self) -> Reply:
        return _json(list(self.state.repositories.values()))

    def _repository(self, repo_id: int) -> Reply:
        record = self.state.repositories.get(repo_id)
        return _json(record) if record is not None else _error("Repository not found", 404)

    def _resources(self, repo_id: int, query: Mapping[str, str]) -> Reply:
        if repo_id not in self.state.repositories:
            return _error("Repository not found", 404)
        ids = self.state.resource_ids(repo_id)
        if query.get("all_ids", "").lower() == "true":
            return _json(ids)
        page = query.get("page", "")
        if not page.isdigit() or int(page) < 1:
            return _error({"page": ["Parameter required but no value provided"]}, 400)
        size = int(query["page_size"]) if query.get("page_size", "").isdigit() else 10
        size = max(1, size)
        last = max(1, -(-len(ids) // size))
        chosen = ids[(int(page) - 1) * size : int(page) * size]
        results = [self._resource_json(repo_id, i) for i in chosen]
        envelope = {"first_page": 1, "last_page": last, "this_page": int(page)}
        return _json({**envelope, "total": len(ids), "results": results})

    def _resource_json(self, repo_id: int, resource_id: int) -> dict[str, Any]:
        resource = self.state.resource(repo_id, resource_id)
        assert resource is not None
        return {
            "uri": resource.uri,
            "id_0": resource.identifier,
            "title": resource.title,
            "jsonmodel_type": "resource",
            "repository": {"ref": f"/repositories/{repo_id}"},
        }

    def _marc21(self, key: ResourceKey) -> Reply:
        resource = self.state.resource(*key)
        if resource is None:
            return _error("Resource not found", 404)
        body = resource.marcxml
        if key in self.faults.invalid_xml:
            # Cut inside a tag: whatever the record, this is never well-formed XML.
            body = body[: max(1, len(body) // 2)] + b"<datafield tag="
        return Reply(200, body, "application/xml")

    def _search(self, repo_id: int, q: str, query: Mapping[str, str]) -> Reply:
        docs = self.state.container_docs(repo_id)
        if q.strip() not in ("", "*:*"):
            match = _QUERY.match(q.strip())
            if match is None:
                message = 'the fake searches only field:"value" and *:*'
                return _error(f"Solr query not understood: {message}", 400)
            field, value = match.groups()
            docs = [doc for doc in docs if _has(doc.get(field), value)]
        docs = docs[:MAX_TOP_CONTAINER_RESULTS]
        params = {"q": q, "wt": "json", "start": "0", "rows": str(MAX_TOP_CONTAINER_RESULTS)}
        params.update({k: v for k, v in query.items() if k != "q"})
        return _json(
            {
                "responseHeader": {"status": 0, "QTime": 1, "params": params},
                "response": {
                    "numFound": len(docs),
                    "start": 0,
                    "numFoundExact": True,
                    "docs": docs,
                },
            }
        )


def _gone(token: str) -> Reply:
    # The backend's own words, token included (the client must keep it out of its messages).
    body = {"code": "SESSION_GONE", "error": f"No session found for {token}"}
    return _json(body, 412)


def _has(field: Any, value: str) -> bool:
    if isinstance(field, list):
        return value in field
    return isinstance(field, str) and field == value


def _searched_resource(q: str) -> ResourceKey | None:
    """The resource a ``collection_uri_u_sstr:"/repositories/3/resources/1511"`` search is about."""
    match = _QUERY.match(q.strip())
    if match is None or match.group(1) != "collection_uri_u_sstr":
        return None
    return parse_resource_uri(match.group(2))
