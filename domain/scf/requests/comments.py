"""The comments the bridge writes on SCF requests, and what it reads back from them (rule R5).

SCF staff work from these comments, and requests the Java app created stay open across the
cutover, so the wording is parity to the character: C1 on item holds, C2 on title holds, C3 on
digitizations, the ``{Source Request INST-RID-UID}`` tag that lets a cancellation in the SCF find
the member request, and the ``Internal identifier: RID`` part.

Where the Java app crashed on a missing key (and so cancelled the patron's request), a missing
field is left out instead. JSON null still prints as ``null`` where the Java app printed it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from domain.scf.requests.routing import (
    PHYSICAL_TO_DIGITIZATION,
    RESOURCE_SHARING_P2D_SHIPMENT,
    STAFF_PHYSICAL_DIGITIZATION,
    PatronInfo,
    RemoteStorageRequest,
    SourceRequestRef,
)
from domain.shared.alma_json import java_text, text_at
from domain.shared.errors import InvalidIdentifier

DEFAULT_HOLD_TYPE_TEXT = "Patron physical item request"
"""C1's request type when the export gives none."""

DIGITIZATION_TYPE_TEXT = {
    STAFF_PHYSICAL_DIGITIZATION: "Staff digitization request",
    RESOURCE_SHARING_P2D_SHIPMENT: "Resource sharing Ship digitally request",
    PHYSICAL_TO_DIGITIZATION: "Patron digitization request",
}
DEFAULT_DIGITIZATION_TYPE_TEXT = "Digitization request"

_SOURCE_REQUEST_OPEN = "{Source Request "
_SOURCE_REQUEST = re.compile(r"\{Source Request ([^-{}]*)-([^-{}]*)-([^}]*)\}")
_INTERNAL_IDENTIFIER = re.compile(r"Internal identifier: ([^\s{}|]+)")


def patron_text(patron: PatronInfo | None) -> str:
    """``Patron: {name}, {id}, {email}, {address}``; a missing part prints ``null`` (parity)."""
    if patron is None:
        return ""
    parts = (patron.name, patron.identifier, patron.email, patron.address)
    return "Patron: " + ", ".join(java_text(part) for part in parts)


def digitization_type_text(request_type: str) -> str:
    """How C3 names a digitization type for SCF staff."""
    return DIGITIZATION_TYPE_TEXT.get(request_type, DEFAULT_DIGITIZATION_TYPE_TEXT)


def c1_item_hold_comment(request: RemoteStorageRequest) -> str:
    """C1, the comment of an item-level hold (research §7.4.1)."""
    note = f"{request.request_note} " if request.request_note else ""
    request_type = request.request_type or DEFAULT_HOLD_TYPE_TEXT
    return (
        f"{note}{patron_text(request.patron)}"
        f" || request type: {request_type}"
        f" || Internal identifier: {request.request_id}"
    )


def c2_title_comment(
    request: RemoteStorageRequest,
    source_institution: str,
    original: Mapping[str, Any],
    *,
    manual_description: str | None = None,
) -> str:
    """C2, the comment of a title-level hold (research §7.4.2).

    ``original`` is the member's request as Alma returns it. ``manual_description`` is given only
    when no SCF holding could carry it. The tag is left out when the original lacks a request or
    user id, where the Java app crashed.
    """
    request_type = text_at(original, "request_sub_type", "desc") or request.request_type
    comment = (
        f"{_inventory_preamble(original, source_institution)}{patron_text(request.patron)}"
        f" || request type: {request_type}"
        f" || Internal identifier: {request.request_id}"
    )
    if manual_description:
        comment += f" {manual_description}"
    tag = _source_tag_of(source_institution, request, original)
    return f"{comment} {tag}" if tag else comment


def c3_digitization_comment(
    request: RemoteStorageRequest,
    source_institution: str,
    original: Mapping[str, Any],
    *,
    title_level: bool,
) -> str:
    """C3, the comment of a digitization request (research §7.4.3–§7.4.6).

    Volume and issue follow the Java app: at item level they are added unless empty, at title
    level whenever the original has the key (so an empty one prints too); JSON null prints
    ``null``. A missing key is simply left out (fix: Java threw and cancelled the request).
    """
    comment = (
        f"{_inventory_preamble(original, source_institution)}{patron_text(request.patron)}"
        f" || request type: {digitization_type_text(request.request_type)}"
        f" || Internal identifier: {request.request_id}"
    )
    for key in ("volume", "issue"):
        if key in original and (title_level or original[key] != ""):
            comment += f" || {key}: {java_text(original[key])}"
    manual_description = original.get("manual_description")
    if manual_description:
        comment += f" {java_text(manual_description)}"
    return comment


def source_request_tag(institution: str, request_id: str, user_primary_id: str) -> str:
    """``{Source Request INST-RID-UID}``, which the SCF cancellation path parses back (R5, C2).

    The grammar splits on the first two ``-`` and ends at ``}``, so institution and request id
    must not contain ``-`` and no part may contain braces.
    """
    parts = (institution, request_id, user_primary_id)
    if any(not part.strip() or "{" in part or "}" in part for part in parts) or any(
        "-" in part for part in parts[:2]
    ):
        raise InvalidIdentifier(
            f"cannot tag source request {institution!r}-{request_id!r}-{user_primary_id!r}",
            institution=institution,
            request_id=request_id,
        )
    return f"{_SOURCE_REQUEST_OPEN}{institution}-{request_id}-{user_primary_id}}}"


def parse_source_request_tag(comment: str | None) -> SourceRequestRef | None:
    """The member request named by the last ``{Source Request …}`` tag, or None.

    User ids may contain ``-``. A tag with a blank part names nothing.
    """
    matches = _SOURCE_REQUEST.findall(comment or "")
    if not matches:
        return None
    institution, request_id, user_primary_id = (part.strip() for part in matches[-1])
    if not institution or not request_id or not user_primary_id:
        return None
    return SourceRequestRef(institution, request_id, user_primary_id)


def parse_internal_identifier(comment: str | None) -> str | None:
    """The member request id after the last ``Internal identifier: `` in a comment, or None."""
    matches = _INTERNAL_IDENTIFIER.findall(comment or "")
    return matches[-1] if matches else None


def _inventory_preamble(original: Mapping[str, Any], source_institution: str) -> str:
    earlier = original.get("comment")
    prefix = f"{java_text(earlier)} " if earlier not in (None, "") else ""
    return f"{prefix}The inventory for this request should come from {source_institution}. "


def _source_tag_of(
    source_institution: str, request: RemoteStorageRequest, original: Mapping[str, Any]
) -> str | None:
    request_id = text_at(original, "request_id") or request.request_id
    user_primary_id = text_at(original, "user_primary_id")
    if user_primary_id is None:
        return None
    try:
        return source_request_tag(source_institution, request_id, user_primary_id)
    except InvalidIdentifier:
        return None


def bridge_parts_of(comment: str | None) -> str | None:
    """What the bridge reads back from an SCF request's comment, and nothing else (rules C2, P2).

    ``Internal identifier: RID`` and the ``{Source Request …}`` tag, as the last of each stands
    in the comment, so that `parse_internal_identifier` and `parse_source_request_tag` read the
    same from this as from the whole comment; the ``Patron: …`` part (name, e-mail, address) and
    every other word are left out. None when the comment has neither.
    """
    parts: list[str] = []
    request_id = parse_internal_identifier(comment)
    if request_id is not None:
        parts.append(f"Internal identifier: {request_id}")
    tags = list(_SOURCE_REQUEST.finditer(comment or ""))
    if tags:
        parts.append(tags[-1].group(0))
    return " ".join(parts) if parts else None
