"""The JSON bodies the bridge POSTs to create SCF requests (rule R5, research §7.4).

Key order and values follow the Java app so that SCF staff and Alma see the same requests.
Optional fields of the member's original request are copied only when the key exists, with the
value as it is (JSON null included). Where the Java app read a field unconditionally and crashed
without it (``partial_digitization``, title-level ``description``), a missing key is left out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from domain.scf.requests.comments import (
    c1_item_hold_comment,
    c2_title_comment,
    c3_digitization_comment,
)
from domain.scf.requests.routing import RemoteStorageRequest, Route
from domain.shared.alma_json import JsonObject, text_at
from domain.shared.errors import WrongRoute

HOLD_SUB_TYPE = {"value": "PATRON_PHYSICAL", "desc": "Patron physical item request"}
DIGITIZATION_SUB_TYPE = {"value": "PHYSICAL_TO_DIGITIZATION", "desc": "Patron digitization request"}
"""Parity: sent for staff and resource-sharing digitizations too; Alma's acceptance of their own
sub-types is unverified (research §7.4.5)."""
DIGITIZATION_DESTINATION_DESC = "Digitization Department For Institution"

TITLE_HOLD_COPIED_FIELDS = ("volume", "issue", "part", "date_of_publication")
DIGITIZATION_COPIED_FIELDS = (
    "copyrights_declaration_signed_by_patron",
    "description",
    "partial_digitization",
    "required_pages_range",
    "full_chapter",
    "chapter_or_article_title",
    "chapter_or_article_author",
    "manual_description",
    "last_interest_date",
    "volume",
    "issue",
    "part",
    "date_of_publication",
)


def _hold(user_primary_id: str) -> JsonObject:
    return {
        "request_type": "HOLD",
        "request_sub_type": dict(HOLD_SUB_TYPE),
        "pickup_location_type": "USER_HOME_ADDRESS",
        "task_name": "Pickup From Shelf",
        "user_primary_id": user_primary_id,
    }


def item_hold_body(request: RemoteStorageRequest, user_primary_id: str) -> JsonObject:
    """The item-level hold for ``POST …/items/{pid}/requests`` (research §7.4.1)."""
    body = _hold(user_primary_id)
    body["comment"] = c1_item_hold_comment(request)
    return body


def title_hold_body(
    request: RemoteStorageRequest,
    source_institution: str,
    original: Mapping[str, Any],
    user_primary_id: str,
    *,
    scf_holding_id: str | None = None,
) -> JsonObject:
    """The title-level hold for ``POST /bibs/{mms}/requests`` (research §7.4.2).

    ``original`` is the member's request; ``scf_holding_id`` the SCF holding that can carry its
    manual description, if one was found. Without one, the description goes into the comment.
    """
    body = _hold(user_primary_id)
    if request.description:
        body["description"] = request.description
    elif "description" in original:
        body["description"] = copy.deepcopy(original["description"])
    manual_description = text_at(original, "manual_description")
    if manual_description and scf_holding_id:
        body["manual_description"] = manual_description
        body["holding_id"] = scf_holding_id
    _copy_present(original, TITLE_HOLD_COPIED_FIELDS, body)
    body["comment"] = c2_title_comment(
        request,
        source_institution,
        original,
        manual_description=None if scf_holding_id else manual_description,
    )
    return body


def digitization_body(
    request: RemoteStorageRequest,
    route: Route,
    source_institution: str,
    original: Mapping[str, Any],
    user_primary_id: str,
    digitization_department: str | None,
) -> JsonObject:
    """A digitization request for the SCF, item or title level (research §7.4.3–§7.4.6).

    Without a configured digitization department, ``target_destination`` is left out and Alma
    chooses (the Java app sent a destination without a value).
    """
    if not route.is_digitization:
        raise WrongRoute(
            f"{route} is not a digitization",
            institution=source_institution,
            barcode=request.barcode,
            request_id=request.request_id,
        )
    body: JsonObject = {
        "request_type": "DIGITIZATION",
        "request_sub_type": dict(DIGITIZATION_SUB_TYPE),
    }
    if digitization_department:
        body["target_destination"] = {
            "value": digitization_department,
            "desc": DIGITIZATION_DESTINATION_DESC,
        }
    body["user_primary_id"] = user_primary_id
    fields = tuple(
        field
        for field in DIGITIZATION_COPIED_FIELDS
        if field != "manual_description" or original.get("manual_description")
    )
    _copy_present(original, fields, body)
    body["comment"] = c3_digitization_comment(
        request, source_institution, original, title_level=route.is_title_level
    )
    return body


def _copy_present(original: Mapping[str, Any], fields: tuple[str, ...], body: JsonObject) -> None:
    for field in fields:
        if field in original:
            body[field] = copy.deepcopy(original[field])
