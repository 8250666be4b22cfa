"""Reading ArchivesSpace's answers, shared by the HTTP adapter and the fake's in-memory twin so
that both give the same values and the same typed errors (rule AS2).

An answer is the status, the body bytes and the content type; every reader names the call
(``GET /repositories``) in its error and runs what ArchivesSpace wrote through `Redactor`
first: its 412 ``SESSION_GONE`` body repeats the session token ("No session found for <token>").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from application.aspace.ports import (
    ArchivesSpaceError,
    ArchivesSpaceLoginFailed,
    ArchivesSpaceUnavailable,
    Repository,
)
from domain.aspace.containers import TopContainer

__all__ = [
    "Answer",
    "Redactor",
    "error_for_status",
    "read_login",
    "read_repositories",
    "read_resource_ids",
    "read_top_containers",
    "refused_login",
]

MASK = "***"
_MAX_DETAIL = 300
_REPO_URI = re.compile(r"^/repositories/(\d+)$")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as ArchivesSpace sent it."""

    status: int
    body: bytes
    content_type: str = "application/json"


class Redactor:
    """Masks the password and every session token this client has held in text from outside
    (error bodies, transport errors), so no message, log line or record can carry them."""

    def __init__(self, *secrets: str) -> None:
        self._secrets = {s for s in secrets if s}

    def add(self, secret: str) -> None:
        """Mask ``secret`` from now on (a new session token)."""
        if secret:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        # Longest first: a token that contains the password is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


def _detail(answer: Answer, redact: Redactor) -> str:
    """What ArchivesSpace said, from its ``{"error": ...}`` body when it sent one, cut short."""
    text = answer.body.decode("utf-8", errors="replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "error" in parsed:
        error = parsed["error"]
        text = error if isinstance(error, str) else json.dumps(error, ensure_ascii=False)
    text = redact(" ".join(text.split()))
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def error_for_status(call: str, answer: Answer, redact: Redactor) -> ArchivesSpaceError:
    """The typed error of a non-2xx answer: a 5xx is worth retrying (`ArchivesSpaceUnavailable`),
    anything else is not (`ArchivesSpaceError`)."""
    detail = _detail(answer, redact)
    message = f"{call}: HTTP {answer.status}" + (f" ({detail})" if detail else "")
    if answer.status >= 500:
        return ArchivesSpaceUnavailable(message)
    return ArchivesSpaceError(message)


def refused_login(call: str, answer: Answer, redact: Redactor) -> ArchivesSpaceError:
    """A login answered with an error: a 5xx may pass (`ArchivesSpaceUnavailable`); a 4xx
    (``403 {"error": "Login failed"}``) means the user or password is wrong."""
    if answer.status >= 500:
        return error_for_status(call, answer, redact)
    detail = _detail(answer, redact)
    return ArchivesSpaceLoginFailed(
        f"{call}: ArchivesSpace refused the login (HTTP {answer.status}"
        + (f": {detail})" if detail else ")")
    )


def _json(call: str, answer: Answer) -> Any:
    try:
        return json.loads(answer.body)
    except ValueError as error:
        # The decoder's message names a position, never the body's text.
        raise ArchivesSpaceError(f"{call}: the answer is not JSON ({error})") from None


def read_login(call: str, answer: Answer) -> str:
    """The session token of ``{"session": "...", "user": {...}}``."""
    body = _json(call, answer)
    token = body.get("session") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ArchivesSpaceError(f"{call}: the login answer has no session token")
    return token


def read_repositories(call: str, answer: Answer) -> list[Repository]:
    """``GET /repositories``: a bare JSON array of repository records, kept in its order."""
    body = _json(call, answer)
    if not isinstance(body, list):
        raise ArchivesSpaceError(f"{call}: expected a JSON array of repositories")
    found: list[Repository] = []
    for entry in body:
        uri = entry.get("uri") if isinstance(entry, dict) else None
        match = _REPO_URI.match(uri) if isinstance(uri, str) else None
        if not isinstance(entry, dict) or not isinstance(uri, str) or match is None:
            raise ArchivesSpaceError(f"{call}: a repository without a /repositories/N uri")
        code, name = _text(entry.get("repo_code")), _text(entry.get("name"))
        found.append(Repository(uri=uri, repo_id=int(match.group(1)), code=code, name=name))
    return found


def read_resource_ids(call: str, answer: Answer) -> list[int]:
    """``?all_ids=true``: a bare JSON array of integers (ArchivesSpace promises no order, so
    they are sorted here, as the port promises)."""
    body = _json(call, answer)
    if not isinstance(body, list) or not all(_is_int(value) for value in body):
        raise ArchivesSpaceError(f"{call}: expected a JSON array of resource ids")
    return sorted(body)


def read_top_containers(call: str, answer: Answer) -> list[TopContainer]:
    """The Solr answer ``{"response": {"numFound": N, "docs": [...]}}``; each doc's ``json``
    field is the top container record, serialized as a string."""
    body = _json(call, answer)
    response = body.get("response") if isinstance(body, dict) else None
    docs = response.get("docs") if isinstance(response, dict) else None
    if not isinstance(docs, list):
        raise ArchivesSpaceError(f"{call}: expected a search answer with response.docs")
    return [_container(call, doc) for doc in docs]


def _container(call: str, doc: Any) -> TopContainer:
    if not isinstance(doc, dict):
        raise ArchivesSpaceError(f"{call}: a search doc is not a JSON object")
    raw = doc.get("json")
    record: Any = {}
    if isinstance(raw, str):
        try:
            record = json.loads(raw)
        except ValueError as error:
            raise ArchivesSpaceError(
                f"{call}: the json of {_text(doc.get('uri')) or 'a doc'} is not JSON ({error})"
            ) from None
    if not isinstance(record, dict):
        record = {}
    location = _first(record.get("container_locations"))
    resolved = location.get("_resolved")
    return TopContainer(
        uri=_text(record.get("uri")) or _text(doc.get("uri")),
        barcode=_text(record.get("barcode")),
        type=_text(record.get("type")),
        indicator=_text(record.get("indicator")),
        location_code=_text(resolved.get("classification")) if isinstance(resolved, dict) else "",
    )


def _first(values: Any) -> dict[str, Any]:
    """The first object of a JSON array, or an empty one (rule 14 reads location 0 only)."""
    if isinstance(values, list) and values and isinstance(values[0], dict):
        first: dict[str, Any] = values[0]
        return first
    return {}


def _text(value: Any) -> str:
    """A field as text: empty when absent or null; numbers (an indicator of 12) as written."""
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
