"""What the fake ArchivesSpace holds: users, sessions, repositories, resources (their MARCXML as
bytes) and top container search docs, plus the call log and the calls in flight."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from adapters.fake_archivesspace.call_log import CallLog
from adapters.fake_archivesspace.records import ContainerSpec, container_doc, repository_record

DEFAULT_USER = "admin"
DEFAULT_PASSWORD = "admin"  # noqa: S105 - ArchivesSpace's own out-of-the-box login
_RESOURCE_URI = re.compile(r"^/repositories/(\d+)/resources/(\d+)$")


def resource_uri(repo_id: int, resource_id: int) -> str:
    """``/repositories/3/resources/1511``."""
    return f"/repositories/{repo_id}/resources/{resource_id}"


def parse_resource_uri(uri: str) -> tuple[int, int] | None:
    """(repository id, resource id) of a resource URI, or None."""
    match = _RESOURCE_URI.match(uri)
    return (int(match.group(1)), int(match.group(2))) if match else None


@dataclass
class FakeResource:
    """One resource: its MARC export, byte for byte, and its identifier and title."""

    repo_id: int
    resource_id: int
    marcxml: bytes
    identifier: str = ""
    title: str = ""

    @property
    def uri(self) -> str:
        """Its URI."""
        return resource_uri(self.repo_id, self.resource_id)


@dataclass
class FakeArchivesSpaceState:
    """The fake's data. Repositories and resources keep the order they were added in (the
    fake answers ``all_ids`` in that order, unsorted, as ArchivesSpace promises no order)."""

    users: dict[str, str] = field(default_factory=dict)
    repositories: dict[int, dict[str, Any]] = field(default_factory=dict)
    resources: dict[int, dict[int, FakeResource]] = field(default_factory=dict)
    containers: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """Top container search docs per repository (a container belongs to a repository and
    names its resources in ``collection_uri_u_sstr``)."""
    sessions: dict[str, str] = field(default_factory=dict)
    issued_tokens: list[str] = field(default_factory=list)
    """Every session token handed out, for tests that check no message carries one."""
    call_log: CallLog = field(default_factory=CallLog)
    in_flight: int = 0
    max_in_flight: int = 0
    _next_container: int = 100_000

    # --- users and sessions --------------------------------------------------------------------

    def add_user(self, username: str, password: str) -> None:
        """A user who may log in."""
        self.users[username] = password

    def login(self, username: str, password: str) -> str | None:
        """A new session token, or None when the user or password is wrong."""
        known = self.users.get(username)
        if known is None or not secrets.compare_digest(known, password):
            return None
        token = secrets.token_hex(32)
        self.sessions[token] = username
        self.issued_tokens.append(token)
        return token

    def session_user(self, token: str) -> str | None:
        """Whose session ``token`` is, or None when the fake does not know it."""
        return self.sessions.get(token)

    def logout(self, token: str) -> bool:
        """End a session; whether it existed."""
        return self.sessions.pop(token, None) is not None

    def expire_sessions(self) -> None:
        """Forget every session, as a backend restart does (the next call answers 412)."""
        self.sessions.clear()

    # --- records -------------------------------------------------------------------------------

    def add_repository(
        self, repo_id: int, code: str = "", name: str = "", record: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A repository: ``record`` as ``GET /repositories`` lists it (used verbatim), or one
        made from ``code`` and ``name``."""
        if record is None:
            record = repository_record(repo_id, code or f"repo{repo_id}", name or code)
        self.repositories[repo_id] = record
        self.resources.setdefault(repo_id, {})
        self.containers.setdefault(repo_id, [])
        return record

    def add_resource(
        self,
        repo_id: int,
        resource_id: int,
        marcxml: bytes,
        *,
        identifier: str = "",
        title: str = "",
    ) -> FakeResource:
        """A resource of an existing repository, with its MARC export."""
        if repo_id not in self.repositories:
            raise KeyError(f"no repository {repo_id}; add it first")
        resource = FakeResource(repo_id, resource_id, marcxml, identifier, title)
        self.resources[repo_id][resource_id] = resource
        return resource

    def resource(self, repo_id: int, resource_id: int) -> FakeResource | None:
        """A resource, or None."""
        return self.resources.get(repo_id, {}).get(resource_id)

    def resource_ids(self, repo_id: int) -> list[int]:
        """The repository's resource ids in the order they were added."""
        return list(self.resources.get(repo_id, {}))

    def add_container_doc(self, repo_id: int, doc: dict[str, Any]) -> dict[str, Any]:
        """A top container search doc, as ArchivesSpace's search returns it (used verbatim)."""
        if repo_id not in self.repositories:
            raise KeyError(f"no repository {repo_id}; add it first")
        self.containers[repo_id].append(doc)
        return doc

    def next_container_id(self) -> int:
        """A top container id not used yet."""
        self._next_container += 1
        return self._next_container

    def add_top_container(
        self,
        repo_id: int,
        resource_id: int,
        *,
        barcode: str = "",
        type: str = "box",
        indicator: str = "1",
        location_code: str = "scarcpph",
        container_id: int | None = None,
    ) -> dict[str, Any]:
        """A top container of the resource, made in ``single_container.json``'s shape (its id
        the next free one unless given)."""
        resource = self.resource(repo_id, resource_id)
        number = container_id if container_id is not None else self.next_container_id()
        spec = ContainerSpec(number, barcode, type, indicator, location_code)
        doc = container_doc(
            repo_id,
            resource_uri(repo_id, resource_id),
            spec,
            identifier=resource.identifier if resource else "",
            collection_title=resource.title if resource else "",
        )
        return self.add_container_doc(repo_id, doc)

    def container_docs(self, repo_id: int) -> list[dict[str, Any]]:
        """Every top container doc of the repository, in the order they were added."""
        return list(self.containers.get(repo_id, []))
