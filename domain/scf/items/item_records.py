"""The SCF mirror's item record, built from and kept in step with the member's (I9, I11).

A new mirror is the member's item JSON with the SCF barcode and provenance, minus what belongs to
the member alone (its pid, acquisitions link, library, location, policy, temporary location). An
existing mirror keeps what the SCF owns and takes the member's descriptive metadata; when nothing
meaningful differs there is no PUT (fix: the Java app PUT every published record).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.scf.naming import provenance_value, scf_barcode
from domain.shared.alma_json import JsonObject, text_at
from domain.shared.errors import MalformedItem

ITEM_FIELDS_NOT_MIRRORED = (
    "pid",
    "po_line",
    "library",
    "location",
    "policy",
    "internal_note_1",
    "internal_note_3",
)
"""``item_data`` fields dropped when a mirror is created (rule I9)."""

HOLDING_FIELDS_NOT_MIRRORED = ("temp_library", "in_temp_location", "temp_location", "temp_policy")
"""``holding_data`` fields dropped when a mirror is created (rule I9)."""

SCF_OWNED_ITEM_FIELDS = frozenset(
    {
        "pid",
        "barcode",
        "provenance",
        "library",
        "location",
        "alternative_call_number",
        "alternative_call_number_type",
        "storage_location_id",
        "internal_note_1",
        "internal_note_3",
        "statistics_note_2",
        "policy",
    }
)
"""``item_data`` fields an update never takes from the member (rule I11)."""

ALMA_MANAGED_ITEM_FIELDS = frozenset(
    {
        "po_line",
        "creation_date",
        "modification_date",
        "base_status",
        "process_type",
        "work_order_type",
        "work_order_at",
        "requested",
        "awaiting_reshelving",
    }
)
"""``item_data`` fields that describe one copy's own circulation state or acquisitions, not the
title's metadata: the mirror has its own (it is on loan in the SCF while the member copy is in
place), so copying them would report a change on every sync. ``po_line`` is here because I9 never
gives the mirror the member's order line."""

_NOT_COPIED = SCF_OWNED_ITEM_FIELDS | ALMA_MANAGED_ITEM_FIELDS


@dataclass(frozen=True)
class ItemUpdate:
    """The SCF item to PUT, and whether it differs from the SCF item as it is."""

    body: JsonObject
    changed: bool
    changed_fields: tuple[str, ...] = ()


def new_scf_item(member_item: Mapping[str, Any], institution: str) -> JsonObject:
    """The body that creates the SCF mirror of ``member_item`` owned by ``institution`` (I9).

    The member item is deep-copied; the caller's dict is never changed.
    """
    body = copy.deepcopy(dict(member_item))
    item_data = _item_data(body, "member item", institution=institution)
    barcode = text_at(item_data, "barcode")
    if barcode is None:
        raise MalformedItem("member item has no barcode", institution=institution)
    item_data["barcode"] = scf_barcode(barcode)
    item_data["provenance"] = provenance_value(institution)
    for field in ITEM_FIELDS_NOT_MIRRORED:
        item_data.pop(field, None)
    body.pop("link", None)
    holding_data = body.get("holding_data")
    if isinstance(holding_data, dict):
        for field in HOLDING_FIELDS_NOT_MIRRORED:
            holding_data.pop(field, None)
    return body


def updated_scf_item(scf_item: Mapping[str, Any], member_item: Mapping[str, Any]) -> ItemUpdate:
    """The SCF item with the member's current metadata copied over it (rule I11).

    Starts from the SCF item, so its holding, bib, policy and every SCF-owned field stay. A field
    counts as changed only when its meaning differs: code-table objects compare by ``value`` (an
    institution's ``desc`` wording is its own) and null, ``""`` and a missing key are the same.
    """
    body = copy.deepcopy(dict(scf_item))
    scf_data = _item_data(body, "SCF item")
    member_data = _item_data(member_item, "member item", barcode=text_at(scf_data, "barcode"))
    changed: list[str] = []
    for field, value in member_data.items():
        if field in _NOT_COPIED or _meaning(scf_data.get(field)) == _meaning(value):
            continue
        scf_data[field] = copy.deepcopy(value)
        changed.append(field)
    return ItemUpdate(body, bool(changed), tuple(changed))


def member_fingerprint(member_item: Mapping[str, Any]) -> str:
    """A digest of exactly the member fields an update copies (rule I11).

    Stored with the mirror, it lets a later sync see that a published item did not change and skip
    the SCF calls altogether.
    """
    member_data = _item_data(member_item, "member item")
    copied = {field: value for field, value in member_data.items() if field not in _NOT_COPIED}
    canonical = json.dumps(copied, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _item_data(
    item: Mapping[str, Any],
    what: str,
    *,
    institution: str | None = None,
    barcode: str | None = None,
) -> JsonObject:
    item_data = item.get("item_data")
    if not isinstance(item_data, dict):
        raise MalformedItem(f"{what} has no item_data", institution=institution, barcode=barcode)
    return item_data


def _meaning(value: object) -> object:
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    return None if value == "" else value
