"""What the role adapters (holdings, sets, courses, analytics, jobs) share over `AlmaHttpClient`.

Every call goes through `AlmaHttpClient.call`, as `HttpAlmaGateway` makes it: the institution's
`Secret` key in the ``Authorization`` header only (A1, B4), every path segment and query value
percent-encoded by the client (A5), its throttle (A4) and its one retry layer (A3), typed errors
from Alma's envelope (A2).

The client asks for JSON (``Accept: application/json``) and its `call` takes no headers, so a
resource Alma keeps as XML is read from its JSON form, which carries that XML as the one string
of ``anies``: a holding's MARC ``<record>``, an Analytics ``<QueryResult>``
(research alma-api.md §1, "MARC in JSON"). `embedded_xml` takes it out.
"""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx

from adapters.alma_http.client import AlmaHttpClient
from application.shared.alma import AlmaError, AlmaJson, Page
from application.shared.connections import Secret

E = TypeVar("E", bound=AlmaError)
T = TypeVar("T")
Params = Mapping[str, str | int | bool]

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*", re.DOTALL)


class AlmaCaller:
    """One institution's calls through the shared client: the role adapters' common base."""

    def __init__(self, client: AlmaHttpClient, institution: str, api_key: Secret) -> None:
        self.institution = institution
        self._client = client
        self._key = api_key

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.institution!r})"

    async def call_json(
        self,
        method: str,
        *path: str,
        operation: str,
        params: Params | None = None,
        json_body: Any = None,
        xml_body: str | None = None,
        subject: Mapping[str, str] | None = None,
        repeat_safe: bool = True,
    ) -> AlmaJson:
        """One call whose answer is JSON (a 2xx with no body reads as ``{}``);
        ``repeat_safe=False`` for a write Alma would do twice (A3)."""
        response = await self._client.call(
            self.institution,
            self._key,
            method,
            path,
            operation=operation,
            params=params,
            json_body=json_body,
            xml_body=xml_body,
            subject=subject,
            repeat_safe=repeat_safe,
        )
        return json_of(response)

    async def get_json(
        self,
        *path: str,
        operation: str,
        params: Params | None = None,
        subject: Mapping[str, str] | None = None,
    ) -> AlmaJson:
        """``GET`` a path as JSON (a 2xx with no body reads as ``{}``)."""
        return await self.call_json(
            "GET", *path, operation=operation, params=params, subject=subject
        )

    async def get_document(
        self,
        *path: str,
        operation: str,
        params: Params | None = None,
        subject: Mapping[str, str] | None = None,
    ) -> str | None:
        """``GET`` a resource Alma keeps as XML: the XML of the JSON answer's ``anies`` (see the
        module text), or the body itself should Alma answer XML; None when neither has any."""
        response = await self._client.call(
            self.institution,
            self._key,
            "GET",
            path,
            operation=operation,
            params=params,
            subject=subject,
        )
        body = response.text
        media_type = response.headers.get("content-type", "").lower()
        if "xml" in media_type or body.lstrip().startswith("<"):
            return _DECLARATION.sub("", body, count=1) or None
        return embedded_xml(json_of(response))

    async def post_json(
        self,
        *path: str,
        operation: str,
        body: Any,
        params: Params | None = None,
        subject: Mapping[str, str] | None = None,
        repeat_safe: bool = True,
    ) -> AlmaJson:
        """``POST`` a JSON body; ``repeat_safe=False`` for a write Alma would do twice (A3)."""
        return await self.call_json(
            "POST",
            *path,
            operation=operation,
            params=params,
            json_body=body,
            subject=subject,
            repeat_safe=repeat_safe,
        )


def json_of(response: httpx.Response) -> AlmaJson:
    """The JSON object of a response; ``{}`` for an empty body."""
    if not response.content:
        return {}
    data = response.json()
    return data if isinstance(data, dict) else {"value": data}


def listed(data: Mapping[str, Any], key: str) -> list[AlmaJson]:
    """The objects of a list answer. Alma omits the array for an empty list
    (``{"total_record_count": 0}``) and a mechanical XML→JSON mapping may give one object."""
    values = data.get(key) or []
    if isinstance(values, dict):
        values = [values]
    return [v for v in values if isinstance(v, dict)] if isinstance(values, list) else []


def total_count(data: Mapping[str, Any], fallback: int) -> int:
    """``total_record_count`` as an int, or ``fallback`` when absent or malformed."""
    total = data.get("total_record_count")
    if isinstance(total, bool):
        return fallback
    if isinstance(total, int):
        return total
    if isinstance(total, str) and total.strip().isdigit():
        return int(total)
    return fallback


def text(value: Any) -> str | None:
    """A scalar as text; None for None, an object, a list or an empty string."""
    if value is None or isinstance(value, (dict, list)):
        return None
    found = str(value)
    return found if found.strip() else None


def code(value: Any) -> str | None:
    """``value`` of Alma's ``{"value": …, "desc": …}`` (or a bare scalar)."""
    return text(value.get("value")) if isinstance(value, Mapping) else text(value)


def desc(value: Any) -> str | None:
    """``desc`` of Alma's ``{"value": …, "desc": …}``."""
    return text(value.get("desc")) if isinstance(value, Mapping) else None


def check_limit(limit: int, low: int, high: int) -> int:
    """Refuse a page size Alma would refuse, before any call."""
    if not low <= limit <= high:
        raise ValueError(f"Alma pages hold {low} to {high} records, asked for {limit}")
    return limit


def embedded_xml(data: Mapping[str, Any]) -> str | None:
    """The XML string of ``anies`` without its declaration (which says UTF-16 of a text that
    is a Python string by now); None when ``anies`` is absent, empty or blank."""
    anies = data.get("anies")
    if isinstance(anies, list):
        anies = next((a for a in anies if isinstance(a, str) and a.strip()), None)
    if not isinstance(anies, str) or not anies.strip():
        return None
    return _DECLARATION.sub("", anies, count=1)


def parse_xml(document: str) -> ET.Element:
    """Parse XML from Alma; refuses DOCTYPE and ENTITY declarations, the one XML attack the
    standard parser is open to (it never fetches external entities)."""
    body = _DECLARATION.sub("", document, count=1)
    upper = body.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise ValueError("XML with a DOCTYPE or ENTITY declaration is refused")
    return ET.fromstring(body)  # noqa: S314 - Alma's answer; DOCTYPE and ENTITY refused above


def local_name(tag: str) -> str:
    """An element or attribute name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def retyped(error: AlmaError, kind: type[E]) -> E:
    """The same Alma failure as a more precise typed error (all of `AlmaError`'s facts kept)."""
    facts = {f.name: getattr(error, f.name) for f in dataclasses.fields(AlmaError)}
    return kind(**facts)


def plain(error: AlmaError) -> bool:
    """Whether the client left this error untyped (no more precise class applied)."""
    return type(error) is AlmaError


def error_with(
    institution: str, operation: str, message: str, subject: Mapping[str, str] | None = None
) -> AlmaError:
    """An error for an answer the adapter cannot use (no Alma error code: Alma said 200)."""
    return AlmaError(institution, operation, error_message=message, subject=dict(subject or {}))


async def each_record(page_at: Callable[[int], Awaitable[Page[T]]]) -> AsyncIterator[T]:
    """Every record of a paged list, page after page from offset 0, until a page is empty or
    the count is reached (`Page.next_offset`)."""
    offset: int | None = 0
    while offset is not None:
        page = await page_at(offset)
        for record in page.records:
            yield record
        offset = page.next_offset
