"""Rule P2 (with W5's never-raise): the body the inbox keeps of a verified webhook."""

from __future__ import annotations

import json
from typing import Any

from domain.scf.webhooks import (
    MAX_NESTING,
    TOO_DEEP_BODY,
    LoanReturned,
    Rejected,
    Skipped,
    classify_webhook,
    inbox_body,
)

from .samples import CONSORTIUM, SCF, fixture_json

LOAN_RETURNED_BODY = "lulibrary-alma-webhook-handler__loan_returned_event.body.json"


def _loan_returned_with_patron_data() -> dict[str, Any]:
    document: dict[str, Any] = fixture_json(LOAN_RETURNED_BODY)
    document["institution"]["value"] = SCF
    loan = document["item_loan"]
    loan["item_barcode"] = "31234000123456X"
    loan["user_full_name"] = "Doe, Jane"
    loan["contact_info"] = {"email": [{"email_address": "jd@example.edu"}]}
    document["notes"] = [{"phone": "555-0100", "kept": "yes"}, ["x", {"last_name": "Doe"}]]
    return document


def test_P2_patron_keys_are_dropped_wherever_they_are_even_inside_lists() -> None:
    # rule P2: the inbox holds no patron name, e-mail, postal address or phone.
    document = _loan_returned_with_patron_data()
    raw = json.dumps(document).encode()
    kept = inbox_body(raw)
    for word in (b"Doe", b"Jane", b"jd@example.edu", b"555-0100"):
        assert word in raw
        assert word not in kept
    scrubbed = json.loads(kept)
    assert scrubbed["notes"] == [{"kept": "yes"}, ["x", {}]]
    assert "user_full_name" not in scrubbed["item_loan"]
    assert "contact_info" not in scrubbed["item_loan"]
    # rule P2 with W5: the event read from the kept body is the one the raw body asked for.
    event = classify_webhook(kept, CONSORTIUM)
    assert isinstance(event, LoanReturned)
    assert event == classify_webhook(raw, CONSORTIUM)


def _deepest_decodable_nesting() -> int:
    """The deepest ``[[…]]`` the JSON decoder takes here.

    Searched rather than assumed: it depends on the Python version and the stack the test runs on.
    On 3.11 the decoder spends one level of the recursion limit per bracket and the scrubber two
    (its frame and its list comprehension's); later versions give the decoder its own, deeper
    limit. Either way 9/10 of it decodes, and is deeper than the scrubber can walk.
    """
    low, high = 1, 1 << 16
    while low < high:
        middle = (low + high + 1) // 2
        try:
            json.loads("[" * middle + "]" * middle)
        except RecursionError:
            high = middle - 1
        else:
            low = middle
    return low


def test_P2_a_body_nested_deeper_than_any_alma_webhook_is_neither_kept_nor_acted_on() -> None:
    # rules P2 and W5: a body deeper than MAX_NESTING could hide a patron's data below where the
    # scrubber looks; the inbox keeps a note instead of it, and both bodies are rejected.
    depth = _deepest_decodable_nesting() * 9 // 10
    patron = b'"item_loan": {"user_full_name": "Jane Doe"}'
    raw = b'{"id": "1", "action": "LOAN", ' + patron + b', "deep": '
    raw += b"[" * depth + b"]" * depth + b"}"
    assert json.loads(raw)["action"] == "LOAN"  # the decoder takes it
    kept = inbox_body(raw)
    assert kept == TOO_DEEP_BODY
    assert b"Jane" not in kept
    assert classify_webhook(raw, CONSORTIUM) == Rejected(
        f"body nested deeper than {MAX_NESTING} levels: not an Alma webhook"
    )


def test_P2_a_body_just_within_the_nesting_limit_is_classified_as_usual() -> None:
    # rule W5: the limit only refuses what no Alma body is; one level less is read as ever.
    inner = b"[" * (MAX_NESTING - 1) + b"]" * (MAX_NESTING - 1)
    raw = b'{"id": "1", "action": "ITEM", "deep": ' + inner + b"}"
    assert inbox_body(raw) is raw
    assert classify_webhook(raw, CONSORTIUM) == Skipped(
        "action ITEM is not handled", "1", "ITEM", None
    )
