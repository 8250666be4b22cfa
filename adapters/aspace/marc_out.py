"""``MARC_out.xml``, the collection Alma's "ASpace to Alma" import profile reads (AS4, AS6, B3).

The document is upstream's: its exact ``<collection …>`` opening tag (the MARC 21 slim namespace
as the default one, plus ``marc:`` and ``xsi:schemaLocation``), no XML declaration, each
``<record>`` right after the previous one, then ``</collection>`` with no newline. Each record is
built and escaped by ElementTree (fix: upstream interpolated values into strings, and an ``&``
broke the file), indented two spaces a level, datafield attributes in upstream's order (``ind1``,
``ind2``, ``tag``) and the leader as the record has it (unlike `adapters.marc.marcxml`, which
sets leader/09).

Upstream's file is Nokogiri's output after edits, so fields inserted from its string templates
(035, 040, 046, 856, 949) keep the templates' odd indentation; this writer indents every field
alike. The documents are equal as canonical XML, not byte for byte.

`MarcOutFiles` writes under a hidden ``.NAME.part`` in the target folder, appending each record
as it is added (memory stays flat; file work in a worker thread), and gives the file its final
name only once complete and synced (B3: Alma never sees half a file under the real name).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Final

from adapters.marc.marcxml import MarcXmlError, marcxml_problem
from application.aspace.ports import UnwritableRecord
from domain.shared.marc import ControlField, MarcRecord

__all__ = [
    "COLLECTION_END",
    "COLLECTION_START",
    "MarcOutFiles",
    "MarcOutSink",
    "marc_out_document",
    "record_xml",
]

COLLECTION_START: Final = (
    b'<collection xmlns="http://www.loc.gov/MARC21/slim" '
    b'xmlns:marc="http://www.loc.gov/MARC21/slim" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    b'xsi:schemaLocation="http://www.loc.gov/MARC21/slim '
    b'http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd">'
)
"""Upstream's opening tag, byte for byte (pulibrary/lib_jobs ``Marcxml::COLLECTION_START``)."""
COLLECTION_END: Final = b"</collection>"
DEFAULT_NAME: Final = "MARC_out.xml"


def record_xml(record: MarcRecord) -> bytes:
    """One ``<record>`` in UTF-8, unprefixed: the collection's default namespace is MARC's.
    `MarcXmlError` names a value XML 1.0 cannot carry (a control character)."""
    problem = marcxml_problem(record)
    if problem is not None:
        raise MarcXmlError(problem)
    element = ET.Element("record")
    ET.SubElement(element, "leader").text = record.leader
    for field in record.fields:
        if isinstance(field, ControlField):
            ET.SubElement(element, "controlfield", {"tag": field.tag}).text = field.value
            continue
        attributes = {"ind1": field.indicator1, "ind2": field.indicator2, "tag": field.tag}
        data = ET.SubElement(element, "datafield", attributes)
        for subfield in field.subfields:
            ET.SubElement(data, "subfield", {"code": subfield.code}).text = subfield.value
    ET.indent(element, space="  ")
    # Never ``<subfield code="b" />``: an empty value is written open and closed, as upstream.
    text = ET.tostring(element, encoding="unicode", short_empty_elements=False)
    # ElementTree leaves a carriage return in text raw, which a parser reads back as a line
    # feed; as a character reference it survives. No markup holds one, so this only hits text.
    return text.replace("\r", "&#13;").encode("utf-8")


def marc_out_document(records: Iterable[MarcRecord]) -> bytes:
    """The whole document `MarcOutSink` writes for ``records`` (for tests and small runs)."""
    return COLLECTION_START + b"".join(record_xml(r) for r in records) + COLLECTION_END


class MarcOutFiles:
    """`CollectionFiles` on this machine's disk."""

    async def open(self, folder: Path, name: str = DEFAULT_NAME) -> MarcOutSink:
        """Start ``name`` in ``folder`` (its opening tag written under the temporary name)."""
        sink = MarcOutSink(folder / name)
        await asyncio.to_thread(sink.start)
        return sink


class MarcOutSink:
    """One ``MARC_out.xml`` being written (see the module text). Records are written in the
    order `add` is called; after `finish` or `discard` nothing more can be added."""

    def __init__(self, final: Path) -> None:
        self._final = final
        self._part = final.with_name(f".{final.name}.part")
        self._handle: BinaryIO | None = None
        self._lock = asyncio.Lock()

    @property
    def temporary(self) -> Path:
        """Where the file is written until `finish`."""
        return self._part

    def start(self) -> None:
        """Open the temporary file and write the opening tag (blocking; `MarcOutFiles.open`
        runs it in a worker thread)."""
        self._handle = self._part.open("wb")
        self._handle.write(COLLECTION_START)

    async def add(self, record: MarcRecord) -> None:
        """Append ``record``; `UnwritableRecord` (nothing written) when XML cannot carry it, so
        the use case records that resource failed and goes on (AS5)."""
        try:
            chunk = record_xml(record)
        except MarcXmlError as error:
            raise UnwritableRecord(str(error)) from None
        async with self._lock:
            await asyncio.to_thread(self._append, self._open_handle(), chunk)

    async def finish(self) -> Path:
        """Close the collection, sync it, and give it its final name; returns that path."""
        async with self._lock:
            await asyncio.to_thread(self._complete, self._open_handle())
        return self._final

    async def discard(self) -> None:
        """Remove the temporary file; the final name is left as it was. Safe to call twice."""
        async with self._lock:
            await asyncio.to_thread(self._remove)

    def _open_handle(self) -> BinaryIO:
        if self._handle is None:
            raise RuntimeError(f"{self._final.name} is not being written (finished or discarded)")
        return self._handle

    @staticmethod
    def _append(handle: BinaryIO, chunk: bytes) -> None:
        # Handed to the OS record by record: memory stays flat and the part file shows progress.
        handle.write(chunk)
        handle.flush()

    def _complete(self, handle: BinaryIO) -> None:
        self._handle = None
        try:
            handle.write(COLLECTION_END)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            handle.close()
        os.replace(self._part, self._final)  # B3: the final name only once complete
        _sync_folder(self._final.parent)

    def _remove(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()
        self._part.unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the folder is synced; not every platform can open one.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
