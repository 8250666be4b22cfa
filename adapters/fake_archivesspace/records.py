"""Records in ArchivesSpace's shapes: a repository (as ``GET /repositories`` lists it), a top
container search doc (as ``single_container.json``: Solr fields plus the record serialized in
``json``), and a resource's MARCXML export (``marc_1511.xml``'s layout).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

MARC_NS = "http://www.loc.gov/MARC21/slim"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{MARC_NS} http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
STAMP = "2024-01-02T03:04:05Z"


def repository_record(repo_id: int, code: str, name: str, **extra: Any) -> dict[str, Any]:
    """A repository as ``GET /repositories`` lists it (the ArchivesSnake sample's keys)."""
    record: dict[str, Any] = {
        "lock_version": 0,
        "repo_code": code,
        "name": name,
        "created_by": "admin",
        "last_modified_by": "admin",
        "create_time": STAMP,
        "system_mtime": STAMP,
        "user_mtime": STAMP,
        "publish": True,
        "jsonmodel_type": "repository",
        "uri": f"/repositories/{repo_id}",
        "display_string": f"{name} ({code})",
        "agent_representation": {"ref": f"/agents/corporate_entities/{repo_id}"},
    }
    record.update(extra)
    return record


@dataclass(frozen=True)
class ContainerSpec:
    """What a generated top container holds; empty text leaves the field out, as ArchivesSpace
    leaves out a barcode nobody entered."""

    container_id: int
    barcode: str = ""
    type: str = "box"
    indicator: str = "1"
    location_code: str = "scarcpph"
    location_area: str = "Mudd Library Remote Archival"
    building: str = "ReCAP"


def container_doc(
    repo_id: int,
    resource_uri: str,
    spec: ContainerSpec,
    *,
    identifier: str = "",
    collection_title: str = "",
) -> dict[str, Any]:
    """A ``top_containers/search`` doc for ``spec``, linked to the resource ``resource_uri``."""
    uri = f"/repositories/{repo_id}/top_containers/{spec.container_id}"
    display = f"{spec.type.capitalize()} {spec.indicator}"
    if spec.barcode:
        display += f": [Barcode: {spec.barcode}]"
    # A stable id per location code (str hashes change between processes).
    location_uri = f"/locations/{zlib.crc32(spec.location_code.encode()) % 100000}"
    location_title = f"{spec.building}, {spec.location_area} [{spec.location_code}]"
    record: dict[str, Any] = {
        "lock_version": 1,
        "indicator": spec.indicator,
        "created_by": "admin",
        "last_modified_by": "admin",
        "create_time": STAMP,
        "system_mtime": STAMP,
        "user_mtime": STAMP,
        "type": spec.type,
        "jsonmodel_type": "top_container",
        "active_restrictions": [],
        "container_locations": [
            {
                "jsonmodel_type": "container_location",
                "status": "current",
                "start_date": "2024-01-02",
                "ref": location_uri,
                "_resolved": {
                    "lock_version": 1,
                    "building": spec.building,
                    "title": location_title,
                    "area": spec.location_area,
                    "classification": spec.location_code,
                    "jsonmodel_type": "location",
                    "external_ids": [],
                    "functions": [],
                    "uri": location_uri,
                },
            }
        ],
        "series": [],
        "collection": [
            {"ref": resource_uri, "identifier": identifier, "display_string": collection_title}
        ],
        "uri": uri,
        "repository": {"ref": f"/repositories/{repo_id}"},
        "restricted": False,
        "is_linked_to_published_record": True,
        "display_string": display,
        "long_display_string": f"{display}, {location_title}, {identifier}, {collection_title}",
    }
    if spec.barcode:
        record["barcode"] = spec.barcode
    doc: dict[str, Any] = {
        "id": uri,
        "uri": uri,
        "title": record["long_display_string"],
        "primary_type": "top_container",
        "types": ["top_container", "pui_container", "pui"],
        "suppressed": False,
        "publish": True,
        "system_generated": False,
        "repository": f"/repositories/{repo_id}",
        "type_enum_s": [spec.type],
        "status_enum_s": ["current"],
        "display_string": display,
        "collection_uri_u_sstr": [resource_uri],
        "collection_display_string_u_sstr": [collection_title],
        "collection_identifier_stored_u_sstr": [identifier],
        "location_uri_u_sstr": [location_uri],
        "location_display_string_u_sstr": [location_title],
        "indicator_u_icusort": spec.indicator,
        "json": json.dumps(record, ensure_ascii=False, separators=(",", ":")),
    }
    if spec.barcode:
        doc["barcode_u_sstr"] = [spec.barcode]
        doc["barcode_u_icusort"] = spec.barcode
    return doc


@dataclass(frozen=True)
class ResourceSpec:
    """What a generated resource's MARCXML says."""

    call_number: str
    title: str
    date1: int = 1917
    date2: int = 1950
    location_code: str = "scarcpph"
    finding_aid_url: str = ""
    subjects: Sequence[str] = ("Civil rights -- United States -- 20th century",)


def _datafield(parent: ET.Element, tag: str, subfields: Sequence[tuple[str, str]]) -> None:
    field = ET.SubElement(parent, "datafield", {"ind1": " ", "ind2": " ", "tag": tag})
    for code, value in subfields:
        ET.SubElement(field, "subfield", {"code": code}).text = value


def resource_marcxml(spec: ResourceSpec) -> bytes:
    """A MARCXML collection of one record with what rules 1–17 read: 008 (dates at 7–14), 040,
    041, 099, 245, 500 "Location of resource: <code>.", 520, 6xx, 852 and 856."""
    # Unqualified names and the namespace declarations as plain attributes: the root's
    # attributes then come out exactly as ArchivesSpace writes them (``xmlns`` and ``xmlns:marc``
    # both), which ElementTree's own namespace handling cannot produce.
    collection = ET.Element(
        "collection",
        {
            "xmlns": MARC_NS,
            "xmlns:marc": MARC_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": SCHEMA_LOCATION,
        },
    )
    record = ET.SubElement(collection, "record")
    ET.SubElement(record, "leader").text = "00000npcaa2200000 u 4500"
    fixed = f"240102i{spec.date1:04d}{spec.date2:04d}xx                  eng d"
    ET.SubElement(record, "controlfield", {"tag": "008"}).text = fixed
    url = spec.finding_aid_url or f"https://findingaids.example.edu/catalog/{spec.call_number}"
    fields: list[tuple[str, list[tuple[str, str]]]] = [
        ("040", [("b", "eng"), ("e", "dacs")]),
        ("041", [("a", "eng")]),
        ("099", [("a", spec.call_number)]),
        ("245", [("a", spec.title), ("f", f"{spec.date1}-{spec.date2}")]),
        ("300", [("a", "2 linear feet"), ("f", "(5 boxes)")]),
        ("351", [("b", "Arranged in two series.")]),
        ("500", [("a", f"Location of resource: {spec.location_code}.")]),
        ("520", [("a", f"Papers documenting {spec.title.lower()}.")]),
        ("540", [("a", "Open for research.")]),
        *[("650", [("a", subject), ("2", "lcsh")]) for subject in spec.subjects],
        ("852", [("a", "Princeton University Library"), ("j", spec.call_number)]),
        ("856", [("u", url), ("z", "Finding aid")]),
    ]
    for tag, subfields in fields:
        _datafield(record, tag, subfields)
    ET.indent(collection, space="  ")
    body = ET.tostring(collection, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()
