"""A member request as the ledger keeps it, so that it can be forwarded without its file (R7).

A request that waits for its item's mirror, or that failed on a transient Alma error, is retried
long after its request file was read: after the next items sync, or when an operator replays it.
`forwarded_requests.request_data` therefore holds every field the export gave, plus the ledger id
of the file it came from, and this module turns that JSON back into the same request.
"""

from __future__ import annotations

from application.shared.ledger_records import JsonObject, JsonValue
from domain.scf.requests.routing import PatronInfo, RemoteStorageRequest

_FIELDS = (
    "request_id",
    "request_type",
    "barcode",
    "mms_id",
    "description",
    "institution_code",
    "pickup_library_name",
    "library_code",
    "request_note",
)
_PATRON_FIELDS = ("name", "identifier", "email", "address")


def request_to_json(request: RemoteStorageRequest, file_id: int | None) -> dict[str, JsonValue]:
    """The JSON stored with a request's ledger row."""
    data: dict[str, JsonValue] = {name: getattr(request, name) for name in _FIELDS}
    patron = request.patron
    data["patron"] = (
        None if patron is None else {name: getattr(patron, name) for name in _PATRON_FIELDS}
    )
    data["file_id"] = file_id
    return data


def request_from_json(data: JsonObject) -> tuple[RemoteStorageRequest, int | None]:
    """The request and its file id back from a ledger row's `request_data`."""
    values = {name: _text(data.get(name)) for name in _FIELDS}
    patron_data = data.get("patron")
    patron = (
        PatronInfo(**{name: _text(patron_data.get(name)) for name in _PATRON_FIELDS})
        if isinstance(patron_data, dict)
        else None
    )
    file_id = data.get("file_id")
    request = RemoteStorageRequest(
        request_id=values.pop("request_id") or "",
        request_type=values.pop("request_type") or "",
        patron=patron,
        **values,
    )
    return request, file_id if isinstance(file_id, int) else None


def _text(value: JsonValue | None) -> str | None:
    return value if isinstance(value, str) else None
