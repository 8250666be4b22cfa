"""A member request as the ledger keeps it, so that it can be forwarded without its file (R7, P2).

A request that waits for its item's mirror, or that failed on a transient Alma error, is retried
long after its request file was read: after the next items sync, or when an operator replays it.
`forwarded_requests.request_data` therefore holds the export's fields, plus the ledger id of the
file it came from, and this module turns that JSON back into the same request.

Rule P2: the patron's name, e-mail and postal address stay in Alma. Only the patron identifier
(the Alma user id the rules match on) is kept, with the names of the contact fields the export
gave (`withheld`), so that a later forwarding reads them again from the member's Alma
(`patron_contact`) to write the R5 comment SCF staff rely on.
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
PATRON_CONTACT_FIELDS = ("name", "email", "address")
"""The export's patron fields that P2 keeps out of the ledger."""
WITHHELD = "withheld"
"""The key, in the stored patron, listing the contact fields the export gave and P2 withheld."""


def request_to_json(request: RemoteStorageRequest, file_id: int | None) -> dict[str, JsonValue]:
    """The JSON stored with a request's ledger row: no patron name, e-mail or address (P2)."""
    data: dict[str, JsonValue] = {name: getattr(request, name) for name in _FIELDS}
    patron = request.patron
    if patron is None:
        data["patron"] = None
    else:
        withheld: list[JsonValue] = [
            name for name in PATRON_CONTACT_FIELDS if getattr(patron, name) is not None
        ]
        data["patron"] = {"identifier": patron.identifier, WITHHELD: withheld}
    data["file_id"] = file_id
    return data


def request_from_json(data: JsonObject) -> tuple[RemoteStorageRequest, int | None]:
    """The request and its file id back from a ledger row's `request_data`.

    The patron keeps its identifier only: `withheld_contact` says which contact fields to read
    again from Alma before the request is forwarded.
    """
    values = {name: _text(data.get(name)) for name in _FIELDS}
    patron_data = data.get("patron")
    patron = (
        PatronInfo(identifier=_text(patron_data.get("identifier")))
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


def withheld_contact(data: JsonObject) -> tuple[str, ...]:
    """The patron contact fields the export gave and the ledger did not keep (P2).

    A row written before P2 (with the fields themselves) counts as having withheld each field
    it held: revision 0005 removes them.
    """
    patron = data.get("patron")
    if not isinstance(patron, dict):
        return ()
    listed = patron.get(WITHHELD)
    if isinstance(listed, list):
        return tuple(name for name in PATRON_CONTACT_FIELDS if name in listed)
    return tuple(name for name in PATRON_CONTACT_FIELDS if patron.get(name) is not None)


def _text(value: JsonValue | None) -> str | None:
    return value if isinstance(value, str) else None
