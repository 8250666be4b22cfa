"""Alma's remote-storage request export, read as a stream of ``RemoteStorageRequest`` (rule R2).

The file is ``rsExportList`` with one ``rsExport`` per request, in Alma's namespace
``http://com/exlibris/urm/rep/externalsysremotestorage/xmlbeans`` under the prefix ``xb``. The
Java app matched the literal names ``xb:…``, cast every child of the root to an element (so one
indentation newline or comment made it skip the whole file) and decoded with the platform charset.
This reader fixes all three and keeps the Java app's field rules (research ``scf-java-app.md``
§7.2, §11.14):

- elements are matched by their local name: any prefix, a default namespace, or none;
- whitespace, comments and processing instructions are ignored anywhere;
- the bytes go to expat, which honours the BOM and the declared encoding (UTF-8, UTF-16,
  ISO-8859-1, US-ASCII, and single-byte codecs such as windows-1252);
- inside a request each field is the text of the *first* element with that name at any depth,
  as the Java ``getElementsByTagName(name).item(0)`` did; ``library`` counts only inside the
  first ``pickup`` and the patron fields only inside the first ``patronInfo``.

Values are kept raw: ``libraryCode`` is read even when ``institutionCode`` is present, because
rule R3 (``domain.scf.requests.pickup``) already prefers the named library of the pickup
institution.

Why ``pyexpat`` rather than ``ElementTree.iterparse``: ElementTree's parsers hide expat's
DOCTYPE callback and its line and column, and both are needed here — a DOCTYPE is refused as soon
as it starts (no entity is ever declared, so no billion laughs, no external entity), and every
error names its line. No tree is built: only the fields of the request being read are held, and
the file is fed to the parser in chunks in a worker thread, so memory is bounded and the event
loop is never blocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

from adapters.scf.formats.expat_refusal import ParseRefused, refusal
from application.shared.files import MalformedFile
from domain.scf.requests.routing import PatronInfo, RemoteStorageRequest

__all__ = ["CHUNK_BYTES", "MAX_FIELD_CHARS", "XmlRequestFiles"]

CHUNK_BYTES = 64 * 1024
"""How much of the file one worker-thread step parses."""

MAX_FIELD_CHARS = 1_000_000
"""Longest text kept for one field: a bigger one is not a request but a broken or hostile file."""

ROOT = "rsExportList"
REQUEST = "rsExport"

# Local names read anywhere inside a request (first occurrence wins), and their fields.
_SCALARS = frozenset(
    {
        "barcode",
        "mmsId",
        "description",
        "requestType",
        "requestId",
        "institutionCode",
        "libraryCode",
        "requestNote",
    }
)
_PICKUP = "pickup"
_PICKUP_LIBRARY = "library"
_PATRON = "patronInfo"
_PATRON_FIELDS = frozenset({"patronName", "patronIdentifier", "patronEmail", "patronAddress"})
_NIL_TRUE = frozenset({"true", "1"})


class XmlRequestFiles:
    """``RequestFiles`` for Alma's XML export: one ``RemoteStorageRequest`` per ``rsExport``."""

    def __init__(self, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._chunk_bytes = chunk_bytes

    async def read_requests(self, path: Path) -> AsyncIterator[RemoteStorageRequest]:
        """Every ``rsExport`` of ``path`` in file order.

        Raises ``MalformedFile`` (``where`` the file name, ``position`` "line L, column C") when
        the file is not well-formed XML, has a DOCTYPE, or is not an ``rsExportList``. Requests
        read before the fault have already been yielded; the caller decides what to do with them
        (R2: the file is marked failed, nothing is cancelled). A request without ``requestId``
        is yielded with ``request_id == ""``, as the Java app did, so that one bad request does
        not lose the others in the file; the service records it as unforwardable.
        """
        reader = await asyncio.to_thread(_FileReader, path, self._chunk_bytes)
        try:
            while True:
                requests, finished = await asyncio.to_thread(reader.step)
                for request in requests:
                    yield request
                if finished:
                    return
        finally:
            reader.close()


@dataclass
class _Capture:
    """An element whose text is being collected: a field's first occurrence."""

    key: str
    depth: int
    nil: bool
    parts: list[str] = field(default_factory=list)
    size: int = 0


@dataclass
class _Request:
    """The fields of the request being read, by key (``pickup.library``, ``patron.patronName``)."""

    number: int
    line: int
    values: dict[str, str | None] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)
    pickup_depth: int | None = None
    pickup_seen: bool = False
    patron_depth: int | None = None
    patron_seen: bool = False

    def build(self) -> RemoteStorageRequest:
        values = self.values
        patron = None
        if self.patron_seen:
            patron = PatronInfo(
                name=values.get("patron.patronName"),
                identifier=values.get("patron.patronIdentifier"),
                email=values.get("patron.patronEmail"),
                address=values.get("patron.patronAddress"),
            )
        return RemoteStorageRequest(
            # The Java app defaulted both to "": a missing id or type is the service's to judge.
            request_id=values.get("requestId") or "",
            request_type=values.get("requestType") or "",
            barcode=values.get("barcode"),
            mms_id=values.get("mmsId"),
            description=values.get("description"),
            institution_code=values.get("institutionCode"),
            pickup_library_name=values.get("pickup.library"),
            library_code=values.get("libraryCode"),
            patron=patron,
            request_note=values.get("requestNote"),
        )


def _local(name: str) -> str:
    # Namespace processing is off, so a name is "prefix:local" or "local". Matching the part
    # after the colon accepts any prefix, a default namespace, none, and even an undeclared
    # prefix (which the Java app, not namespace-aware either, accepted).
    return name.rpartition(":")[2]


def _is_nil(attributes: dict[str, str]) -> bool:
    return any(
        _local(name) == "nil" and value.strip() in _NIL_TRUE for name, value in attributes.items()
    )


class _FileReader:
    """One file being parsed; ``step`` runs in a worker thread, never two at once."""

    def __init__(self, path: Path, chunk_bytes: int) -> None:
        self._where = path.name
        self._chunk_bytes = chunk_bytes
        self._file: BinaryIO = path.open("rb")
        # No namespace processing (see _local); encoding None lets expat honour the BOM and the
        # XML declaration instead of any platform default.
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._entity
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self._parser = parser
        self._depth = 0
        self._done_count = 0
        self._request: _Request | None = None
        self._captures: list[_Capture] = []
        self._ready: list[RemoteStorageRequest] = []
        self._failure: MalformedFile | None = None

    def close(self) -> None:
        self._file.close()

    def step(self) -> tuple[list[RemoteStorageRequest], bool]:
        """Parse the next chunk: the requests it completed, and whether the file is finished.

        When the chunk also holds the fault, its complete requests are returned first and the
        ``MalformedFile`` is raised by the next step, so no whole request is held back.
        """
        if self._failure is not None:
            raise self._failure
        chunk = self._file.read(self._chunk_bytes)
        finished = not chunk
        try:
            self._parser.Parse(chunk, finished)
        except ParseRefused as refused:
            self._failure = self._malformed(refused.reason, refused.line, refused.column)
        except expat.ExpatError as error:
            reason = expat.ErrorString(error.code) or str(error)
            self._failure = self._malformed(reason, error.lineno, error.offset)
        except (LookupError, ValueError) as error:
            # pyexpat raises these for an encoding it cannot use: an unknown name
            # (LookupError) or a multi-byte codec other than UTF-8/16 (ValueError).
            self._failure = self._malformed(f"unusable encoding: {error}", 1, 0)
        ready, self._ready = self._ready, []
        if self._failure is not None:
            if ready:
                return ready, False
            raise self._failure
        return ready, finished

    def _malformed(self, reason: str, line: int, column: int) -> MalformedFile:
        # Say how far reading got: the requests before this point have been yielded already.
        request = self._request
        if request is not None:
            reason = f"{reason} (in request {request.number}, which starts on line {request.line})"
        elif self._done_count:
            reason = f"{reason} (after {self._done_count} complete requests)"
        # expat counts columns from 0; people and editors count from 1.
        return MalformedFile(
            where=self._where, reason=reason, position=f"line {line}, column {column + 1}"
        )

    def _refuse(self, reason: str) -> ParseRefused:
        return refusal(self._parser, reason)

    # --- expat handlers ------------------------------------------------------------------------

    def _doctype(
        self, name: str, system_id: str | None, public_id: str | None, has_internal: int
    ) -> None:
        # Refused before any declaration is read: no entity expansion, no external fetch.
        raise self._refuse(f"a DOCTYPE ({name}) is not allowed in a request file")

    def _entity(self, name: str, *_: object) -> None:  # pragma: no cover - DOCTYPE stops first
        raise self._refuse(f"an entity declaration ({name}) is not allowed in a request file")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self._depth += 1
        depth = self._depth
        local = _local(name)
        if depth == 1:
            if local != ROOT:
                raise self._refuse(
                    f"the root element is <{name}>, not {ROOT}: not a remote-storage request file"
                )
            return
        if depth == 2:
            # Only rsExport is a request; anything else directly under the root is ignored
            # rather than cast blindly as the Java app did.
            if local == REQUEST:
                self._request = _Request(
                    number=self._done_count + 1, line=self._parser.CurrentLineNumber
                )
            return
        request = self._request
        if request is None:
            return
        key = self._key(request, local)
        if local == _PICKUP and not request.pickup_seen:
            request.pickup_seen = True
            request.pickup_depth = depth
        elif local == _PATRON and not request.patron_seen:
            request.patron_seen = True
            request.patron_depth = depth
        if key is not None and key not in request.started:
            request.started.add(key)
            self._captures.append(_Capture(key=key, depth=depth, nil=_is_nil(attributes)))

    @staticmethod
    def _key(request: _Request, local: str) -> str | None:
        if request.patron_depth is not None and local in _PATRON_FIELDS:
            return f"patron.{local}"
        if request.pickup_depth is not None and local == _PICKUP_LIBRARY:
            return "pickup.library"
        if local in _SCALARS:
            return local
        return None

    def _text(self, data: str) -> None:
        # Text of nested elements counts too, as with the Java getTextContent().
        for capture in self._captures:
            capture.size += len(data)
            if capture.size > MAX_FIELD_CHARS:
                raise self._refuse(f"{capture.key} is longer than {MAX_FIELD_CHARS} characters")
            capture.parts.append(data)

    def _end(self, name: str) -> None:
        depth = self._depth
        self._depth -= 1
        request = self._request
        if request is None:
            return
        if self._captures and self._captures[-1].depth == depth:
            capture = self._captures.pop()
            text = "".join(capture.parts).strip()
            # xsi:nil and empty (or whitespace-only) text both mean "no value".
            request.values[capture.key] = None if capture.nil or not text else text
        if request.pickup_depth == depth:
            request.pickup_depth = None
        if request.patron_depth == depth:
            request.patron_depth = None
        if depth == 2:
            self._ready.append(request.build())
            self._done_count += 1
            self._request = None
