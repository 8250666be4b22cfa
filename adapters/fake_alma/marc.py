"""MARCXML for the fake: safe parsing, building records, and reading what Alma derives from them.

Alma keeps bibs and holdings as MARC records and derives the JSON's ``title``, ``author``,
``network_number`` … from them; JSON carries the record as ``anies``: a list holding one XML
string whose declaration says UTF-16 although the text is UTF-8 (every sample does this).
Parsing uses the standard library; bodies with a DOCTYPE are refused because entity expansion
is the only XML attack the standard parser is open to (it never fetches external entities).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping

from adapters.fake_alma import errors

ANIES_DECLARATION = '<?xml version="1.0" encoding="UTF-16"?>'
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)
_NAMESPACE = re.compile(r"^\{[^}]*\}")
_EXLNZ = re.compile(r"^\(EXLNZ[^)]*\)")


def parse_xml(text: str) -> ET.Element:
    """Parse an XML body or ``anies`` string (any declaration, no DOCTYPE)."""
    body = _DECLARATION.sub("", text, count=1)
    if "<!DOCTYPE" in body.upper() or "<!ENTITY" in body.upper():
        raise errors.bad_body("DOCTYPE and ENTITY declarations are not accepted")
    try:
        root = ET.fromstring(body)  # noqa: S314 - DOCTYPE/ENTITY refused above
    except ET.ParseError as exc:
        raise errors.bad_body(f"XML is not well-formed ({exc})") from exc
    _strip_namespaces(root)
    return root


def _strip_namespaces(root: ET.Element) -> None:
    # MarcXmlWriter output carries the MARC namespace; Alma ignores it, and so does the fake.
    for element in root.iter():
        element.tag = _NAMESPACE.sub("", element.tag)


def to_string(record: ET.Element) -> str:
    """Serialize a record without a declaration."""
    return ET.tostring(record, encoding="unicode")


def to_anies(record: ET.Element) -> list[str]:
    """The JSON ``anies`` value: one string with Alma's (misleading) UTF-16 declaration."""
    return [ANIES_DECLARATION + to_string(record)]


def find_record(root: ET.Element) -> ET.Element | None:
    """The ``<record>`` in ``<bib>``/``<holding>`` bodies, or the root if it is one."""
    if root.tag == "record":
        return root
    return root.find(".//record")


def datafields(record: ET.Element, tag: str) -> list[ET.Element]:
    """All datafields with this tag, in order."""
    return [f for f in record.findall("datafield") if f.get("tag") == tag]


def subfields(field: ET.Element, code: str) -> list[str]:
    """The texts of one subfield code in a datafield."""
    return [(s.text or "") for s in field.findall("subfield") if s.get("code") == code]


def first_subfield(record: ET.Element, tag: str, codes: str) -> str | None:
    """The first field with ``tag``'s subfields ``codes`` joined by spaces, or None."""
    for field in datafields(record, tag):
        parts = [(s.text or "") for s in field.findall("subfield") if _code_in(s, codes)]
        if parts:
            return " ".join(parts)
    return None


def _code_in(subfield: ET.Element, codes: str) -> bool:
    code = subfield.get("code")
    # An absent code must not match: "" is a substring of every string.
    return code is not None and len(code) == 1 and code in codes


def controlfield(record: ET.Element, tag: str) -> str | None:
    """The text of a controlfield, or None."""
    for field in record.findall("controlfield"):
        if field.get("tag") == tag:
            return field.text or ""
    return None


def set_controlfield(record: ET.Element, tag: str, value: str) -> None:
    """Set (or insert, in tag order after the leader) a controlfield."""
    for field in record.findall("controlfield"):
        if field.get("tag") == tag:
            field.text = value
            return
    new = ET.Element("controlfield", {"tag": tag})
    new.text = value
    position = 0
    for index, child in enumerate(list(record)):
        earlier = child.tag == "controlfield" and (child.get("tag") or "") < tag
        if child.tag == "leader" or earlier:
            position = index + 1
    record.insert(position, new)


def add_datafield(
    record: ET.Element, tag: str, subs: Iterable[tuple[str, str]], ind1: str = " ", ind2: str = " "
) -> None:
    """Insert a datafield in tag order."""
    field = ET.Element("datafield", {"ind1": ind1, "ind2": ind2, "tag": tag})
    for code, text in subs:
        sub = ET.SubElement(field, "subfield", {"code": code})
        sub.text = text
    position = len(list(record))
    for index, child in enumerate(list(record)):
        if child.tag == "datafield" and (child.get("tag") or "") > tag:
            position = index
            break
    record.insert(position, field)


def remove_datafields(record: ET.Element, tags: Iterable[str]) -> None:
    """Remove every datafield with one of these tags."""
    wanted = set(tags)
    for field in list(record.findall("datafield")):
        if field.get("tag") in wanted:
            record.remove(field)


def system_numbers(record: ET.Element) -> list[str]:
    """Every 035 ``$a`` and ``$z``: Alma's ``network_number`` list and ``other_system_id`` keys."""
    numbers: list[str] = []
    for field in datafields(record, "035"):
        numbers.extend(s for s in subfields(field, "a") + subfields(field, "z") if s)
    return numbers


def nz_mms_id(record: ET.Element) -> str | None:
    """The network-zone id: first 035 ``$a`` containing EXLNZ, prefix stripped (rule N5)."""
    for field in datafields(record, "035"):
        for value in subfields(field, "a"):
            if "EXLNZ" in value:
                return _EXLNZ.sub("", value)
    return None


def bib_summary(record: ET.Element) -> dict[str, str | None]:
    """The descriptive fields Alma derives from a bibliographic record."""
    imprint = "264" if datafields(record, "264") else "260"
    isbn = first_subfield(record, "020", "a")
    issn = first_subfield(record, "022", "a")
    return {
        "title": first_subfield(record, "245", "abnp") or "",
        "author": first_subfield(record, "100", "a") or first_subfield(record, "110", "a") or "",
        "issn": issn,
        "isbn": isbn,
        "complete_edition": first_subfield(record, "250", "a") or "",
        "place_of_publication": first_subfield(record, imprint, "a") or "",
        "date_of_publication": first_subfield(record, imprint, "c") or "",
        "publisher_const": first_subfield(record, imprint, "b") or "",
    }


def build_bib_record(fields: Mapping[str, object]) -> ET.Element:
    """A plausible MARC bib from seed fields: title, author, isbn, issn, edition, place,
    publisher, date, and ``system_numbers`` (035 ``$a`` values)."""
    record = ET.Element("record")
    leader = ET.SubElement(record, "leader")
    leader.text = "00000nam a2200000 i 4500"
    set_controlfield(record, "008", "250106s2020    xxu           000 0 eng d")

    def text(key: str) -> str | None:
        value = fields.get(key)
        return str(value) if value not in (None, "") else None

    numbers = fields.get("system_numbers") or []
    if not isinstance(numbers, list):
        raise ValueError("system_numbers must be a list of strings")
    for number in numbers:
        add_datafield(record, "035", [("a", str(number))])
    if isbn := text("isbn"):
        add_datafield(record, "020", [("a", isbn)])
    if issn := text("issn"):
        add_datafield(record, "022", [("a", issn)], ind1="0")
    if author := text("author"):
        add_datafield(record, "100", [("a", author)], ind1="1")
    add_datafield(record, "245", [("a", text("title") or "Untitled")], ind1="1", ind2="0")
    if edition := text("complete_edition"):
        add_datafield(record, "250", [("a", edition)])
    imprint = [
        (code, value)
        for code, value in (
            ("a", text("place_of_publication")),
            ("b", text("publisher_const")),
            ("c", text("date_of_publication")),
        )
        if value
    ]
    if imprint:
        add_datafield(record, "264", imprint, ind2="1")
    return record


def holding_record(
    library: str, location: str, call_number: str | None, *, ind1: str = "0"
) -> ET.Element:
    """A holdings record whose 852 names the library (``$b``) and location (``$c``)."""
    record = ET.Element("record")
    leader = ET.SubElement(record, "leader")
    leader.text = "     nx  a22     1n 4500"
    set_controlfield(record, "008", "1011252u    8   4001uueng0000000")
    subs = [("b", library), ("c", location)]
    if call_number:
        subs.append(("h", call_number))
    add_datafield(record, "852", subs, ind1=ind1)
    return record


def holding_location(record: ET.Element) -> tuple[str | None, str | None, str | None]:
    """Library ``$b``, location ``$c`` and call number ``$h $i`` of the first 852."""
    for field in datafields(record, "852"):
        library = next(iter(subfields(field, "b")), None)
        location = next(iter(subfields(field, "c")), None)
        call = " ".join(subfields(field, "h") + subfields(field, "i")) or None
        return library, location, call
    return None, None, None
