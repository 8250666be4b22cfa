"""Alma's error envelope: the exception the state raises and its JSON and XML renderings.

Alma answers most logic errors with HTTP 400 (not 404) and a ``web_service_result``; thresholds
with 429. Messages below are copied from real responses where one was seen (see
``shared/research/alma-api.md`` §3.2); the few marked *unverified* are plausible stand-ins.
Error text never contains an API key.
"""

from __future__ import annotations

import random
from datetime import datetime
from xml.sax.saxutils import escape

_XMLNS = "http://com/exlibris/urm/general/xmlbeans"


class AlmaError(Exception):
    """A failure Alma reports with an error code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class TrackingIds:
    """Alma-style tracking ids (``E01-0402154647-KYU6N-AWAE1038667562``), seeded for replay."""

    _ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - ids for a fake, not for security

    def next(self, moment: datetime) -> str:
        """A new tracking id stamped with ``moment`` (day, month, hour, minute, second)."""
        stamp = moment.strftime("%d%m%H%M%S")
        word = "".join(self._rng.choice(self._ALPHABET) for _ in range(5))
        serial = self._rng.randrange(10**9, 10**10)
        return f"E01-{stamp}-{word}-AWAE{serial}"


def error_json(error: AlmaError, tracking_id: str) -> dict[str, object]:
    """The JSON envelope, as in ``ref:tulibraries-alma_rb__error.json``."""
    return {
        "errorsExist": True,
        "errorList": {
            "error": [
                {
                    "errorCode": error.code,
                    "errorMessage": error.message,
                    "trackingId": tracking_id,
                }
            ]
        },
        "result": None,
    }


def error_xml(error: AlmaError, tracking_id: str) -> str:
    """The XML ``web_service_result`` form, sent when the client asked for XML."""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<web_service_result xmlns="{_XMLNS}"><errorsExist>true</errorsExist><errorList>'
        f"<error><errorCode>{escape(error.code)}</errorCode>"
        f"<errorMessage>{escape(error.message)}</errorMessage>"
        f"<trackingId>{escape(tracking_id)}</trackingId></error>"
        "</errorList></web_service_result>"
    )


# --- the catalogue of errors the fake raises --------------------------------------------------


def unauthorized() -> AlmaError:
    """Gateway refusal of an unknown key (never echoes the key)."""
    return AlmaError("UNAUTHORIZED", "API-key not defined or not configured to allow this API.")


def per_second_threshold() -> AlmaError:
    """The exact body of pulibrary/bibdata's stub of a real per-second refusal."""
    return AlmaError(
        "PER_SECOND_THRESHOLD", "HTTP requests are more than allowed per second", status=429
    )


def daily_threshold() -> AlmaError:
    """Daily quota exhausted. The message text is *unverified* (no public fixture has it)."""
    return AlmaError("DAILY_THRESHOLD", "Daily API Request Threshold has been reached.", status=429)


def general_error(detail: str | None = None) -> AlmaError:
    """Alma's catch-all; ``detail`` is the fake's own explanation appended for humans."""
    message = "General Error - An error has occurred while processing the request."
    return AlmaError("401652", f"{message} {detail}" if detail else message)


def server_error() -> AlmaError:
    """An injected 500 in Alma's envelope."""
    return AlmaError(
        "401652", "General Error - An error has occurred while processing the request.", 500
    )


def no_items_for_barcode(barcode: str) -> AlmaError:
    """Item-by-barcode miss (verified)."""
    return AlmaError("401689", f"No items found for barcode {barcode}.")


def item_not_found(mms_id: str, holding_id: str, item_pid: str) -> AlmaError:
    """No such item under that bib/holding (verified message, discovery-app fixture)."""
    return AlmaError(
        "401683",
        f"No Item found for mmsId {mms_id}, holdings id {holding_id} and item id {item_pid}.",
    )


def items_search_failed(mms_id: str, holding_id: str) -> AlmaError:
    """Listing items of an unknown bib/holding (verified)."""
    return AlmaError(
        "401688", f"Search failed for Items with mmsId {mms_id}, holdings id {holding_id}."
    )


def invalid_mms_id(mms_id: str) -> AlmaError:
    """Unknown bib (verified)."""
    return AlmaError("402203", f"Input parameters mmsId {mms_id} is not valid.")


def invalid_holding_id(holding_id: str) -> AlmaError:
    """Unknown holding. Code and text are *unverified* (modelled on 402203)."""
    return AlmaError("402210", f"Input parameters holdingId {holding_id} is not valid.")


def user_not_found(user_id: str) -> AlmaError:
    """Unknown user (verified)."""
    return AlmaError("401861", f"User with identifier {user_id} was not found.")


def user_of_type_not_found(user_id: str, id_type: str) -> AlmaError:
    """Unknown user for a request (users/requests docs)."""
    return AlmaError("401890", f"User with identifier {user_id} of type {id_type} was not found.")


def linked_user_not_found(link_id: str, institution: str) -> AlmaError:
    """No copy of a source user here (users docs, code 4019990)."""
    return AlmaError(
        "4019990",
        f"User with source identifier {link_id} of institution {institution} was not found.",
    )


def linking_id_not_found(linking_id: str) -> AlmaError:
    """No user with that linking id (users docs, code 4019998)."""
    return AlmaError("4019998", f"User with linking ID {linking_id} not found.")


def source_user_not_found() -> AlmaError:
    """Creating a linked user whose source does not exist (research §0.2)."""
    return AlmaError("401861", "Source institution user with given identifier not found")


def linked_account_exists() -> AlmaError:
    """A copy of that source user already exists here (users docs, 60227)."""
    return AlmaError("60227", "Linked account for user already exists")


def refresh_failed(user_id: str) -> AlmaError:
    """Refreshing a user that is not a linked account (60229; text *unverified*)."""
    return AlmaError("60229", f"Failed to refresh user {user_id}: not a linked account.")


def no_items_can_fulfill() -> AlmaError:
    """Title request on a bib with no requestable item (verified)."""
    return AlmaError("401129", "No items can fulfill the submitted request.")


def duplicate_request() -> AlmaError:
    """Second active request of a user on one item without ``allow_same_request`` (verified)."""
    return AlmaError(
        "401136", "Failed to save the request: Patron has active request for selected item."
    )


def request_not_found(request_id: str) -> AlmaError:
    """Unknown request id. Code and text are *unverified*."""
    return AlmaError("401694", f"Request with ID {request_id} was not found.")


def invalid_item_pid(item_pid: str) -> AlmaError:
    """Scan of an unknown item (verified)."""
    return AlmaError("40166411", f"The parameter item_pid is invalid. Received: {item_pid}.")


def scan_missing_desk() -> AlmaError:
    """Scan without ``circ_desk`` or ``department`` (verified)."""
    return AlmaError(
        "40166415", "Must send at least one of the following parameters: [circ_desk,department]"
    )


def mandatory_field_missing(field: str) -> AlmaError:
    """A required field or parameter is absent (create-user docs wording)."""
    return AlmaError("401664", f"Mandatory field is missing: {field}")


def item_already_loaned() -> AlmaError:
    """Loan of an item that is already on loan (bodleian/almapy map, 400042)."""
    return AlmaError("400042", "Item is already loaned.")


def loan_not_found(loan_id: str) -> AlmaError:
    """Unknown loan (almapy map, 401823)."""
    return AlmaError("401823", f"Loan {loan_id} not found.")


def circ_desk_not_found(desk: str, library: str) -> AlmaError:
    """Unknown circulation desk at a library (verified wording, code 401895)."""
    return AlmaError(
        "401895",
        f"Pickup circulation desk with code {desk} and library code {library} was not found.",
    )


def item_on_loan_cannot_delete() -> AlmaError:
    """Delete of an item on loan without ``override=true``. Code and text are *unverified*."""
    return AlmaError(
        "401897", "Item is on loan. To delete it, use override=true to ignore the loan."
    )


def barcode_exists(barcode: str) -> AlmaError:
    """Creating or renaming an item onto a barcode in use. Code and text are *unverified*."""
    return AlmaError("401873", f"Item with barcode {barcode} already exists.")


def nz_record_not_found(nz_mms_id: str) -> AlmaError:
    """``from_nz_mms_id`` that the network zone does not hold. Code *unverified*."""
    return AlmaError("402203", f"Input parameters mmsId {nz_mms_id} is not valid.")


def nz_record_already_linked(nz_mms_id: str, mms_id: str) -> AlmaError:
    """The institution already has a bib linked to that NZ record. Code and text *unverified*."""
    return AlmaError(
        "402250", f"Network record {nz_mms_id} is already linked to local record {mms_id}."
    )


def not_in_network(institution: str) -> AlmaError:
    """``from_nz_mms_id`` in an institution that is not a network member (*unverified*)."""
    return AlmaError(
        "401652",
        "General Error - An error has occurred while processing the request. "
        f"Institution {institution} is not a member of a network zone.",
    )


def invalid_library(code: str) -> AlmaError:
    """Unknown library code. Code and text are *unverified*."""
    return AlmaError("402221", f"Library code {code} is not valid.")


def invalid_location(library: str, location: str) -> AlmaError:
    """Unknown location in a library. Code and text are *unverified*."""
    return AlmaError("402222", f"Location code {location} is not valid for library {library}.")


def course_not_found(course_id: str) -> AlmaError:
    """Unknown course. Code and text are *unverified*."""
    return AlmaError("401006", f"Course with ID {course_id} was not found.")


def invalid_parameter(name: str, value: str) -> AlmaError:
    """A malformed query parameter (limit, offset, format…). Code *unverified*."""
    return AlmaError("402204", f"Input parameter {name} has an invalid value: {value}.")


def bad_body(detail: str) -> AlmaError:
    """A body that cannot be parsed as the expected JSON or XML."""
    return general_error(f"The request body could not be read: {detail}")
