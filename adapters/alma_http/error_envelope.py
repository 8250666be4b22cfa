"""Alma's error envelope, JSON or XML, turned into typed errors by errorCode (rule A2)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from application.shared.alma import (
    AlmaError,
    AlmaFailure,
    AlreadyOnLoan,
    BarcodeExists,
    BibNotFound,
    DuplicateRequest,
    ItemNotFound,
    ItemNotReadyForLoan,
    ItemOnLoan,
    QuotaExhausted,
    RateLimited,
    RequestGone,
    UserNotFound,
)


@dataclass(frozen=True)
class Envelope:
    """The first error of Alma's `errorList`."""

    error_code: str | None
    error_message: str | None
    tracking_id: str | None


_NOT_FOUND_CODES: Mapping[str, type[AlmaError]] = {
    "401689": ItemNotFound,  # No items found for barcode X.
    "401683": ItemNotFound,  # No Item found for mmsId X, holdings id Y and item id Z.
    "401861": UserNotFound,  # User with identifier X was not found.
    "401890": UserNotFound,  # User with identifier X of type Y was not found.
    "4019990": UserNotFound,  # source-identifier user not found
    "4019998": UserNotFound,  # linking-id user not found
    "402203": BibNotFound,  # Input parameters mmsId X is not valid.
}
_REQUEST_GONE: Mapping[str, type[AlmaError]] = {"401694": RequestGone}
_DUPLICATE_REQUEST: Mapping[str, type[AlmaError]] = {
    "401136": DuplicateRequest  # Patron has active request for selected item.
}
# Codes whose meaning depends on the call: 401689 is "no such barcode" to a lookup, but to the
# loan of an item created a moment ago it means Alma does not show the item yet (rule I10).
_REFUSALS_BY_OPERATION: Mapping[str, Mapping[str, type[AlmaError]]] = {
    "create item": {"401873": BarcodeExists},  # An item with this barcode exists already.
    "delete item": {"401897": ItemOnLoan},  # Item is on loan (or requested): no override.
    "create item request": _DUPLICATE_REQUEST,
    "create title request": _DUPLICATE_REQUEST,
    "create loan": {
        "400042": AlreadyOnLoan,  # Item is already on loan.
        "401683": ItemNotReadyForLoan,  # No Item found for mmsId/holdings id/item id.
        "401689": ItemNotReadyForLoan,  # No items found for barcode.
        "401153": ItemNotReadyForLoan,  # Item cannot be loaned (not circulating yet).
        "401652": ItemNotReadyForLoan,  # General Error (seen while the item is indexed).
        "40166411": ItemNotReadyForLoan,  # The parameter item_pid is invalid.
    },
    "get request": _REQUEST_GONE,
    "get user request": _REQUEST_GONE,
    "cancel item request": _REQUEST_GONE,
    "cancel title request": _REQUEST_GONE,
    "cancel user request": _REQUEST_GONE,
}
PER_SECOND_THRESHOLD = "PER_SECOND_THRESHOLD"
DAILY_THRESHOLD = "DAILY_THRESHOLD"


def parse_envelope(body: bytes, content_type: str | None) -> Envelope:
    """Read the first error from a JSON or XML error body; unknown shapes give empty fields."""
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return Envelope(None, None, None)
    if text.startswith("<"):
        return _parse_xml(text)
    try:
        data = json.loads(text)
    except ValueError:
        return Envelope(None, text[:200], None)
    return _parse_json(data)


def _parse_json(data: object) -> Envelope:
    if not isinstance(data, dict):
        return Envelope(None, None, None)
    errors = (data.get("errorList") or {}).get("error") if isinstance(data, dict) else None
    if isinstance(errors, dict):
        errors = [errors]
    if not isinstance(errors, list) or not errors or not isinstance(errors[0], dict):
        return Envelope(None, None, None)
    first = errors[0]

    def field(name: str) -> str | None:
        value = first.get(name)
        return None if value is None else str(value)

    return Envelope(field("errorCode"), field("errorMessage"), field("trackingId"))


def _parse_xml(text: str) -> Envelope:
    try:
        root = ET.fromstring(text)  # noqa: S314  (Alma's own response, not user input)
    except ET.ParseError:
        return Envelope(None, text[:200], None)

    def first(local_name: str) -> str | None:
        for element in root.iter():
            if element.tag.rsplit("}", 1)[-1] == local_name:
                return (element.text or "").strip() or None
        return None

    return Envelope(first("errorCode"), first("errorMessage"), first("trackingId"))


def error_class_for(http_status: int, envelope: Envelope, operation: str = "") -> type[AlmaFailure]:
    """Which typed error an Alma failure is: by errorCode first (in the light of the operation,
    e.g. ``"create loan"``), by HTTP status second."""
    code = envelope.error_code or ""
    if http_status == 429 or code in (PER_SECOND_THRESHOLD, DAILY_THRESHOLD):
        return QuotaExhausted if code == DAILY_THRESHOLD else RateLimited
    refusal = _REFUSALS_BY_OPERATION.get(operation, {}).get(code)
    if refusal is not None:
        return refusal
    if code in _NOT_FOUND_CODES:
        return _NOT_FOUND_CODES[code]
    return AlmaError
