"""A member bib read from Alma as the local SCF bib of rule I7, for a webhook's item (W7).

The items sync builds the local bib from the published record; a member's `ITEM_CREATED` has no
published record, so the bib's MARCXML comes from the member's Alma (`anies`). Same result: a
MARCXML `<record>` without namespace, the N4 `035 $a ({INST}){mms}` appended and every `AVA` and
`ITM` removed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from domain.scf.naming import other_system_id
from domain.shared.errors import DomainError

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DROPPED = frozenset({"AVA", "ITM"})


class UnusableBib(DomainError):
    """The member bib's MARCXML cannot be read."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def local_bib_from_anies(anies: str, institution: str, mms_id: str) -> str:
    """The I7 local bib of a member bib whose MARCXML Alma returned in `anies`."""
    text = _DECLARATION.sub("", anies, count=1)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise UnusableBib(f"the MARCXML of bib {mms_id} declares a DOCTYPE or ENTITY")
    try:
        root = ET.fromstring(text)  # noqa: S314 - Alma's own bib; DOCTYPE and ENTITY refused above
    except ET.ParseError as error:
        raise UnusableBib(f"the MARCXML of bib {mms_id} cannot be read: {error}") from None
    record = root if _local(root.tag) == "record" else None
    if record is None:
        record = next((e for e in root.iter() if _local(e.tag) == "record"), None)
    if record is None:
        raise UnusableBib(f"bib {mms_id} has no MARC record")
    out = ET.Element("record")
    for child in record:
        name = _local(child.tag)
        if name == "datafield" and child.get("tag") in _DROPPED:
            continue
        copy = ET.SubElement(out, name, dict(child.attrib))
        copy.text = child.text
        for sub in child:
            inner = ET.SubElement(copy, _local(sub.tag), dict(sub.attrib))
            inner.text = sub.text
    n4 = ET.SubElement(out, "datafield", {"tag": "035", "ind1": " ", "ind2": " "})
    ET.SubElement(n4, "subfield", {"code": "a"}).text = other_system_id(institution, mms_id)
    return ET.tostring(out, encoding="unicode")
