"""The MARCXML ArchivesSpace sends for one resource (``GET /repositories/{r}/resources/marc21/
{id}.xml``, AS2): a ``<collection>`` holding one ``<record>``, read into the MARC model (AS4's
input).

Elements are matched by local name, so the MARC 21 slim namespace may be the default one or
``marc:`` prefixed; the record itself is read by `adapters.marc.marcxml.record_from_element`.
As there, a DOCTYPE or ENTITY declaration is refused (entity expansion is the one XML attack the
standard parser is open to) and so is UTF-16 (its declarations would slip past that check).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from adapters.marc.marcxml import MarcXmlError, marcxml_refusal, record_from_element
from domain.shared.marc import MarcRecord

__all__ = ["ResourceMarcError", "read_resource_marcxml"]


class ResourceMarcError(ValueError):
    """A resource's MARCXML that is not one readable record; the message names the resource and
    what is wrong."""

    def __init__(self, resource: str, problem: str) -> None:
        self.resource = resource
        self.problem = problem
        super().__init__(f"resource {resource}: {problem}")


def read_resource_marcxml(data: bytes, *, resource: str) -> MarcRecord:
    """The one record of ``data``; `ResourceMarcError` naming ``resource`` when the XML is not
    well-formed, is refused, or holds no record or several."""
    refusal = marcxml_refusal(data)
    if refusal is not None:
        raise ResourceMarcError(resource, refusal)
    try:
        root = ET.fromstring(data)  # noqa: S314 - DOCTYPE and ENTITY refused above
    except ET.ParseError as exc:
        raise ResourceMarcError(resource, f"the MARCXML is not well-formed ({exc})") from None
    if _local(root.tag) == "record":
        records = [root]
    elif _local(root.tag) == "collection":
        records = [child for child in root if _local(child.tag) == "record"]
    else:
        raise ResourceMarcError(
            resource, f"expected a MARCXML <collection>, found <{_local(root.tag)}>"
        )
    if not records:
        raise ResourceMarcError(resource, "the MARCXML collection holds no <record>")
    if len(records) > 1:
        raise ResourceMarcError(
            resource, f"the MARCXML collection holds {len(records)} records, not one"
        )
    try:
        return record_from_element(records[0])
    except MarcXmlError as exc:
        raise ResourceMarcError(resource, str(exc)) from None


def _local(tag: object) -> str:
    # Comments and processing instructions have a function as their tag.
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
