"""MARCXML in and out (rules H1, H3, H5, B3).

Parsing uses the standard library; a document with a DOCTYPE or ENTITY declaration is refused, as
entity expansion is the one XML attack the standard parser is open to (it never fetches external
entities). A UTF-16 file (a byte-order mark or NUL bytes) is refused too: its declarations would
slip past that byte-wise check, and MARCXML is UTF-8 anyway. Elements are matched by local name:
Alma's ``<record>`` has no namespace, a MARCXML export has the MARC 21 slim one, both are read
alike.

Writing always declares the MARC 21 slim namespace and an XML declaration (H5; fix: the original
had neither) and sets leader/09 to ``a``: the text is Unicode whatever the record was read from.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator

from domain.shared.errors import DomainError
from domain.shared.marc import ControlField, DataField, MarcRecord, SourceRecord, Subfield

MARC_NAMESPACE = "http://www.loc.gov/MARC21/slim"
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)
# Characters XML 1.0 cannot carry, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHUNK = 1 << 16


class MarcXmlError(ValueError):
    """MARCXML that cannot be read, or a record MARCXML cannot carry; the message says what."""


def record_from_alma_marcxml(text: str) -> MarcRecord:
    """Rule H3's input: the one ``<record>`` element of a holdings record as Alma sent it
    (`application.ports.alma.holdings.HoldingRecord.marcxml`), namespaced or not, with or without
    an XML declaration. `MarcXmlError` says what is wrong."""
    body = _DECLARATION.sub("", text, count=1)
    if _declares_entities(body.upper()):
        raise MarcXmlError("MARCXML with a DOCTYPE or ENTITY declaration is refused")
    try:
        root = ET.fromstring(body)  # noqa: S314 - DOCTYPE and ENTITY refused above
    except ET.ParseError as exc:
        raise MarcXmlError(f"the MARCXML is not well-formed ({exc})") from None
    if _local(root.tag) != "record":
        raise MarcXmlError(f"expected a <record> element, found <{_local(root.tag)}>")
    return record_from_element(root)


def record_from_element(element: ET.Element) -> MarcRecord:
    """The model of a parsed ``<record>`` element; `MarcXmlError` names the first bad part."""
    leader: str | None = None
    fields: list[ControlField | DataField] = []
    try:
        for child in element:
            name = _local(child.tag)
            if name == "leader":
                if leader is not None:
                    raise MarcXmlError("the record has two <leader> elements")
                leader = child.text or ""
            elif name == "controlfield":
                fields.append(ControlField(_attribute(child, "tag"), child.text or ""))
            elif name == "datafield":
                fields.append(_data_field(child))
            else:
                raise MarcXmlError(f"unexpected <{name}> in <record>")
        if leader is None:
            raise MarcXmlError("the record has no <leader>")
        return MarcRecord(leader, tuple(fields))
    except DomainError as exc:
        raise MarcXmlError(f"the record cannot be read: {exc}") from None


def mms_ids_from_marcxml(data: bytes) -> Iterator[SourceRecord]:
    """Rule H1: the stripped ``001`` of each ``<record>`` of a MARCXML file, in order.

    A record without one is an entry with its problem and reading goes on; XML that breaks keeps
    the records before the break and ends with an entry naming it. Empty input gives nothing.
    """
    if not data.strip():
        return
    refusal = marcxml_refusal(data)
    if refusal is not None:
        yield SourceRecord(1, None, refusal)
        return
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("end",))
    position = 0
    try:
        for start in range(0, len(data), _CHUNK):
            parser.feed(data[start : start + _CHUNK])
            for element in _records(parser):
                position += 1
                yield _id_entry(position, element)
        parser.close()
        for element in _records(parser):
            position += 1
            yield _id_entry(position, element)
    except ET.ParseError as exc:
        yield SourceRecord(
            position + 1, None, f"the MARCXML breaks after record {position} ({exc})"
        )


def marcxml_problem(record: MarcRecord) -> str | None:
    """Why ``record`` cannot be written as MARCXML (a character XML 1.0 cannot carry), naming the
    field; None when it can. A use case can ask before writing, to fail just that record (B2)."""
    for where, value in _values(record):
        bad = _NOT_XML.search(value)
        if bad is not None:
            code_point = f"U+{ord(bad.group()):04X}"
            return f"{_name(record)}: {where} holds {code_point}, which XML cannot carry"
    return None


def marcxml_document(records: Iterable[MarcRecord]) -> bytes:
    """Rule H5: a UTF-8 ``<collection>`` in the MARC 21 slim namespace with an XML declaration,
    each record's leader, control fields and data fields in the record's order, escaped by
    ElementTree. The same records always give the same bytes (B3); `MarcXmlError` names a
    record XML cannot carry (see `marcxml_problem`)."""
    # A plain `xmlns` attribute rather than ET.register_namespace, which is process-wide.
    collection = ET.Element("collection", {"xmlns": MARC_NAMESPACE})
    for record in records:
        problem = marcxml_problem(record)
        if problem is not None:
            raise MarcXmlError(problem)
        collection.append(_element(record))
    ET.indent(collection, space="  ")
    text = ET.tostring(collection, encoding="unicode")
    return XML_DECLARATION + text.encode("utf-8") + b"\n"


def _element(record: MarcRecord) -> ET.Element:
    element = ET.Element("record")
    leader = ET.SubElement(element, "leader")
    leader.text = record.leader[:9] + "a" + record.leader[10:]
    for field in record.fields:
        if isinstance(field, ControlField):
            control = ET.SubElement(element, "controlfield", {"tag": field.tag})
            control.text = field.value
        else:
            attributes = {"tag": field.tag, "ind1": field.indicator1, "ind2": field.indicator2}
            data = ET.SubElement(element, "datafield", attributes)
            for subfield in field.subfields:
                ET.SubElement(data, "subfield", {"code": subfield.code}).text = subfield.value
    return element


def _data_field(element: ET.Element) -> DataField:
    subfields: list[Subfield] = []
    for child in element:
        if _local(child.tag) != "subfield":
            raise MarcXmlError(f"unexpected <{_local(child.tag)}> in datafield")
        subfields.append(Subfield(_attribute(child, "code"), child.text or ""))
    return DataField(
        _attribute(element, "tag"),
        # A missing or empty indicator is a blank one, as in pymarc.
        element.get("ind1") or " ",
        element.get("ind2") or " ",
        tuple(subfields),
    )


def _attribute(element: ET.Element, name: str) -> str:
    value = element.get(name)
    if value is None:
        raise MarcXmlError(f"<{_local(element.tag)}> has no {name} attribute")
    return value


def _records(parser: ET.XMLPullParser[ET.Element]) -> Iterator[ET.Element]:
    for event in parser.read_events():
        element = event[-1]
        if isinstance(element, ET.Element) and _local(element.tag) == "record":
            yield element


def _id_entry(position: int, element: ET.Element) -> SourceRecord:
    control = next(
        (
            child.text or ""
            for child in element
            if _local(child.tag) == "controlfield" and child.get("tag") == "001"
        ),
        "",
    )
    # Only the id is wanted: the rest of the record need not stay in memory.
    element.clear()
    mms_id = control.strip()
    if mms_id:
        return SourceRecord(position, mms_id)
    return SourceRecord(position, None, f"record {position} has no 001")


def marcxml_refusal(data: bytes) -> str | None:
    """Why bytes are not read as MARCXML at all (UTF-16, NUL, DOCTYPE or ENTITY), or None."""
    if data.startswith((b"\xfe\xff", b"\xff\xfe")) or b"\x00" in data:
        return "only UTF-8 MARCXML is read"
    upper = data.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        return "MARCXML with a DOCTYPE or ENTITY declaration is refused"
    return None


def _declares_entities(upper: str) -> bool:
    return "<!DOCTYPE" in upper or "<!ENTITY" in upper


def _values(record: MarcRecord) -> Iterator[tuple[str, str]]:
    yield "the leader", record.leader
    for field in record.fields:
        yield f"field {field.tag} tag", field.tag
        if isinstance(field, ControlField):
            yield f"field {field.tag}", field.value
        else:
            yield f"field {field.tag} indicators", field.indicator1 + field.indicator2
            for subfield in field.subfields:
                yield f"field {field.tag} ${subfield.code}", subfield.code + subfield.value


def _name(record: MarcRecord) -> str:
    control_number = record.control("001")
    return "a record without 001" if control_number is None else f"record {control_number}"


def _local(tag: object) -> str:
    # Comments and processing instructions have a function as their tag.
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
