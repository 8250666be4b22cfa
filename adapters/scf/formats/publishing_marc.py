"""Alma publishing MARCXML, read record by record into ``PublishedItem`` values (rules I3, I4, I7).

Alma's publishing output is a ``<collection>`` of ``<record>`` elements, usually without a
namespace, with ``001`` after ``005``/``008`` and one repeatable ``ITM`` field per item (the
enrichment the SCF profile configures: ``$b`` barcode, ``$c`` current library, ``$l`` current
location, ``$n`` internal note 2). Files with the MARC namespace, and a single bare ``<record>`` as
root, are read as well.

Why ``pyexpat`` directly rather than pymarc's SAX handler or ``ElementTree.iterparse``: it is the
fastest (on 20,000 generated records pymarc's SAX handler took 1.4 s just to build its records;
this whole reader, items and local bibs included, about 1.2 s), it reports the line of every
error, and it exposes the DOCTYPE callback, so a DOCTYPE is refused before any entity is declared
(no billion laughs, no external entity). No tree is built: only the fields of the record being
read are held, and the file is fed in chunks, so memory is bounded by the largest record, never by
the file. Values are kept exactly as published; only pymarc's namespace constant is borrowed.

Per record: ``001`` is the member MMS id (a record without one stops the file with
``MalformedFile``: the bridge cannot name the bib, and the file is evidently not what Alma
writes); the NZ id comes from the ``035 $a`` values (domain ``nz_mms_id``, rule N5); each ``ITM``
yields one item, repeated subfields concatenated without separator and absent or blank ones
``None`` (a missing barcode is reported by the items sync as skipped, rule I3). A record is a
deletion when its file is a delete file (domain ``is_delete_file``, rule I4) *or* its leader
status (position 05) is ``d``: Alma marks deleted records so in its delete files, and a record
Alma itself says is deleted must never be mirrored as an update. Without an NZ id the record is
also serialised for local-bib creation (rule I7).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat
from xml.sax.saxutils import escape

from pymarc.marcxml import MARC_XML_NS

from adapters.scf.formats.expat_refusal import ParseRefused, refusal
from application.shared.files import MalformedFile
from domain.scf.items.decisions import is_delete_file
from domain.scf.items.published import PublishedItem
from domain.scf.naming import nz_mms_id, other_system_id

__all__ = [
    "CHUNK_BYTES",
    "MAX_RECORD_CHARS",
    "PublishingRecord",
    "iter_published_items",
    "iter_records",
    "local_bib_marcxml",
]

CHUNK_BYTES = 64 * 1024
"""How much of the file one parser step reads."""

MAX_RECORD_CHARS = 16 * 1024 * 1024
"""Most text one record may hold. A MARC record is at most 99,999 bytes and even a serial with
thousands of ITM fields stays far below this; a bigger one is a broken or hostile file."""

ITEM_TAG = "ITM"
AVAILABILITY_TAG = "AVA"
_LOCAL_BIB_DROPPED = frozenset({ITEM_TAG, AVAILABILITY_TAG})
_SEPARATOR = "}"  # expat joins namespace and local name with this; "}" cannot occur in a URI
_MARC_NAMESPACES = frozenset({"", MARC_XML_NS})
_RECORD_CHILDREN = frozenset({"leader", "controlfield", "datafield"})
_ATTRIBUTE_SPECIAL = re.compile(r'[&<>"\t\n\r]')


@dataclass
class DataField:
    """A MARC data field as published: tag, indicators and subfields in order."""

    tag: str
    ind1: str
    ind2: str
    subfields: list[tuple[str, str]] = field(default_factory=list)

    def joined(self, code: str) -> str | None:
        """The subfields ``code`` concatenated without separator, None when there is none (as
        marc4j's ``getSubfieldsAsString`` did for the Java app)."""
        values = [value for sub_code, value in self.subfields if sub_code == code]
        return "".join(values) if values else None


@dataclass
class PublishingRecord:
    """One ``<record>``: its position in the file and its fields in published order."""

    position: int
    line: int
    leader: str | None = None
    # Control fields as (tag, value) and data fields, interleaved in document order.
    fields: list[tuple[str, str] | DataField] = field(default_factory=list)

    def control(self, tag: str) -> str | None:
        """The first control field ``tag``."""
        for entry in self.fields:
            if isinstance(entry, tuple) and entry[0] == tag:
                return entry[1]
        return None

    def data_fields(self, tag: str) -> Iterator[DataField]:
        """Every data field ``tag``, in order."""
        for entry in self.fields:
            if isinstance(entry, DataField) and entry.tag == tag:
                yield entry

    @property
    def status_deleted(self) -> bool:
        """Leader position 05 is ``d``: Alma published the record as deleted."""
        return self.leader is not None and len(self.leader) > 5 and self.leader[5] == "d"


def iter_published_items(path: Path, institution: str) -> Iterator[PublishedItem]:
    """Every ITM of every record of ``path``, in file order (blocking; constant memory)."""
    file_deleted = is_delete_file(path.name)
    with path.open("rb") as source:
        for record in iter_records(source, path.name):
            yield from _items_of(record, institution, path.name, file_deleted)


def iter_records(source: BinaryIO, where: str) -> Iterator[PublishingRecord]:
    """The records of a MARCXML stream in order; ``MalformedFile`` names ``where`` and the record
    and line where reading stopped."""
    reader = _RecordReader(where)
    parser = reader.parser
    while True:
        chunk = source.read(CHUNK_BYTES)
        try:
            parser.Parse(chunk, not chunk)
        except ParseRefused as refused:
            raise reader.malformed(refused.reason, refused.line, refused.column) from None
        except expat.ExpatError as error:
            reason = expat.ErrorString(error.code) or str(error)
            raise reader.malformed(reason, error.lineno, error.offset) from None
        except (LookupError, ValueError) as error:
            # pyexpat raises these for an encoding it cannot use.
            raise reader.malformed(f"unusable encoding: {error}", 1, 0) from None
        ready, reader.ready = reader.ready, []
        yield from ready
        if not chunk:
            return


def local_bib_marcxml(record: PublishingRecord, institution: str, mms_id: str) -> str:
    """The record as a MARCXML ``<record>`` without namespace for a local SCF bib (rule I7):
    ``035 ## $a ({INST}){mms}`` appended (rule N4), every ``AVA`` and ``ITM`` removed (the Java
    app kept ``ITM``, leaking member item data into the SCF bib)."""
    parts = ["<record>"]
    if record.leader is not None:
        parts.append(f"<leader>{escape(record.leader)}</leader>")
    for entry in record.fields:
        if isinstance(entry, tuple):
            parts.append(f"<controlfield tag={_attr(entry[0])}>{escape(entry[1])}</controlfield>")
        elif entry.tag not in _LOCAL_BIB_DROPPED:
            parts.append(_datafield_xml(entry))
    parts.append(
        _datafield_xml(DataField("035", " ", " ", [("a", other_system_id(institution, mms_id))]))
    )
    parts.append("</record>")
    return "".join(parts)


def _datafield_xml(data_field: DataField) -> str:
    subfields = "".join(
        f"<subfield code={_attr(code)}>{escape(value)}</subfield>"
        for code, value in data_field.subfields
    )
    return (
        f"<datafield tag={_attr(data_field.tag)} ind1={_attr(data_field.ind1)}"
        f" ind2={_attr(data_field.ind2)}>{subfields}</datafield>"
    )


def _attr(value: str) -> str:
    # Tags, indicators and codes almost never need escaping: skip the replaces for them.
    if _ATTRIBUTE_SPECIAL.search(value) is None:
        return f'"{value}"'
    # Tabs and newlines would be normalised to spaces by the next XML parser: keep them as refs.
    escaped = escape(value, {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"})
    return f'"{escaped}"'


def _items_of(
    record: PublishingRecord, institution: str, source_file: str, file_deleted: bool
) -> Iterator[PublishedItem]:
    mms_id = (record.control("001") or "").strip()
    if not mms_id:
        raise MalformedFile(
            where=source_file,
            reason="record has no 001 (member MMS id)",
            position=f"record {record.position}, line {record.line}",
        )
    items = list(record.data_fields(ITEM_TAG))
    if not items:
        return
    nz_id = nz_mms_id(
        value for data_field in record.data_fields("035") if (value := data_field.joined("a"))
    )
    # Serialised once per record and shared by its items; only needed without an NZ id (I7).
    local_bib = None if nz_id is not None else local_bib_marcxml(record, institution, mms_id)
    deleted = file_deleted or record.status_deleted
    for item in items:
        yield PublishedItem(
            institution=institution,
            member_mms_id=mms_id,
            nz_mms_id=nz_id,
            barcode=_value(item, "b"),
            library=_value(item, "c"),
            location=_value(item, "l"),
            internal_note_2=_value(item, "n"),
            deleted=deleted,
            source_file=source_file,
            record_position=record.position,
            local_bib_marcxml=local_bib,
        )


def _value(item: DataField, code: str) -> str | None:
    # A blank subfield counts as absent: an empty barcode must be skipped, not mirrored as "X".
    value = item.joined(code)
    return value if value is not None and value.strip() else None


class _RecordReader:
    """expat handlers that assemble one ``PublishingRecord`` at a time."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.parser = expat.ParserCreate(namespace_separator=_SEPARATOR)
        # One character-data callback per text run, not one per buffer boundary or entity.
        self.parser.buffer_text = True
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.parser.CharacterDataHandler = self._characters
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.ready: list[PublishingRecord] = []
        self.root: str | None = None
        self._depth = 0
        self._record_depth = 0
        self._started = 0
        self._record: PublishingRecord | None = None
        self._record_chars = 0
        self._field: DataField | None = None
        self._control_tag: str | None = None
        self._subfield_code: str | None = None
        self._text: list[str] | None = None

    def malformed(self, reason: str, line: int, column: int) -> MalformedFile:
        # Say how far reading got: the items of earlier records have been yielded already.
        if self._record is not None:
            where_in_file = f"record {self._record.position}"
        elif self._started:
            where_in_file = f"after record {self._started}"
        else:
            where_in_file = "before the first record"
        # expat counts columns from 0; people and editors count from 1.
        return MalformedFile(
            where=self.where,
            reason=reason,
            position=f"{where_in_file}, line {line}, column {column + 1}",
        )

    def _refuse(self, reason: str) -> ParseRefused:
        return refusal(self.parser, reason)

    def _doctype(
        self, name: str, system_id: str | None, public_id: str | None, has_internal: int
    ) -> None:
        # Refused before any declaration is read: no entity expansion, no external fetch.
        raise self._refuse("a DOCTYPE is not allowed in a publishing file")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(_SEPARATOR)
        if namespace not in _MARC_NAMESPACES:
            raise self._refuse(f"not MARCXML: element <{local}> in namespace {namespace!r}")
        depth = self._depth
        self._depth += 1
        record = self._record
        if record is None:
            if depth == 0:
                if local not in ("collection", "record"):
                    raise self._refuse(f"not MARCXML: root element <{local}>")
                self.root = local
                if local == "record":
                    self._begin_record(depth)
            elif local == "record" and depth == 1 and self.root == "collection":
                self._begin_record(depth)
            else:
                raise self._refuse(f"unexpected <{local}> in <{self.root}>")
            return
        level = depth - self._record_depth
        if level == 1 and local in _RECORD_CHILDREN:
            if local == "datafield":
                self._field = DataField(
                    self._required(attributes, "tag", local),
                    attributes.get("ind1", " "),
                    attributes.get("ind2", " "),
                )
            else:
                if local == "controlfield":
                    self._control_tag = self._required(attributes, "tag", local)
                self._text = []
        elif level == 2 and local == "subfield" and self._field is not None:
            self._subfield_code = self._required(attributes, "code", local)
            self._text = []
        else:
            raise self._refuse(f"unexpected <{local}> in record {record.position}")

    def _required(self, attributes: dict[str, str], attribute: str, element: str) -> str:
        value = attributes.get(attribute)
        if value is None:
            raise self._refuse(f"<{element}> without {attribute}")
        return value

    def _begin_record(self, depth: int) -> None:
        self._started += 1
        self._record = PublishingRecord(self._started, self.parser.CurrentLineNumber)
        self._record_depth = depth
        self._record_chars = 0

    def _end(self, name: str) -> None:
        self._depth -= 1
        record = self._record
        if record is None:
            return
        local = name.rpartition(_SEPARATOR)[2]
        text = "".join(self._text) if self._text is not None else ""
        self._text = None
        if local == "subfield" and self._field is not None and self._subfield_code is not None:
            self._field.subfields.append((self._subfield_code, text))
            self._subfield_code = None
        elif local == "datafield" and self._field is not None:
            record.fields.append(self._field)
            self._field = None
        elif local == "controlfield" and self._control_tag is not None:
            record.fields.append((self._control_tag, text))
            self._control_tag = None
        elif local == "leader":
            record.leader = text
        elif local == "record" and self._depth == self._record_depth:
            self.ready.append(record)
            self._record = None

    def _characters(self, data: str) -> None:
        # Text is kept only inside leader, controlfield and subfield; the whitespace between
        # elements is dropped, so nothing accumulates between records.
        if self._text is None:
            return
        self._record_chars += len(data)
        if self._record_chars > MAX_RECORD_CHARS:
            raise self._refuse(f"record holds more than {MAX_RECORD_CHARS} characters")
        self._text.append(data)
