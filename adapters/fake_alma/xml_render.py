"""Alma JSON → Alma XML, for clients that ask for XML (``format=xml`` or ``Accept``).

Alma's JSON is a mechanical mapping of its XML, so the fake maps back mechanically:
``{"value": v, "desc": d}`` becomes ``<key desc="d">v</key>`` (any other scalar siblings of
``value`` become attributes too), ``link`` and ``total_record_count`` become attributes of
their parent, a list ``k`` inside an object becomes ``<ks><k/>…</ks>``, the list of a list
response repeats directly under the root, and ``anies`` embeds the MARC record itself. This
is exact for the shapes with an XML sample (holdings list, bib list, errors) and a faithful
approximation elsewhere.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from adapters.fake_alma import marc

_ATTRIBUTE_KEYS = ("link", "total_record_count")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping | list)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        if "value" in value and all(_is_scalar(v) for v in value.values()):
            element.text = _text(value["value"])
            for key, attr in value.items():
                if key != "value" and attr is not None:
                    element.set(key, _text(attr))
            return
        for key, child in value.items():
            if key in _ATTRIBUTE_KEYS and _is_scalar(child):
                if child is not None:
                    element.set(key, _text(child))
                continue
            if key == "anies" and isinstance(child, list):
                for raw in child:
                    element.append(marc.parse_xml(str(raw)))
                continue
            if isinstance(child, list):
                wrapper = ET.SubElement(element, f"{key}s")
                for entry in child:
                    _fill(ET.SubElement(wrapper, key), entry)
                continue
            _fill(ET.SubElement(element, key), child)
        return
    element.text = _text(value)


def render(root: str, body: Mapping[str, Any], list_key: str | None = None) -> str:
    """XML text for ``body`` under ``root``; ``list_key`` names the repeated element of a
    list response (``holding`` in ``<holdings>``)."""
    element = ET.Element(root)
    for key, value in body.items():
        if key == list_key and isinstance(value, list):
            for entry in value:
                _fill(ET.SubElement(element, key), entry)
        elif key in _ATTRIBUTE_KEYS and _is_scalar(value):
            if value is not None:
                element.set(key, _text(value))
        else:
            _fill(element, {key: value})
    text = ET.tostring(element, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + text
