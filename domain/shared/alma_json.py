"""Reading Alma JSON without trusting its shape.

Alma's records are nested objects; these helpers walk them and answer ``None`` instead of raising
when a level is missing or of another type, so the rules can decide what a gap means.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

JsonObject = dict[str, Any]
"""A decoded JSON object, as Alma sends it."""


def at(document: object, *keys: str) -> object:
    """The value at ``keys`` inside nested objects, or None when any level is missing."""
    value = document
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def text_at(document: object, *keys: str) -> str | None:
    """The non-blank string at ``keys``, or None (missing, null, blank or not a string)."""
    value = at(document, *keys)
    if isinstance(value, str) and value.strip():
        return value
    return None


def java_text(value: object) -> str:
    """How the Java app printed a JSON value into a comment: JSON null becomes ``null`` (parity)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
