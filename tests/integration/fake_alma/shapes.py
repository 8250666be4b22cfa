"""A structural comparator for Alma JSON: same keys, same element shapes, same value types.

``shape_problems(sample, actual)`` walks both values and lists every difference as a path
(``$.item_data.pid``; list elements are ``[]``). Rules:

* objects must have the same keys, except paths listed in ``extra`` (the fake may add them)
  or ``omitted`` (the fake may leave them out) — each with a reason at the call site;
  an empty sample object (``"material_type": {}``) constrains nothing;
* lists are compared element by element against the sample's first element; an empty
  sample list constrains nothing;
* scalars must have the sample's JSON type (bool, int, float, string); where the sample has
  ``null`` any scalar or ``null`` is accepted, since the sample does not show the type; paths
  in ``nullable`` may be ``null`` where this sample has a value (another real sample has
  ``null`` there). Inside a code pair (an object with a ``value`` key and only scalar
  members, e.g. ``{"value": "", "desc": null}``) a string member may also be ``null``: real
  samples carry both for the same field depending on whether the code is set.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Collection
from typing import Any


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def shape_problems(
    sample: Any,
    actual: Any,
    *,
    extra: Collection[str] = (),
    omitted: Collection[str] = (),
    nullable: Collection[str] = (),
    any_extra: bool = False,
    path: str = "$",
    in_code_pair: bool = False,
) -> list[str]:
    """Every structural difference between a real sample and the fake's value."""
    problems: list[str] = []
    sample_kind, actual_kind = _kind(sample), _kind(actual)
    if actual_kind == "null" and (path in nullable or in_code_pair):
        return problems
    if sample_kind == "null":
        if actual_kind in ("object", "array"):
            problems.append(f"{path}: sample is null, fake gives {actual_kind}")
        return problems
    if sample_kind != actual_kind:
        return [f"{path}: sample is {sample_kind}, fake gives {actual_kind}"]
    if sample_kind == "object":
        if not sample:
            return problems
        pair = "value" in sample and all(
            _kind(v) not in ("object", "array") for v in sample.values()
        )
        for key, value in sample.items():
            child = f"{path}.{key}"
            if key not in actual:
                if child not in omitted:
                    problems.append(f"{child}: missing")
                continue
            problems += shape_problems(
                value,
                actual[key],
                extra=extra,
                omitted=omitted,
                nullable=nullable,
                any_extra=any_extra,
                path=child,
                in_code_pair=pair,
            )
        for key in actual:
            child = f"{path}.{key}"
            if key not in sample and child not in extra and not any_extra:
                problems.append(f"{child}: not in the sample")
    elif sample_kind == "array" and sample:
        for element in actual:
            problems += shape_problems(
                sample[0],
                element,
                extra=extra,
                omitted=omitted,
                nullable=nullable,
                any_extra=any_extra,
                path=f"{path}[]",
            )
    return problems


def assert_same_shape(sample: Any, actual: Any, **options: Any) -> None:
    """Fail with every difference listed."""
    problems = shape_problems(sample, actual, **options)
    assert not problems, "shape differs from the real sample:\n" + "\n".join(problems)


def xml_paths(element: ET.Element, prefix: str = "") -> set[str]:
    """Every element path and attribute (``a/b``, ``a/b@link``) of an XML document."""
    here = f"{prefix}/{element.tag}" if prefix else element.tag
    paths = {here} | {f"{here}@{name}" for name in element.attrib}
    for child in element:
        paths |= xml_paths(child, here)
    return paths


def alma_xml_to_json(element: ET.Element, *, repeated: Collection[str]) -> Any:
    """Alma's mechanical XML → JSON mapping, for samples that exist only as XML: attributes
    become keys (``total_record_count`` an int), a leaf with ``desc`` becomes
    ``{"value", "desc"}``, ``<xs><x/></xs>`` becomes a list ``x``, and tags in ``repeated``
    become lists."""
    children = list(element)
    if not children:
        if "desc" in element.attrib:
            return {"value": element.text or "", "desc": element.attrib["desc"]}
        return element.text or ""
    body: dict[str, Any] = {}
    for name, value in element.attrib.items():
        body[name] = int(value) if name == "total_record_count" else value
    for child in children:
        grand = list(child)
        if grand and all(g.tag + "s" == child.tag for g in grand):
            body[grand[0].tag] = [alma_xml_to_json(g, repeated=repeated) for g in grand]
        elif child.tag in repeated:
            body.setdefault(child.tag, []).append(alma_xml_to_json(child, repeated=repeated))
        else:
            body[child.tag] = alma_xml_to_json(child, repeated=repeated)
    return body
